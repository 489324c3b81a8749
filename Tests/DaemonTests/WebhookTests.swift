import Checksum
import Daemon
import Foundation
import Journal
import Testing
import TestSupport

/// A real HTTP receiver: Python's http.server on a free loopback port. It answers 500 to the first `failFirst`
/// requests, then 200, and logs each request (path, headers, body, and whether Python's own hmac module finds the
/// signature right) as a JSON line.
final class Receiver: Sendable {
    static let script = #"""
    import hashlib, hmac, json, sys
    from http.server import BaseHTTPRequestHandler, HTTPServer
    port_file, log_file, fail_first, secret = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4].encode()
    port = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    seen = [0]
    class H(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            want = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
            seen[0] += 1
            status = 500 if seen[0] <= fail_first else 200
            with open(log_file, "a") as f:
                f.write(json.dumps({"path": self.path, "status": status, "headers": dict(self.headers),
                                    "body": body.decode(), "signature_ok": hmac.compare_digest(want, self.headers.get("X-ProStudio-Signature", ""))}) + "\n")
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()
        def log_message(self, *a): pass
    server = HTTPServer(("127.0.0.1", port), H)
    with open(port_file + ".tmp", "w") as f: f.write(str(server.server_address[1]))
    import os; os.rename(port_file + ".tmp", port_file)
    server.serve_forever()
    """#

    let server: PythonServer
    let log: String
    var port: Int { server.port }

    init(root: String, failFirst: Int, secret: String, port: Int = 0) async throws {
        log = root + "/receiver.log"
        server = try await PythonServer(script: Self.script, in: root, name: "receiver",
                                        arguments: [log, "\(failFirst)", secret] + (port > 0 ? ["\(port)"] : []))
    }

    struct ReceiverError: Error { var message: String }

    var url: String { "http://127.0.0.1:\(port)/hook" }

    var requests: [[String: Any]] {
        ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    func stop() { server.stop() }

    /// A request's headers with lower-case names (HTTP names are case-insensitive; libcurl sends X-Prostudio-...).
    static func headers(_ request: [String: Any]) -> [String: String] {
        Dictionary(((request["headers"] as? [String: String]) ?? [:]).map { ($0.key.lowercased(), $0.value) }) { $1 }
    }
}

@Suite(.serialized) struct WebhookTests {
    /// RFC 4231 test cases 1, 2, 4 and 6 (a key longer than the block is hashed first).
    @Test func hmacSHA256MatchesRFC4231() {
        func hex(_ s: String) -> [UInt8] {
            var out: [UInt8] = []
            var i = s.startIndex
            while i < s.endIndex { let j = s.index(i, offsetBy: 2); out.append(UInt8(s[i..<j], radix: 16)!); i = j }
            return out
        }
        #expect(HMACSHA256.hex(key: [UInt8](repeating: 0x0b, count: 20), message: Data("Hi There".utf8))
                == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        #expect(HMACSHA256.hex(key: Data("Jefe".utf8), message: Data("what do ya want for nothing?".utf8))
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        #expect(HMACSHA256.hex(key: hex("0102030405060708090a0b0c0d0e0f10111213141516171819"), message: [UInt8](repeating: 0xcd, count: 50))
                == "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b")
        #expect(HMACSHA256.hex(key: [UInt8](repeating: 0xaa, count: 131), message: Data("Test Using Larger Than Block-Size Key - Hash Key First".utf8))
                == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    /// A rejected job's sidecar is POSTed to its manifest's `notify.url`, signed with its secret; the receiver's
    /// first answer (500) is retried; both attempts are in the journal; a job without `notify` uses the config's.
    @Test func aRejectedJobIsPostedSignedRetriedAfterA500AndJournaled() async throws {
        let f = Folders()
        let receiver = try await Receiver(root: f.root, failFirst: 1, secret: "job-secret")
        defer { receiver.stop() }
        var config = f.config
        config.notifyBackoff = .milliseconds(200)
        config.notify = NotifySettings(url: receiver.url + "?site", secret: "site-secret")
        // The job's own URL is a loopback receiver: refused unless the operator allows it (WebhookClientTests).
        config.notifyAllowPrivate = true
        let daemon = Daemon(config: config)
        let running = Task { try await daemon.run(handleSignals: false) }

        // Valid YAML, invalid manifest: the worker's plan stage rejects it.
        f.drop("hooked.yaml", "title: Hooked\nnotify: {url: \"\(receiver.url)\", secret: job-secret}\nscenes: 3\n")
        let job = try #require(try await waitFor(f) { $0.name == "hooked" && $0.state.isFinal })
        #expect(job.state == .rejected)
        #expect(try await eventually { receiver.requests.count >= 2 })
        let client = try JournalClient(path: f.journal)
        var deliveries: [Delivery] = []
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            deliveries = try await client.deliveries(of: job.id)
            if deliveries.first?.state == .delivered { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        let delivery = try #require(deliveries.first)
        #expect(deliveries.count == 1)
        #expect(delivery.state == .delivered && delivery.event == "rejected" && delivery.attempts == 2)
        let attempts = try await client.deliveryAttempts(of: delivery.id)
        #expect(attempts.map(\.status) == [500, 200])
        #expect(attempts.map(\.attempt) == [1, 2])

        let requests = receiver.requests
        #expect(requests.count == 2)
        for r in requests {
            #expect(r["path"] as? String == "/hook")
            #expect(r["signature_ok"] as? Bool == true, "\(r)")
            let headers = Receiver.headers(r)
            #expect(headers["x-prostudio-event"] == "rejected")
            #expect(headers["x-prostudio-delivery"] == "\(delivery.id)")
            #expect(headers["content-type"] == "application/json")
            // The body is the job's sidecar, as in the outbox.
            let body = try #require(try JSONSerialization.jsonObject(with: Data((r["body"] as? String ?? "").utf8)) as? [String: Any])
            #expect(body["job_id"] as? String == job.id.rawValue)
            #expect(body["state"] as? String == "rejected")
            #expect((body["error"] as? [String: Any])?["code"] as? String == "manifest.wrong_type")
        }
        #expect(Receiver.headers(requests[0])["x-prostudio-attempt"] == "1")
        #expect(Receiver.headers(requests[1])["x-prostudio-attempt"] == "2")
        let events = try await client.events(of: job.id).map(\.message)
        #expect(events.contains { $0.contains("webhook rejected delivered") }, "\(events)")

        // No notify in the manifest: the config's receiver and secret (the Python side checks with job-secret, so
        // this signature reads as not ok there; check it here instead).
        f.drop("plain.yaml", "title: Plain\nscenes: 3\n")
        let plain = try #require(try await waitFor(f) { $0.name == "plain" && $0.state.isFinal })
        #expect(try await eventually { receiver.requests.count >= 3 })
        let third = receiver.requests[2]
        #expect(third["path"] as? String == "/hook?site")
        let body = Data((third["body"] as? String ?? "").utf8)
        #expect(Receiver.headers(third)["x-prostudio-signature"] == "sha256=" + HMACSHA256.hex(key: Data("site-secret".utf8), message: body))
        #expect(try await eventually { (try? JSONSerialization.jsonObject(with: body) as? [String: Any])?["job_id"] as? String == plain.id.rawValue })
        daemon.shutdown()
        try await running.value
    }

    /// A receiver that is down: attempts are journaled as they fail, the message stays pending across a restart, and
    /// the next daemon delivers it once the receiver is back.
    @Test func aPendingDeliverySurvivesARestart() async throws {
        let f = Folders()
        // A port that nobody listens on yet: take a free one from a receiver, then stop it.
        let probe = try await Receiver(root: f.root, failFirst: 0, secret: "s")
        let port = probe.port
        probe.stop()
        var config = f.config
        config.notifyBackoff = .milliseconds(100)
        config.notifyMaxAttempts = 1000
        config.notify = NotifySettings(url: "http://127.0.0.1:\(port)/later", secret: "s")
        let first = Daemon(config: config)
        let running = Task { try await first.run(handleSignals: false) }
        f.drop("later.yaml", "title: Later\nscenes: 3\n")
        let job = try #require(try await waitFor(f) { $0.name == "later" && $0.state.isFinal })
        let client = try JournalClient(path: f.journal)
        var pending: Delivery?
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            pending = try await client.deliveries(of: job.id).first
            if let p = pending, p.attempts >= 2 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        let stuck = try #require(pending)
        #expect(stuck.state == .pending && stuck.attempts >= 2)
        let failed = try await client.deliveryAttempts(of: stuck.id)
        #expect(failed.allSatisfy { $0.status == nil && $0.error != nil })
        first.shutdown()
        try await running.value

        let receiver = try await Receiver(root: f.root, failFirst: 0, secret: "s", port: port)
        defer { receiver.stop() }
        let second = Daemon(config: config)
        let again = Task { try await second.run(handleSignals: false) }
        #expect(try await eventually { receiver.requests.count >= 1 })
        var end: Delivery?
        let until = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < until {
            end = try await client.deliveries(of: job.id).first
            if end?.state == .delivered { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(end?.state == .delivered)
        #expect(receiver.requests.first?["signature_ok"] as? Bool == true)
        let all = try await client.deliveryAttempts(of: stuck.id)
        #expect(all.last?.status == 200 && all.count >= 3)
        second.shutdown()
        try await again.value
    }
}
