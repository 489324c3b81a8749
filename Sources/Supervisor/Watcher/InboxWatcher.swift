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
/// The state machine (`Loop`) runs on `InotifyLoop`'s thread; it sleeps in `poll` until an event or the next
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
    private let loop: InotifyLoop

    public init(inbox: String, options: Options = Options(), logger: Logger = Logger(label: "prostudio.watcher")) throws {
        let inbox = (inbox as NSString).standardizingPath
        var st = stat()
        guard stat(inbox, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else { throw Failure.notAFolder(inbox) }
        let loop = try InotifyLoop(path: inbox)
        // The watch exists before the start-up scan runs, so nothing that lands in between is missed.
        let wd = try loop.watchOrClose(inbox, mask: Loop.mask)

        self.inbox = inbox
        self.loop = loop
        let (stream, continuation) = AsyncStream<Arrival>.makeStream()
        self.arrivals = stream

        let settleNanos = UInt64(options.settle.components.seconds) * 1_000_000_000
            + UInt64(options.settle.components.attoseconds / 1_000_000_000)
        loop.start(name: "prostudio.inbox-watcher", { loop in
            Loop(inbox: inbox, inotify: loop, rootWD: wd, settleNanos: settleNanos, continuation: continuation, logger: logger).run()
        }, finished: { continuation.finish() })
        continuation.onTermination = { _ in loop.stop() }
    }

    /// Stops watching; `arrivals` finishes. Safe to call more than once, from anywhere.
    public func stop() {
        loop.stop()
    }

    deinit { stop() }
}
