import Engines
import Foundation
import Testing
import TestSupport
@testable import Pipeline

/// What a job reports of its stages (the sidecar's `stages` and `engines`, the worker's stage messages): the names,
/// the engine each record names and whether it came from the stage cache. Written against the render as it was
/// before the stages became values (#24 item 3); the stage runner must keep every field the same.
@Suite(.serialized)
struct StageRecordTests {
    /// name, engine and cached flag of each stage, in order, from the messages a daemon's worker would send.
    static func records(_ messages: [WorkerMessage]) -> [(String, String, Bool)] {
        messages.compactMap { m in
            if case .stageEnded(let stage, let record) = m { return (stage, record.engine, record.cached) }
            return nil
        }
    }

    final class Messages: Sendable {
        private let list = Mutex<[WorkerMessage]>([])
        func add(_ m: WorkerMessage) { list.withLock { $0.append(m) } }
        var all: [WorkerMessage] { list.withLock { $0 } }
    }

    func run(_ dir: TempDir, name: String, cache: URL, reporter: Messages? = nil) async throws -> Sidecar {
        let pic = dir.url.appendingPathComponent("pic.png").path
        if !FileManager.default.fileExists(atPath: pic) { try FileManager.default.copyItem(atPath: Fixtures.image, toPath: pic) }
        let path = dir.write("\(name).yaml", RenderTests.manifest)
        let out = dir.url.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        var options = PipelineOptions(outbox: out, cache: cache)
        if let reporter { options.reporter = { reporter.add($0) } }
        let sidecar = try await Pipeline(options: options).run(manifestPath: path, jobID: "records-\(name)")
        // Without a reporter, `render`'s sidecar on disk; with one, the job writes none and the messages are its report.
        return reporter == nil ? try Sidecar.read(out.appendingPathComponent("\(name).json")) : sidecar
    }

    @Test func stageRecordsNameTheEnginesAndTheCacheAsBefore() async throws {
        let dir = TempDir()
        let cache = dir.url.appendingPathComponent("cache")
        let espeak = EspeakEngine().identity.description
        let compose = "libx264 ultrafast crf 28 + aac"  // quality: draft
        let first = try await run(dir, name: "one", cache: cache)
        #expect(first.stages.keys.sorted() == Stage.allCases.map(\.rawValue).sorted())
        let expected: [String: (String, Bool)] = [
            "plan": ("manifest-v1", false), "speech": (espeak, false), "visuals": ("procedural 1", false),
            "music": ("procedural-music 1", false), "compose": (compose, false), "publish": ("rename", false),
        ]
        for (stage, (engine, cached)) in expected {
            #expect(first.stages[stage]?.engine == engine, "\(stage): \(first.stages[stage]?.engine ?? "-")")
            #expect(first.stages[stage]?.cached == cached, "\(stage)")
            #expect((first.stages[stage]?.seconds ?? -1) >= 0 && (first.stages[stage]?.peak_memory_bytes ?? 0) > 0, "\(stage)")
        }
        #expect(first.engines == ["speech": espeak, "visuals": "procedural 1", "music": "procedural-music 1"])

        // The same job again over the same cache, reported as a daemon's worker reports it: speech and music hit.
        let messages = Messages()
        _ = try await run(dir, name: "two", cache: cache, reporter: messages)
        let again = Self.records(messages.all)
        #expect(again.map(\.0) == Stage.allCases.map(\.rawValue))
        #expect(again.map(\.1) == ["manifest-v1", espeak, "procedural 1", "procedural-music 1", compose, "rename"])
        #expect(again.map(\.2) == [false, true, false, true, false, false])
        let started = messages.all.compactMap { m -> String? in if case .stageStarted(let s) = m { return s }; return nil }
        #expect(started == Stage.allCases.map(\.rawValue))
    }

    /// Cancelling the task that runs the job stops it like the cancel flag does: at the next boundary, no video.
    @Test func cancellingTheTaskStopsTheJob() async throws {
        let dir = TempDir()
        try FileManager.default.copyItem(atPath: Fixtures.image, toPath: dir.url.appendingPathComponent("pic.png").path)
        let path = dir.write("job.yaml", RenderTests.manifest)
        let out = dir.url.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let pipeline = Pipeline(options: PipelineOptions(outbox: out, cache: dir.url.appendingPathComponent("cache")))
        // Cancelled from the job's own progress report as speech begins, so the job cannot finish first: a test task
        // polling for that moment starved on CI's busy pool, and cancelled a job that had already published.
        struct Handle { var task: Task<Sidecar, any Error>?; var speaking = false }
        let handle = Mutex(Handle())
        let job = Task { () async throws -> Sidecar in
            try await pipeline.run(manifestPath: path, jobID: "c", progress: { event in
                guard event.stage == .speech else { return }
                handle.withLock { h in h.speaking = true; h.task?.cancel() }
            })
        }
        // The job may reach speech before its handle is stored: then it is cancelled here.
        if handle.withLock({ h in h.task = job; return h.speaking }) { job.cancel() }
        switch await job.result {
        case .success: Issue.record("finished despite cancellation")
        case .failure(let error): #expect((error as? PipelineError)?.code == "job.cancelled", "\(error)")
        }
        #expect(try Sidecar.read(out.appendingPathComponent("job.json")).state == .cancelled)
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("job.mp4").path))
    }
}

import Synchronization
