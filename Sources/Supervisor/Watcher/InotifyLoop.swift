import CInotify
import Foundation
import Synchronization

/// The one inotify loop under the three watchers (the inbox's `InboxWatcher`, the request `FileBell`, the footage
/// libraries' `TreeWatcher`): an inotify descriptor, the eventfd that stops it, and a thread asleep in `poll` until an
/// event, the watcher's next deadline or `stop()`. Never a timer: idle costs no CPU.
final class InotifyLoop: Sendable {
    struct Event {
        let wd: Int32
        let mask: UInt32
        /// The name in the watched folder; "" when the event is about the folder itself.
        let name: String
        func has(_ flag: Int32) -> Bool { mask & UInt32(bitPattern: flag) != 0 }
    }

    /// The inotify descriptor, for `inotify_add_watch` / `inotify_rm_watch`; valid until the thread ends.
    let fd: Int32
    private let wake: WakeFD
    private let wakeFD: Int32

    /// `path` names the folder in errors.
    init(path: String) throws(InboxWatcher.Failure) {
        let ifd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard ifd >= 0 else { throw .syscall("inotify_init1", path: path, errno: errno) }
        let efd = cinotify_eventfd()
        guard efd >= 0 else { let e = errno; close(ifd); throw .syscall("eventfd", path: path, errno: e) }
        fd = ifd; wakeFD = efd; wake = WakeFD(efd)
    }

    /// Adds a watch; on failure the descriptors are closed (the loop never started) and the error names `path`.
    func watchOrClose(_ path: String, mask: UInt32) throws(InboxWatcher.Failure) -> Int32 {
        let wd = inotify_add_watch(fd, path, mask)
        guard wd >= 0 else { let e = errno; discard(); throw .syscall("inotify_add_watch", path: path, errno: e) }
        return wd
    }

    /// Runs `body` on a thread named `name`; when it returns the descriptors are closed and `finished` runs.
    func start(name: String, _ body: @escaping @Sendable (InotifyLoop) -> Void, finished: @escaping @Sendable () -> Void) {
        let thread = Thread { [self] in
            body(self)
            discard()
            finished()
        }
        thread.name = name
        thread.start()
    }

    /// Ends the loop (its thread closes the descriptors). Safe to call more than once, from anywhere.
    func stop() { wake.ring() }

    /// Closes the descriptors: by the thread when its loop ends, or by a watcher whose set-up failed before `start`.
    func discard() {
        wake.close()
        close(fd)
    }

    /// The loop, on the calling thread: sleeps `timeoutMillis()` (-1: until an event), hands each event to `onEvent`,
    /// then calls `afterWake(timedOut)`, which returns false to end. Returns nil when stopped, or poll's errno.
    func run(bufferSize: Int = 64 * 1024, timeoutMillis: () -> Int32, onEvent: (Event) -> Void,
             afterWake: (_ timedOut: Bool) -> Bool) -> Int32? {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: bufferSize, alignment: 8)
        defer { buffer.deallocate() }
        let header = MemoryLayout<inotify_event>.size
        var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)]
        while true {
            fds[0].revents = 0; fds[1].revents = 0
            let n = poll(&fds, 2, timeoutMillis())
            if n < 0 { if errno == EINTR { continue }; return errno }
            if fds[1].revents != 0 { return nil }
            if fds[0].revents != 0 {
                // Read until EAGAIN: one wake-up may hold more than a buffer of events.
                while true {
                    let got = read(fd, buffer, bufferSize)
                    if got <= 0 { break }
                    var offset = 0
                    while offset + header <= got {
                        let raw = buffer.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
                        let name = String(cString: cinotify_event_name((buffer + offset).assumingMemoryBound(to: inotify_event.self)))
                        offset += header + Int(raw.len)
                        onEvent(Event(wd: raw.wd, mask: raw.mask, name: name))
                    }
                }
            }
            if !afterWake(n == 0) { return nil }
        }
    }
}

/// The eventfd that wakes the loop to stop; -1 once the loop closed it. Guarded so that a late `ring()`
/// never writes to a descriptor number the loop already closed (and the process may have reused).
final class WakeFD: Sendable {
    private let fd: Mutex<Int32>
    init(_ fd: Int32) { self.fd = Mutex(fd) }
    func ring() { fd.withLock { if $0 >= 0 { _ = cinotify_eventfd_ring($0) } } }
    func close() { fd.withLock { if $0 >= 0 { _ = Glibc.close($0); $0 = -1 } } }
}
