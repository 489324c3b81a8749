@testable import Daemon
import Failures
import Foundation
import Journal
import Pipeline
import Synchronization
import Testing
import TestSupport

/// One typed failure, from the pipeline through the worker's pipe to the journal and the sidecar: its disposition,
/// not a code prefix, decides rejected / retried / failed / cancelled.
@Suite struct JobFailureTests {
    @Test func theWorkersFailureCrossesThePipeWhole() throws {
        for disposition in JobFailure.Disposition.allCases {
            let failure = JobFailure(code: "any.code", message: "what happened", field: "scenes[1].image", stage: "visuals",
                                     disposition: disposition)
            let line = WorkerMessage.failed(failure).line()
            #expect(line.last == 0x0A)
            #expect(try JSONDecoder().decode(WorkerMessage.self, from: line.dropLast()) == .failed(failure))
        }
    }

    @Test func aManifestErrorIsInvalidInputWhateverItsCode() throws {
        let dir = NSTemporaryDirectory() + "prostudio-failure-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "title: broken\nscenes: 3\n".write(toFile: dir + "/broken.yaml", atomically: true, encoding: .utf8)
        do {
            _ = try Pipeline.validate(manifestPath: dir + "/broken.yaml")
            Issue.record("a broken manifest validated")
        } catch {
            #expect(error.disposition == .invalidInput && error.exitCode == 2 && error.field == "scenes" && error.stage == "plan")
        }
        // The disposition is the type's, not the code's: a `manifest.`-looking code is not invalid input by itself.
        #expect(!JobFailure(code: "manifest.syntax", message: "m").isInvalidInput)
        #expect(JobFailure(code: "x", message: "m", disposition: .invalidInput).exitCode == 2)
        #expect(JobFailure.cancelled.disposition == .cancelled && JobFailure.cancelled.code == "job.cancelled")
    }
}

/// A rejected manifest with the NAME of an earlier done job must not take that job's sidecar while its video stays.
@Suite(.serialized) struct SameNameRejectionTests {
    @Test func aRejectionBesideADoneJobKeepsItsSidecarAndIsWrittenToRejected() async throws {
        let f = Folders()
        let daemon = Daemon(config: f.config)
        let running = Task { try await daemon.run(handleSignals: false) }
        f.drop("promo.yaml", tinyManifest)
        let done = try #require(try await waitFor(f) { $0.name == "promo" && $0.state.isFinal })
        #expect(done.state == .done)
        let published = try await sidecarOnce(f, "promo", .done)

        // 1. The same NAME, invalid: found at pick-up by the manifest's own checks, so no worker ever runs it.
        f.drop("promo.yaml", "title: broken\nscenes: 3\n")
        let rejected = try #require(try await waitFor(f) { $0.name == "promo" && $0.id != done.id && $0.state.isFinal })
        #expect(rejected.state == .rejected && rejected.error?.field == "scenes" && rejected.error?.code.hasPrefix("manifest.") == true)
        #expect(try await JournalClient(path: f.journal).stageRuns(of: rejected.id).isEmpty)
        let rejection = URL(fileURLWithPath: f.root + "/outbox/rejected/promo.json")
        #expect(try await eventually { (try? Sidecar.read(rejection))?.job_id == rejected.id.rawValue })
        let r = try Sidecar.read(rejection)
        #expect(r.state == .rejected && r.error?.field == "scenes" && r.error?.disposition == "invalid_input")
        // The video's own sidecar is back, byte for byte what was published with it.
        let kept = try Sidecar.read(URL(fileURLWithPath: f.root + "/outbox/promo.json"))
        #expect(kept == published && kept.job_id == done.id.rawValue)
        #expect(FileManager.default.fileExists(atPath: f.root + "/outbox/promo.mp4"))

        // 2. The same NAME rejected at pick-up (a folder without a manifest): never written over the done sidecar.
        try FileManager.default.createDirectory(atPath: f.root + "/inbox/.promo", withIntermediateDirectories: true)
        try Data("notes".utf8).write(to: URL(fileURLWithPath: f.root + "/inbox/.promo/notes.bin"))
        rename(f.root + "/inbox/.promo", f.root + "/inbox/promo")
        let folder = try #require(try await waitFor(f) { $0.sourceName == "promo" && $0.state.isFinal })
        #expect(folder.state == .rejected && folder.error?.code == "no_manifest")
        #expect(try await eventually { (try? Sidecar.read(rejection))?.job_id == folder.id.rawValue })
        #expect(try Sidecar.read(rejection).error?.disposition == "invalid_input")
        #expect(try Sidecar.read(URL(fileURLWithPath: f.root + "/outbox/promo.json")) == published)

        // 3. Without a done job of that NAME a rejection is `NAME.json`, as before.
        f.drop("other.yaml", "title: broken\nscenes: 3\n")
        #expect(try await sidecarOnce(f, "other", .rejected).error?.disposition == "invalid_input")
        #expect(!FileManager.default.fileExists(atPath: f.root + "/outbox/rejected/other.json"))
        daemon.shutdown()
        try await running.value
    }
}

/// The worker's pipe: megabytes of messages read whole, in order, with the exit status, whatever pace the child
/// writes at. The reader is a thread of its own that reads until EOF and reaps only then, so the child can never
/// block on a full pipe (its stderr is the daemon's own, never a pipe the daemon must drain).
@Suite struct WorkerPipeTests {
    @Test func megabytesOfMessagesArriveWholeAndInOrderWithTheExitStatus() async throws {
        let dir = NSTemporaryDirectory() + "prostudio-pipe-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let count = 40_000
        let script = dir + "/worker"
        // ~3.5 MB of progress lines on stdout, some stderr between them, then exit 5 without a final report.
        try """
            #!/bin/sh
            awk 'BEGIN { for (i = 0; i < \(count); i++) {
                printf "{\\"progress\\":{\\"stage\\":\\"speech\\",\\"fraction\\":%d,\\"overall\\":0.5,\\"finished\\":false}}\\n", i
                if (i % 4000 == 0) printf "worker log line %d\\n", i > "/dev/stderr" } }'
            exit 5
            """.write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        let spec = WorkerSpec(jobID: "j", name: "n", manifestPath: "/none", displayName: nil, outbox: dir, cache: dir, models: nil,
                              config: nil, memoryLimitBytes: nil, cacheMaxBytes: 1, logLevel: "notice")
        let seen = Mutex<[Int]>([])
        let exit: WorkerExit = try await withCheckedThrowingContinuation { continuation in
            do {
                _ = try WorkerProcess(executable: script, spec: spec, onMessage: { message in
                    // A slow consumer: the child must wait on the pipe, not deadlock on it.
                    if case .progress(_, let fraction, _, _) = message {
                        seen.withLock { $0.append(Int(fraction)) }
                        if Int(fraction) % 5000 == 0 { usleep(20_000) }
                    }
                }, onExit: { continuation.resume(returning: $0) })
            } catch { continuation.resume(throwing: error) }
        }
        #expect(exit == .exited(5))
        let got = seen.withLock { $0 }
        #expect(got.count == count && got == Array(0..<count))
    }
}
