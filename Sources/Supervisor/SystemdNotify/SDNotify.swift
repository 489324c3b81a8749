import Foundation

/// systemd's notify protocol, by hand (no libsystemd): one datagram per message to `$NOTIFY_SOCKET`,
/// a path, or a leading `@` for the abstract namespace. Without a socket every call is a no-op, so the
/// daemon runs the same outside systemd.
public struct SDNotifier: Sendable {
    /// The socket address as systemd gave it; nil when not run by systemd with Type=notify.
    public let socketPath: String?

    public init(socketPath: String?) {
        self.socketPath = (socketPath?.isEmpty ?? true) ? nil : socketPath
    }

    /// From `$NOTIFY_SOCKET`.
    public static func fromEnvironment() -> SDNotifier {
        SDNotifier(socketPath: ProcessInfo.processInfo.environment["NOTIFY_SOCKET"])
    }

    public enum Failure: Error, CustomStringConvertible {
        case pathTooLong(String)
        case syscall(String, errno: Int32)
        public var description: String {
            switch self {
            case .pathTooLong(let p): "NOTIFY_SOCKET path too long: \(p)"
            case .syscall(let call, let e): "sd_notify \(call): \(String(cString: strerror(e)))"
            }
        }
    }

    /// Sends `message` (newline-separated `KEY=VALUE` lines). Returns false when there is no socket.
    @discardableResult
    public func notify(_ message: String) throws -> Bool {
        guard let path = socketPath else { return false }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        let abstract = bytes.first == UInt8(ascii: "@")
        if abstract { bytes[0] = 0 }  // abstract namespace: a leading NUL, no terminator
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else { throw Failure.pathTooLong(path) }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            if !abstract { raw[bytes.count] = 0 }
        }
        let length = socklen_t(MemoryLayout.offset(of: \sockaddr_un.sun_path)! + bytes.count + (abstract ? 0 : 1))

        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure.syscall("socket", errno: errno) }
        defer { close(fd) }
        let payload = Array(message.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                payload.withUnsafeBytes { sendto(fd, $0.baseAddress, payload.count, Int32(MSG_NOSIGNAL), sa, length) }
            }
        }
        guard sent == payload.count else { throw Failure.syscall("sendto", errno: errno) }
        return true
    }

    /// Start-up done: systemd considers the unit started.
    public func ready(status: String? = nil) throws { try notify("READY=1" + (status.map { "\nSTATUS=\($0)" } ?? "")) }
    /// A one-line status shown by `systemctl status`.
    public func status(_ text: String) throws { try notify("STATUS=\(text.replacingOccurrences(of: "\n", with: " "))") }
    /// Keep-alive for WatchdogSec=.
    public func watchdog() throws { try notify("WATCHDOG=1") }
    /// Shutdown has begun.
    public func stopping(status: String? = nil) throws { try notify("STOPPING=1" + (status.map { "\nSTATUS=\($0)" } ?? "")) }

    /// How often to send WATCHDOG=1: half of `$WATCHDOG_USEC`, when it is set for this process (`$WATCHDOG_PID`
    /// absent or ours); nil when the watchdog is off.
    public static func watchdogInterval(environment: [String: String] = ProcessInfo.processInfo.environment,
                                        pid: Int32 = getpid()) -> Duration? {
        guard let text = environment["WATCHDOG_USEC"], let usec = UInt64(text), usec > 0 else { return nil }
        if let owner = environment["WATCHDOG_PID"], Int32(owner) != pid { return nil }
        return .microseconds(Int64(usec / 2))
    }
}
