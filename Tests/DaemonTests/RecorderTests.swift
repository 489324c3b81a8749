import Contract
@testable import Daemon
import Foundation
import Journal
import Testing
import TestSupport

/// Issue 24: the supervisor journals a worker's messages one at a time, in the order they came, and writes the sidecar
/// from the journal row. Cache events once each started a task of their own, so a `removed` could land before its
/// `stored` and leave the artifact index naming a file the worker had pruned.
@Suite struct RecorderTests {
    @Test func workerMessagesAreJournaledInOrderAndTheSidecarIsTheRowsProjection() async throws {
        let f = Folders()
        let store = try SQLiteJournal.inMemory()
        let daemon = Daemon(config: f.config, store: store)
        let (claimed, _) = try await store.claim(NewArrival(name: "ordered", sourceName: "ordered.yaml", sourcePath: f.root + "/inbox/ordered.yaml",
                                                            sourceKind: .file, dedupKey: "ordered-1"))
        _ = try await store.markQueued(claimed.id, manifestPath: f.root + "/state/jobs/\(claimed.id)/ordered.yaml")
        let job = try #require(try await store.startNext())

        let plan = Sidecar.StageRecord(engine: "manifest-v1", seconds: 0.012, cpu_seconds: 0.01, peak_memory_bytes: 1 << 20, cached: false)
        let details = JobDetails(title: "Ordered", duration_s: 2.5, width: 320, height: 180, fps: 15, engines: ["speech": "espeak-ng 1.51"],
                                 voice_choice: "voice en-us (engine espeak): as the manifest and the defaults set it")
        let (messages, sink) = AsyncStream<WorkerMessage>.makeStream()
        for i in 0..<300 {
            sink.yield(.cacheStored(name: "speech/k\(i)", stage: "speech", bytes: 10))
            sink.yield(.cacheRemoved(names: ["speech/k\(i)"]))
        }
        sink.yield(.cacheStored(name: "speech/kept", stage: "speech", bytes: 10))
        sink.yield(.stageStarted(stage: "plan"))
        sink.yield(.seed(7))
        sink.yield(.warnings(["scene 1: too long for one breath"]))
        sink.yield(.stageEnded(stage: "plan", record: plan))
        sink.yield(.details(details))
        sink.yield(.stageStarted(stage: "speech"))
        sink.yield(.progress(stage: "speech", fraction: 0.5, overall: 0.3, finished: false))
        sink.yield(.done)
        sink.finish()
        let ledger = await daemon.record(messages, job: job, journal: store)

        for i in 0..<300 { #expect(try await store.artifact(key: "speech/k\(i)") == nil, "speech/k\(i) was pruned after it was stored") }
        #expect(try await store.artifact(key: "speech/kept") != nil)
        #expect(ledger.final == .done && ledger.stage == "speech")
        #expect(ledger.runs.map(\.stage) == ["plan", "speech"] && ledger.runs.map(\.open) == [false, true])

        let row = try #require(try await store.job(job.id))
        #expect(row.seed == 7 && row.stage == "speech" && abs(row.progress - 0.3) < 1e-9)
        #expect(row.report.stages == ["plan": plan] && row.report.details == details && row.report.warnings == ["scene 1: too long for one breath"])
        let runs = try await store.stageRuns(of: job.id)
        #expect(runs.first?.outcome == .ok && runs.first?.engine == "manifest-v1" && runs.first?.peakMemoryBytes == 1 << 20)
        #expect(runs.last?.outcome == .running)

        // What is on disk is the row, projected: nothing the worker sent is written any other way.
        let onDisk = try Sidecar.read(URL(fileURLWithPath: f.root + "/outbox/ordered.json"))
        #expect(onDisk == row.sidecar)
        #expect(onDisk.state == .running && onDisk.seed == 7 && onDisk.title == "Ordered" && onDisk.stages["plan"] == plan)
    }
}
