import Daemon
import Foundation
import Journal
import Testing

/// F7: a job folder whose picture is not a picture is rejected at pick-up by its header, naming the field: it goes
/// from claimed to rejected and no worker ever runs (no `running` state, no stage run).
@Suite(.serialized) struct IntakeHeaderTests {
    @Test func aBadPictureIsRejectedAtPickUpWithoutAWorker() async throws {
        let f = Folders()
        let daemon = Daemon(config: f.config)
        let running = Task { try await daemon.run(handleSignals: false) }
        let tmp = f.root + "/inbox/.badpic"
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        try Data("scenes:\n  - narration: First.\n  - narration: Second.\n    image: photo.png\n".utf8)
            .write(to: URL(fileURLWithPath: tmp + "/manifest.yaml"))
        try Data("these are notes, not a photo\n".utf8).write(to: URL(fileURLWithPath: tmp + "/photo.png"))
        rename(tmp, f.root + "/inbox/badpic")

        let sidecar = try await sidecarOnce(f, "badpic", .rejected, timeout: .seconds(30))
        #expect(sidecar.error?.field == "scenes[1].image" && sidecar.error?.code == "manifest.unreadable_asset")
        #expect(sidecar.error?.message.contains("photo.png, text") == true && sidecar.error?.message.contains("expected a JPEG, PNG") == true,
                "\(sidecar.error?.message ?? "")")
        let job = try #require(try await waitFor(f, timeout: .seconds(10)) { $0.sourceName == "badpic" && $0.state.isFinal })
        #expect(job.state == .rejected && job.error?.field == "scenes[1].image")
        let client = try JournalClient(path: f.journal)
        #expect(try await client.stageRuns(of: job.id).isEmpty)
        let states = try await client.events(of: job.id).filter { $0.kind == "state" }.map(\.message)
        #expect(!states.contains { $0.contains("running") }, "\(states)")
        #expect(states.contains { $0.hasPrefix("claimed -> rejected") }, "\(states)")
        daemon.shutdown()
        try await running.value
    }
}
