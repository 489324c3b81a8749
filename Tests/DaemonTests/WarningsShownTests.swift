import Daemon
import Foundation
import Journal
import Testing
import TestSupport

/// Issue 27: a job that ends `done` with warnings (a caption font not installed) showed them only inside the sidecar.
/// They are journaled as `warning` events, so `jobs show` (text and JSON) and the API's events list them, and the
/// webhook's body carries them; `render` ends its summary with them.
@Suite(.serialized) struct WarningsShownTests {
    static let manifest = tinyManifest + "\ncaptions: {font: No Such Font Family}\n"

    @Test func aDoneJobsWarningsAreInJobsShowAndTheWebhook() async throws {
        let f = Folders()
        let receiver = try await Receiver(root: f.root, failFirst: 0, secret: "s")
        defer { receiver.stop() }
        var config = f.config
        config.notify = NotifySettings(url: receiver.url, secret: "s")
        config.notifyAllowPrivate = true
        let daemon = Daemon(config: config)
        let running = Task { try await daemon.run(handleSignals: false) }
        f.drop("warned.yaml", Self.manifest)
        let job = try #require(try await waitFor(f) { $0.name == "warned" && $0.state.isFinal })
        #expect(job.state == .done, "\(job.error?.message ?? "")")

        let show = try await runCLI(["jobs", "show", "warned", "--state", f.root + "/state"])
        #expect(show.out.contains("warning") && show.out.contains("No Such Font Family"), "\(show.out)")
        let json = try await runCLI(["jobs", "show", "warned", "--json", "--state", f.root + "/state"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
        let warnings = try #require(object["warnings"] as? [String], "\(json.out)")
        #expect(warnings.count == 1 && warnings[0].hasPrefix("captions.font:"), "\(warnings)")

        #expect(try await eventually { !receiver.requests.isEmpty })
        let body = try #require(receiver.requests.first?["body"] as? String)
        let posted = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        #expect((posted["warnings"] as? [String])?.first?.contains("No Such Font Family") == true, "\(body)")
        daemon.shutdown()
        try await running.value
    }

    @Test func renderEndsItsSummaryWithTheWarnings() async throws {
        let f = Folders()
        try Self.manifest.write(toFile: f.root + "/warned.yaml", atomically: true, encoding: .utf8)
        let r = try await runCLI(["render", f.root + "/warned.yaml", "-o", f.root + "/outbox", "--cache", f.root + "/cache"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("1 warning"), "\(r.out)")
        let tail = r.err.split(separator: "\n").last.map(String.init) ?? ""
        #expect(tail.hasPrefix("prostudio: warning: captions.font:") && tail.contains("No Such Font Family"), "\(r.err)")
    }
}
