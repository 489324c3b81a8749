import CInotify
import Foundation
import Logging
import Synchronization

/// Watches an inbox folder with raw inotify and reports complete arrivals on `arrivals`.
///
/// Raw inotify (not libinotifytools): libinotifytools keeps process-wide global state (one watch table per
/// process), which rules out two watchers in one process (tests, the request bell) and hides the event
/// stream behind its own queue; the raw API is a few syscalls and gives the same events.
///
/// Rules:
/// - a manifest renamed in (IN_MOVED_TO) is complete at once;
/// - a manifest closed after writing (IN_CLOSE_WRITE) is a hint: it is taken when its size, mtime and inode
///   stayed the same for `settle` and no write came meanwhile (a writer killed mid-file also closes it);
/// - a folder renamed in is complete at once; a folder created in place is watched (recursively) and taken
///   when it has a manifest, no file in it is half-written, and nothing changed in it for `settle`;
/// - hidden and temp names (`*.tmp`, `*.part`) are ignored;
/// - entries present at start are taken too: the watch is added before the scan, and one table of pending
///   names de-duplicates the two; an inotify queue overflow triggers the same rescan.
///
/// The blocking `poll`/`read` loop runs on its own `Thread`; it sleeps in `poll` until an event or the next
/// settle deadline, never on a timer.
public final class InboxWatcher: Sendable {
    public struct Options: Sendable {
        /// How long an entry must stay unchanged after its last write before it is taken.
        public var settle: Duration
        public init(settle: Duration = .milliseconds(500)) { self.settle = settle }
    }

    public enum Failure: Error, CustomStringConvertible {
        case notAFolder(String)
        /// A folder other than the inbox (a footage library).
        case noFolder(String)
        case syscall(String, path: String, errno: Int32)
        public var description: String {
            switch self {
            case .notAFolder(let p): "inbox \(p) is not a folder"
            case .noFolder(let p): "there is no folder at \(p)"
            case .syscall(let call, let p, let e): "\(call) \(p): \(String(cString: strerror(e)))"
            }
        }
    }

    public let inbox: String
    public let arrivals: AsyncStream<Arrival>
    private let wake: WakeFD

    public init(inbox: String, options: Options = Options(), logger: Logger = Logger(label: "prostudio.watcher")) throws {
        let inbox = (inbox as NSString).standardizingPath
        var st = stat()
        guard stat(inbox, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else { throw Failure.notAFolder(inbox) }
        let ifd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard ifd >= 0 else { throw Failure.syscall("inotify_init1", path: inbox, errno: errno) }
        let efd = cinotify_eventfd()
        guard efd >= 0 else { let e = errno; close(ifd); throw Failure.syscall("eventfd", path: inbox, errno: e) }
        // The watch exists before the start-up scan runs, so nothing that lands in between is missed.
        let wd = inotify_add_watch(ifd, inbox, Loop.mask)
        guard wd >= 0 else { let e = errno; close(ifd); close(efd); throw Failure.syscall("inotify_add_watch", path: inbox, errno: e) }

        self.inbox = inbox
        let wake = WakeFD(efd)
        self.wake = wake
        let (stream, continuation) = AsyncStream<Arrival>.makeStream()
        self.arrivals = stream

        let settleNanos = UInt64(options.settle.components.seconds) * 1_000_000_000
            + UInt64(options.settle.components.attoseconds / 1_000_000_000)
        let thread = Thread {
            let loop = Loop(inbox: inbox, inotifyFD: ifd, rootWD: wd, wakeFD: efd, settleNanos: settleNanos,
                            continuation: continuation, logger: logger)
            loop.run()
            wake.close()
            close(ifd)
            continuation.finish()
        }
        thread.name = "prostudio.inbox-watcher"
        thread.start()
        continuation.onTermination = { _ in wake.ring() }
    }

    /// Stops watching; `arrivals` finishes. Safe to call more than once, from anywhere.
    public func stop() {
        wake.ring()
    }

    deinit { stop() }
}

/// The eventfd that wakes the loop to stop; -1 once the loop closed it. Guarded so that a late `ring()`
/// never writes to a descriptor number the loop already closed (and the process may have reused).
final class WakeFD: Sendable {
    private let fd: Mutex<Int32>
    init(_ fd: Int32) { self.fd = Mutex(fd) }
    func ring() { fd.withLock { if $0 >= 0 { _ = cinotify_eventfd_ring($0) } } }
    func close() { fd.withLock { if $0 >= 0 { _ = Glibc.close($0); $0 = -1 } } }
}
