import Daemon
import Foundation
import Journal
import Testing
import TestSupport

/// A real HTTP receiver with misbehaviours, by path: `/hang` reads the request and never answers, `/redirect?to=URL`
/// answers 302 to URL, `/big` answers 200 with a 1 GiB body streamed 1 MiB at a time (never held), anything else
/// 200. Python's ThreadingHTTPServer on a free loopback port; every request is logged (path, body length) before it
/// is answered.
final class HookServer: Sendable {
    static let script = #"""
    import json, os, sys, time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    port_file, log_file = sys.argv[1], sys.argv[2]
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with open(log_file, "a") as f:
                f.write(json.dumps({"path": self.path, "length": len(body)}) + "\n")
            try:
                if self.path.startswith("/hang"):
                    time.sleep(600)
                elif self.path.startswith("/redirect"):
                    self.send_response(302)
                    self.send_header("Location", self.path.split("to=", 1)[1])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif self.path.startswith("/big"):
                    self.send_response(200)
                    self.send_header("Content-Length", str(1 << 30))
                    self.end_headers()
                    chunk = b"x" * (1 << 20)
                    for _ in range(1 << 10):
                        self.wfile.write(chunk)
                else:
                    self.send_response(200)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
            except (BrokenPipeError, ConnectionResetError):
                pass
        def log_message(self, *a): pass
    ThreadingHTTPServer.daemon_threads = True
    server = ThreadingHTTPServer(("127.0.0.1", 0), H)
    with open(port_file + ".tmp", "w") as f: f.write(str(server.server_address[1]))
    os.rename(port_file + ".tmp", port_file)
    server.serve_forever()
    """#

    let server: PythonServer
    let log: String
    var port: Int { server.port }

    init(root: String, name: String) async throws {
        log = root + "/\(name).log"
        server = try await PythonServer(script: Self.script, in: root, name: name, arguments: [log])
    }

    func url(_ path: String, host: String = "127.0.0.1") -> String { "http://\(host):\(port)\(path)" }

    var paths: [String] {
        ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["path"] as? String
        }
    }

    func stop() { server.stop() }
}

/// The job's one delivery once it is no longer pending (or whatever it is at the deadline).
func settledDelivery(_ f: Folders, _ job: JobID, timeout: Duration = .seconds(60)) async throws -> Delivery? {
    let client = try JournalClient(path: f.journal)
    let deadline = ContinuousClock.now + timeout
    var last: Delivery?
    while ContinuousClock.now < deadline {
        last = try await client.deliveries(of: job).first
        if let d = last, d.state != .pending { return d }
        try await Task.sleep(for: .milliseconds(50))
    }
    return last
}

/// Runs `prostudio-notify` as the daemon does (body on stdin) and returns its answer line and its peak RSS in KiB
/// (`ru_maxrss` of this one child, from wait4: the kernel's own high-water mark, VmHWM, as the child exits).
func runNotifier(_ arguments: [String], body: Data) throws -> (answer: String, peakKiB: Int) {
    let dir = NSTemporaryDirectory() + "notify-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try body.write(to: URL(fileURLWithPath: dir + "/in"))
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, dir + "/in", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, dir + "/out", O_WRONLY | O_CREAT, 0o600)
    let executable = prostudioBinary.replacingOccurrences(of: "/prostudio", with: "/prostudio-notify", options: .backwards)
    var cArgs = ([executable] + arguments).map { strdup($0) } + [nil]
    defer { for p in cArgs { free(p) } }
    var pid: pid_t = 0
    guard posix_spawn(&pid, executable, &actions, nil, &cArgs, environ) == 0 else { throw Receiver.ReceiverError(message: "cannot spawn \(executable)") }
    // The notifier's own peak (VmHWM), sampled while it runs: wait4's ru_maxrss would count this test process's memory
    // too, since posix_spawn's child shares it until exec and exec keeps that high-water mark.
    var status: Int32 = 0
    var peak = 0
    while true {
        let done = waitpid(pid, &status, WNOHANG)
        if done == pid || (done < 0 && errno != EINTR) { break }
        if let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
           let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
           let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") {
            peak = max(peak, kib)
        }
        usleep(1_000)
    }
    return (try String(contentsOfFile: dir + "/out", encoding: .utf8), peak)
}

@Suite(.serialized) struct WebhookClientTests {
    /// Deliveries to different receivers run side by side: while one receiver holds an attempt open without answering,
    /// another receiver's message is delivered; and the held attempt ends at the documented 10 s, not later.
    @Test func aHungReceiverDoesNotHoldUpAnotherReceiver() async throws {
        let f = Folders()
        let hung = try await HookServer(root: f.root, name: "hung")
        let fine = try await HookServer(root: f.root, name: "fine")
        defer { hung.stop(); fine.stop() }
        var config = f.config
        config.notify = NotifySettings(url: hung.url("/hang"), secret: "s")
        config.notifyBackoff = .seconds(60)
        config.notifyAllowPrivate = true  // the other receiver is a job's URL on loopback
        let daemon = Daemon(config: config)
        let running = Task { try await daemon.run(handleSignals: false) }

        f.drop("stuck.yaml", "title: Stuck\nscenes: 3\n")
        let stuck = try #require(try await waitFor(f) { $0.name == "stuck" && $0.state.isFinal })
        #expect(try await eventually { hung.paths.count == 1 })
        f.drop("quick.yaml", "title: Quick\nnotify: {url: \"\(fine.url("/ok"))\", secret: s}\nscenes: 3\n")
        let quick = try #require(try await waitFor(f) { $0.name == "quick" && $0.state.isFinal })
        let delivered = try #require(try await settledDelivery(f, quick.id))
        #expect(delivered.state == .delivered)
        // Delivered while the hung receiver's first attempt was still open.
        let client = try JournalClient(path: f.journal)
        let held = try #require(try await client.deliveries(of: stuck.id).first)
        #expect(held.attempts == 0, "the other receiver waited for the hung one")

        // The documented time-out bounds the whole attempt.
        var attempts: [DeliveryAttempt] = []
        let deadline = ContinuousClock.now + .seconds(40)
        while ContinuousClock.now < deadline && attempts.isEmpty {
            attempts = try await client.deliveryAttempts(of: held.id)
            try await Task.sleep(for: .milliseconds(100))
        }
        let first = try #require(attempts.first)
        #expect(first.status == nil && first.seconds < 13, "\(first)")
        daemon.shutdown()
        try await running.value
    }

    /// A 302 is the receiver's answer, not an address to go on to: the attempt fails and the target of the redirect
    /// (another port) hears nothing.
    @Test func aRedirectIsAFailedAttemptAndIsNotFollowed() async throws {
        let f = Folders()
        let redirecting = try await HookServer(root: f.root, name: "redirecting")
        let elsewhere = try await HookServer(root: f.root, name: "elsewhere")
        defer { redirecting.stop(); elsewhere.stop() }
        var config = f.config
        config.notify = NotifySettings(url: redirecting.url("/redirect?to=" + elsewhere.url("/stolen")), secret: "s")
        config.notifyBackoff = .milliseconds(100)
        config.notifyMaxAttempts = 2
        let daemon = Daemon(config: config)
        let running = Task { try await daemon.run(handleSignals: false) }
        f.drop("moved.yaml", "title: Moved\nscenes: 3\n")
        let job = try #require(try await waitFor(f) { $0.name == "moved" && $0.state.isFinal })
        let d = try #require(try await settledDelivery(f, job.id))
        #expect(d.state == .failed)
        let attempts = try await JournalClient(path: f.journal).deliveryAttempts(of: d.id)
        #expect(!attempts.isEmpty && attempts.allSatisfy { $0.status == 302 }, "\(attempts)")
        #expect(elsewhere.paths.isEmpty)
        daemon.shutdown()
        try await running.value
    }

    /// A job's own notify URL may not reach loopback (SSRF): refused at send time with the reason journaled, for a
    /// literal address and for a name that resolves to one; the operator's switch allows it.
    @Test func aJobsLoopbackURLIsRefusedUnlessTheOperatorAllowsIt() async throws {
        let f = Folders()
        let local = try await HookServer(root: f.root, name: "local")
        defer { local.stop() }
        var config = f.config
        config.notifyBackoff = .milliseconds(100)
        let daemon = Daemon(config: config)
        let running = Task { try await daemon.run(handleSignals: false) }
        f.drop("ssrf.yaml", "title: SSRF\nnotify: {url: \"\(local.url("/admin"))\", secret: s}\nscenes: 3\n")
        f.drop("named.yaml", "title: Named\nnotify: {url: \"\(local.url("/admin", host: "localhost"))\", secret: s}\nscenes: 3\n")
        for name in ["ssrf", "named"] {
            let job = try #require(try await waitFor(f) { $0.name == name && $0.state.isFinal })
            let d = try #require(try await settledDelivery(f, job.id))
            #expect(d.state == .failed && d.attempts == 1, "\(name): \(d)")
            let attempt = try #require(try await JournalClient(path: f.journal).deliveryAttempts(of: d.id).first)
            #expect(attempt.status == nil && (attempt.error ?? "").contains("loopback"), "\(name): \(attempt)")
            let events = try await JournalClient(path: f.journal).events(of: job.id).map(\.message)
            #expect(events.contains { $0.contains("refused") && $0.contains("loopback") }, "\(events)")
        }
        #expect(local.paths.isEmpty)
        daemon.shutdown()
        try await running.value

        // The operator allows it: the same kind of URL is delivered.
        config.notifyAllowPrivate = true
        let allowing = Daemon(config: config)
        let again = Task { try await allowing.run(handleSignals: false) }
        f.drop("allowed.yaml", "title: Allowed\nnotify: {url: \"\(local.url("/hook", host: "localhost"))\", secret: s}\nscenes: 3\n")
        let job = try #require(try await waitFor(f) { $0.name == "allowed" && $0.state.isFinal })
        #expect(try await settledDelivery(f, job.id)?.state == .delivered)
        #expect(local.paths == ["/hook"])
        allowing.shutdown()
        try await again.value
    }

    /// A receiver answering with a 1 GiB body: the notifier reads a small part of it, reports the status, and its
    /// peak RSS stays far below the body.
    @Test func aHugeAnswerLeavesTheNotifierSmall() async throws {
        let f = Folders()
        let big = try await HookServer(root: f.root, name: "big")
        defer { big.stop() }
        let (answer, peakKiB) = try runNotifier(["--url", big.url("/big"), "--signature", "sha256=00", "--event", "done",
                                                 "--delivery", "1"], body: Data("{}".utf8))
        #expect(answer.contains("\"status\":200"), "\(answer)")
        #expect(peakKiB > 0 && peakKiB < 100 * 1024, "peak RSS \(peakKiB) KiB")
    }
}

extension WebhookClientTests {
    /// notify.allow_private and notify.timeout_s are read; a time-out out of range names the field.
    @Test func theConfigReadsAllowPrivateAndTheTimeout() throws {
        let dir = NSTemporaryDirectory() + "notify-config-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/prostudio.yaml"
        try "notify: {allow_private: true, timeout_s: 3}\n".write(toFile: path, atomically: true, encoding: .utf8)
        let c = try DaemonConfig.load(path: path)
        #expect(c.notifyAllowPrivate && c.notifyTimeout == .seconds(3))
        #expect(DaemonConfig().notifyAllowPrivate == false && DaemonConfig().notifyTimeout == .seconds(10))
        try "notify: {timeout_s: 0}\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect { try DaemonConfig.load(path: path) } throws: { "\($0)".contains("notify.timeout_s") }
    }
}

extension ProcessTests {
    /// kill -9 of the daemon while a webhook attempt hangs: its `prostudio-notify` child goes with it.
    @Test func aNotifierDiesWithItsDaemon() async throws {
        let f = Folders()
        let hung = try await HookServer(root: f.root, name: "hung")
        defer { hung.stop() }
        let config = f.root + "/prostudio.yaml"
        try "notify: {url: \"\(hung.url("/hang"))\", secret: s}\n".write(toFile: config, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: prostudioBinary)
        p.arguments = ["daemon", "--config", config, "--inbox", f.root + "/inbox", "--outbox", f.root + "/outbox", "--state", f.root + "/state"]
        p.standardError = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        #expect(try await eventually { StateLock.holder(state: f.root + "/state") == p.processIdentifier })
        f.drop("hooked.yaml", "title: Hooked\nscenes: 3\n")
        #expect(try await eventually(timeout: .seconds(60)) { hung.paths.count == 1 })
        let notifiers = childPIDs(of: p.processIdentifier).filter {
            ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\($0)/exe")) ?? "").hasSuffix("/prostudio-notify")
        }
        #expect(notifiers.count == 1)
        kill(p.processIdentifier, SIGKILL)
        #expect(try await eventually(timeout: .seconds(5)) { notifiers.allSatisfy { !isRunning($0) } })
        p.waitUntilExit()
    }
}
