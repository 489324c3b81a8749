import Foundation
import SystemdNotify
import Testing

/// A datagram socket standing in for systemd's notify socket.
final class FakeSystemd {
    let fd: Int32
    let address: String

    init(abstract: Bool) throws {
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        let name = "prostudio-test-\(UUID().uuidString.prefix(8))"
        address = abstract ? "@" + name : NSTemporaryDirectory() + name + ".sock"
        var sa = sockaddr_un()
        sa.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(address.utf8)
        if abstract { bytes[0] = 0 }
        withUnsafeMutableBytes(of: &sa.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout.offset(of: \sockaddr_un.sun_path)! + bytes.count + (abstract ? 0 : 1))
        let rc = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        try #require(rc == 0)
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    func receive() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buffer, buffer.count, 0)
        return n > 0 ? String(decoding: buffer[..<n], as: UTF8.self) : nil
    }

    deinit {
        close(fd)
        if !address.hasPrefix("@") { unlink(address) }
    }
}

@Suite struct SDNotifyTests {
    @Test(arguments: [false, true]) func messagesReachTheSocket(abstract: Bool) throws {
        let systemd = try FakeSystemd(abstract: abstract)
        let notifier = SDNotifier(socketPath: systemd.address)
        try notifier.ready(status: "watching /var/lib/prostudio/inbox")
        #expect(systemd.receive() == "READY=1\nSTATUS=watching /var/lib/prostudio/inbox")
        try notifier.status("job abc: speech 40%")
        #expect(systemd.receive() == "STATUS=job abc: speech 40%")
        try notifier.watchdog()
        #expect(systemd.receive() == "WATCHDOG=1")
        try notifier.stopping()
        #expect(systemd.receive() == "STOPPING=1")
    }

    @Test func withoutASocketNothingIsSent() throws {
        #expect(try SDNotifier(socketPath: nil).notify("READY=1") == false)
        #expect(try SDNotifier(socketPath: "").notify("READY=1") == false)
    }

    @Test func aMissingSocketIsAnError() {
        #expect(throws: SDNotifier.Failure.self) { try SDNotifier(socketPath: "/nonexistent/notify.sock").ready() }
    }

    @Test func watchdogInterval() {
        #expect(SDNotifier.watchdogInterval(environment: [:]) == nil)
        #expect(SDNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "30000000"], pid: 42) == .seconds(15))
        #expect(SDNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "42"], pid: 42) == .seconds(15))
        #expect(SDNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "7"], pid: 42) == nil)
    }
}
