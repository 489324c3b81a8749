import CInotify
import Foundation
import Logging

/// Rings (yields) each time a named file in a folder is closed after writing or touched: how the CLI wakes
/// the daemon after inserting a request into the journal (`requests.bell` beside it). Raw inotify on its own
/// thread, like `InboxWatcher`; rings that come while the previous one is unhandled merge into one.
public final class FileBell: Sendable {
    public let rings: AsyncStream<Void>
    private let wake: WakeFD

    /// `onGone` is called once should the folder itself, or a file in it named in `guarding`, be removed or renamed (the
    /// daemon's state folder: its journal and lock must not vanish under it).
    public init(folder: String, name: String, guarding: Set<String> = [], onGone: (@Sendable (String) -> Void)? = nil,
                logger: Logger = Logger(label: "prostudio.bell")) throws {
        let ifd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard ifd >= 0 else { throw InboxWatcher.Failure.syscall("inotify_init1", path: folder, errno: errno) }
        let efd = cinotify_eventfd()
        guard efd >= 0 else { let e = errno; close(ifd); throw InboxWatcher.Failure.syscall("eventfd", path: folder, errno: e) }
        var mask = UInt32(IN_CLOSE_WRITE | IN_ATTRIB | IN_MOVED_TO | IN_ONLYDIR)
        if onGone != nil { mask |= UInt32(IN_DELETE_SELF | IN_MOVE_SELF | IN_DELETE | IN_MOVED_FROM) }
        guard inotify_add_watch(ifd, folder, mask) >= 0 else {
            let e = errno; close(ifd); close(efd)
            throw InboxWatcher.Failure.syscall("inotify_add_watch", path: folder, errno: e)
        }
        let wake = WakeFD(efd)
        self.wake = wake
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        rings = stream
        let thread = Thread {
            let size = 4096
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 8)
            defer { buffer.deallocate() }
            var fds = [pollfd(fd: ifd, events: Int16(POLLIN), revents: 0), pollfd(fd: efd, events: Int16(POLLIN), revents: 0)]
            var gone: String?
            loop: while true {
                fds[0].revents = 0; fds[1].revents = 0
                if poll(&fds, 2, -1) < 0 { if errno == EINTR { continue }; break }
                if fds[1].revents != 0 { break }
                var rang = false
                while true {
                    let n = read(ifd, buffer, size)
                    if n <= 0 { break }
                    var offset = 0
                    while offset + MemoryLayout<inotify_event>.size <= n {
                        let event = buffer.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
                        let eventName = String(cString: cinotify_event_name((buffer + offset).assumingMemoryBound(to: inotify_event.self)))
                        offset += MemoryLayout<inotify_event>.size + Int(event.len)
                        if eventName == name || event.mask & UInt32(IN_Q_OVERFLOW) != 0 { rang = true }
                        if gone == nil {
                            if event.mask & UInt32(IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED) != 0 {
                                gone = "\(folder) was " + (event.mask & UInt32(IN_MOVE_SELF) != 0 ? "renamed" : "removed")
                            } else if guarding.contains(eventName), event.mask & UInt32(IN_DELETE | IN_MOVED_FROM) != 0 {
                                gone = "\(folder)/\(eventName) was " + (event.mask & UInt32(IN_DELETE) != 0 ? "removed" : "renamed")
                            }
                            if let gone { onGone?(gone) }
                        }
                    }
                }
                if rang { continuation.yield() }
            }
            wake.close()
            close(ifd)
            continuation.finish()
        }
        thread.name = "prostudio.request-bell"
        thread.start()
        continuation.onTermination = { _ in wake.ring() }
    }

    public func stop() { wake.ring() }
    deinit { stop() }
}
