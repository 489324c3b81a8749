import CInotify
import Foundation
import Logging

/// Rings (yields) each time a named file in a folder is closed after writing or touched: how the CLI wakes
/// the daemon after inserting a request into the journal (`requests.bell` beside it). Rings that come while the
/// previous one is unhandled merge into one.
public final class FileBell: Sendable {
    public let rings: AsyncStream<Void>
    private let loop: InotifyLoop

    /// `onGone` is called once should the folder itself, or a file in it named in `guarding`, be removed or renamed (the
    /// daemon's state folder: its journal and lock must not vanish under it).
    public init(folder: String, name: String, guarding: Set<String> = [], onGone: (@Sendable (String) -> Void)? = nil,
                logger: Logger = Logger(label: "prostudio.bell")) throws {
        let loop = try InotifyLoop(path: folder)
        var mask = UInt32(IN_CLOSE_WRITE | IN_ATTRIB | IN_MOVED_TO | IN_ONLYDIR)
        if onGone != nil { mask |= UInt32(IN_DELETE_SELF | IN_MOVE_SELF | IN_DELETE | IN_MOVED_FROM) }
        _ = try loop.watchOrClose(folder, mask: mask)
        self.loop = loop
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        rings = stream
        loop.start(name: "prostudio.request-bell", { loop in
            var gone: String?
            var rang = false
            _ = loop.run(timeoutMillis: { -1 }, onEvent: { event in
                if event.name == name || event.has(IN_Q_OVERFLOW) { rang = true }
                guard gone == nil else { return }
                if event.has(IN_DELETE_SELF) || event.has(IN_MOVE_SELF) || event.has(IN_IGNORED) {
                    gone = "\(folder) was " + (event.has(IN_MOVE_SELF) ? "renamed" : "removed")
                } else if guarding.contains(event.name), event.has(IN_DELETE) || event.has(IN_MOVED_FROM) {
                    gone = "\(folder)/\(event.name) was " + (event.has(IN_DELETE) ? "removed" : "renamed")
                }
                if let gone { onGone?(gone) }
            }, afterWake: { _ in
                if rang { continuation.yield() }
                rang = false
                return true
            })
        }, finished: { continuation.finish() })
        continuation.onTermination = { _ in loop.stop() }
    }

    public func stop() { loop.stop() }
    deinit { stop() }
}
