import Daemon
import Foundation
import Journal
import Pipeline
import Testing
import TestSupport

/// Issue 23 (8): a failed job of an existing NAME replaced `NAME.json` while the done job's video stayed, and the work
/// folder (the partial MP4) lived in the outbox.
@Suite(.serialized) struct SameNameFailureTests {
    @Test func aFailedJobBesideADoneJobKeepsItsSidecarAndIsWrittenToFailed() async throws {
        let f = Folders()
        let daemon = Daemon(config: f.config)
        let running = Task { try await daemon.run(handleSignals: false) }
        f.drop("promo.yaml", tinyManifest)
        let done = try #require(try await waitFor(f) { $0.name == "promo" && $0.state.isFinal })
        #expect(done.state == .done)
        let published = try await sidecarOnce(f, "promo", .done)
        daemon.shutdown()
        try await running.value

        // The same NAME again, failing for good: its stage times out (not retried).
        var config = f.config
        config.stageTimeout = .milliseconds(300)
        let second = Daemon(config: config)
        let again = Task { try await second.run(handleSignals: false) }
        f.drop("promo.yaml", slowManifest)
        let failed = try #require(try await waitFor(f) { $0.name == "promo" && $0.id != done.id && $0.state.isFinal })
        #expect(failed.state == .failed && failed.error?.code == "stage_timeout")
        let aside = URL(fileURLWithPath: f.root + "/outbox/failed/promo.json")
        #expect(try await eventually { (try? Sidecar.read(aside))?.job_id == failed.id.rawValue })
        #expect(try Sidecar.read(aside).state == .failed)
        #expect(try Sidecar.read(URL(fileURLWithPath: f.root + "/outbox/promo.json")) == published)
        #expect(FileManager.default.fileExists(atPath: f.root + "/outbox/promo.mp4"))
        second.shutdown()
        try await again.value
    }

    /// The job's work folder is in the state folder while it runs, never in the outbox (a full outbox is then found at
    /// publish, where it is `retryable`; see the fault suite's full_outbox scenario).
    @Test func theWorkFolderIsInTheStateFolder() async throws {
        let f = Folders()
        let daemon = Daemon(config: f.config)
        let running = Task { try await daemon.run(handleSignals: false) }
        f.drop("worked.yaml", slowManifest)
        let job = try #require(try await waitFor(f, isEarly))
        #expect(try await eventually { FileManager.default.fileExists(atPath: f.root + "/state/work/.prostudio-work-\(job.id)") })
        let outbox = try FileManager.default.contentsOfDirectory(atPath: f.root + "/outbox")
        #expect(!outbox.contains { $0.hasPrefix(".prostudio-work-") })
        let end = try #require(try await waitFor(f) { $0.id == job.id && $0.state.isFinal })
        #expect(end.state == .done)
        #expect(FileManager.default.fileExists(atPath: f.root + "/outbox/worked.mp4"))
        #expect(try await eventually { !FileManager.default.fileExists(atPath: f.root + "/state/work/.prostudio-work-\(job.id)") })
        daemon.shutdown()
        try await running.value
    }
}
