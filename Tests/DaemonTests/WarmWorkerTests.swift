import Contract
@testable import Daemon
import Foundation
import Journal
import Testing
import TestSupport

/// The joe-medium Piper pack (Tools/export/install-piper-voice), for the model-load record: a second job in a warm
/// worker must find the voice loaded. Skipped with the reason outside CI when missing; under CI=true it fails.
enum WarmPiperPack {
    static let pack = TestDependency("the joe-medium Piper pack") {
        let dir = testModelsFolder()
        return try makePack(script: "Tools/export/install-piper-voice", [dir.path], in: dir, marker: "joe-medium/pack.json")
    }
}

let piperManifest = """
    title: Warm
    seed: 5
    output: {aspect: "16:9", height: 144, fps: 10, quality: draft}
    voice: {engine: piper}
    visuals: {engine: procedural}
    music: {engine: procedural, mood: calm}
    scenes:
      - narration: A warm worker keeps its voice loaded.
    """

/// Warm workers (issue 32): several jobs per `prostudio worker --serve`, nothing of one job in the next, and a kill of
/// the worker between or during jobs costing nothing but that worker.
@Suite(.serialized) struct WarmWorkerTests {
    func config(_ f: Folders) -> DaemonConfig {
        var c = f.config
        c.workers.warm = true
        return c
    }

    func spec(_ f: Folders, job: String, manifest: String, models: String? = nil) -> WorkerSpec {
        let path = f.root + "/inbox-" + job + ".yaml"
        try! Data(manifest.utf8).write(to: URL(fileURLWithPath: path))
        return WorkerSpec(jobID: job, name: job, manifestPath: path, displayName: nil, outbox: f.root + "/outbox",
                          cache: f.root + "/state/cache", models: models, config: nil, memoryLimitBytes: nil,
                          cacheMaxBytes: 1 << 30, logLevel: "warning", work: f.root + "/state/work")
    }

    /// Runs `spec` in `worker`, returning its messages and how it ended.
    func run(_ worker: WarmWorker, _ spec: WorkerSpec) async -> ([WorkerMessage], WarmEnd) {
        let (stream, sink) = AsyncStream<WorkerMessage>.makeStream()
        let end = await worker.run(spec, messages: sink)
        sink.finish()
        var messages: [WorkerMessage] = []
        for await m in stream { messages.append(m) }
        return (messages, end)
    }

    /// One process, two jobs: the second has its own seed and its own temp folder, and the first's work folder and
    /// TMPDIR are gone before the worker says it is idle.
    @Test func oneWorkerRunsTwoJobsAndTheFirstLeavesNothingForTheSecond() async throws {
        let f = Folders()
        let template = spec(f, job: "template", manifest: tinyManifest)
        let worker = try WarmWorker(executable: prostudioBinary, template: template)
        let first = spec(f, job: "jobA", manifest: tinyManifest)  // seed: 3
        let (a, endA) = await run(worker, first)
        #expect(endA == .idle)
        #expect(a.contains(.done))
        #expect(a.contains(.seed(3)))
        let workA = f.root + "/state/work/.prostudio-work-jobA"
        #expect(!FileManager.default.fileExists(atPath: workA))
        #expect(!FileManager.default.fileExists(atPath: workA + "/tmp"))

        let unseeded = tinyManifest.replacingOccurrences(of: "    seed: 3\n", with: "").replacingOccurrences(of: "seed: 3\n", with: "")
        let (b, endB) = await run(worker, spec(f, job: "jobB", manifest: unseeded))
        #expect(endB == .idle)
        #expect(b.contains(.done))
        let seeds = b.compactMap { m -> UInt64? in if case .seed(let s) = m { s } else { nil } }
        #expect(seeds.count == 1 && seeds.first != 3)
        #expect(worker.jobsRun == 2 && worker.isAlive)
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: f.root + "/state/work")) ?? []).isEmpty)

        worker.retire(grace: .seconds(2))
        #expect(try await eventually { !worker.isAlive })
    }

    /// A line that is not a spec fails that "job" with the reason, and the worker stays for the next.
    @Test func aBadSpecLineIsAFailureNamingItAndTheWorkerCarriesOn() async throws {
        let f = Folders()
        let worker = try WarmWorker(executable: prostudioBinary, template: spec(f, job: "template", manifest: tinyManifest))
        var broken = spec(f, job: "missing", manifest: tinyManifest)
        broken.manifestPath = f.root + "/no-such.yaml"
        let (messages, end) = await run(worker, broken)
        #expect(end == .idle)
        #expect(messages.contains { if case .failed(let e) = $0 { e.message.contains("no-such.yaml") } else { false } })
        let (again, _) = await run(worker, spec(f, job: "after", manifest: tinyManifest))
        #expect(again.contains(.done))
        worker.retire(grace: .seconds(2))
    }

    /// kill -9 of the idle workers between two jobs: the next job gets a new worker and runs once (no attempt spent);
    /// kill -9 during a job: that job is retried and done, nothing duplicated; the daemon carries on.
    @Test func killingAWarmWorkerBetweenJobsAndDuringOneLosesNothing() async throws {
        let f = Folders()
        let daemon = Daemon(config: config(f))
        let running = Task { try await daemon.run(handleSignals: false) }
        f.drop("one.yaml", tinyManifest)
        let one = try #require(try await waitFor(f) { $0.name == "one" && $0.state.isFinal })
        #expect(one.state == .done && one.attempts == 1)
        // The warm worker and the spare wait; both die.
        #expect(try await eventually { workerPIDs().count == 2 })
        let idle = workerPIDs()
        for pid in idle { kill(pid, SIGKILL) }
        #expect(try await eventually { workerPIDs().allSatisfy { !idle.contains($0) } })

        f.drop("two.yaml", tinyManifest)
        let two = try #require(try await waitFor(f) { $0.name == "two" && $0.state.isFinal })
        #expect(two.state == .done && two.attempts == 1)

        f.drop("three.yaml", slowManifest)
        let three = try #require(try await waitFor(f, isEarly))
        for pid in workerPIDs() { kill(pid, SIGKILL) }
        let end = try #require(try await waitFor(f) { $0.id == three.id && $0.state.isFinal })
        #expect(end.state == .done && end.attempts == 2)
        let events = try await JournalClient(path: f.journal).events(of: three.id).map(\.message)
        #expect(events.contains { $0.contains("was killed by signal 9 (SIGKILL") })

        f.drop("four.yaml", tinyManifest)
        let four = try #require(try await waitFor(f) { $0.name == "four" && $0.state.isFinal })
        #expect(four.state == .done && four.attempts == 1)
        let all = try await JournalClient(path: f.journal).jobs(JobFilter())
        #expect(all.count == 4 && all.allSatisfy { $0.state == .done })
        daemon.shutdown()
        try await running.value
        #expect(try await eventually { workerPIDs().isEmpty })
    }

    /// `workers:` in the config: read, and a bad value refused naming the key and what it wants.
    @Test func theWorkersSectionIsReadAndABadValueIsNamed() throws {
        let f = Folders()
        let path = f.root + "/prostudio.yaml"
        try "workers: {warm: true, idle_timeout_s: 2.5, max_host_mb: 1024, max_gpu_mb: 2048}\n".write(toFile: path, atomically: true, encoding: .utf8)
        let c = try DaemonConfig.load(path: path)
        #expect(c.workers.warm && c.workers.idleTimeout == .milliseconds(2500))
        #expect(c.workers.maxHostBytes == 1024 << 20 && c.workers.maxGPUBytes == 2048 << 20)
        #expect(DaemonConfig().workers.warm == false)
        try "workers: {idle_timeout_s: 0}\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect { try DaemonConfig.load(path: path) } throws: { "\($0)".contains("workers.idle_timeout_s must be > 0") && "\($0)".contains(path) }
        try "workers: {warmth: true}\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect { try DaemonConfig.load(path: path) } throws: { "\($0)".contains("warmth") }
    }

    /// The model-load record: the first Piper job loads the voice, the second finds it loaded in the warm worker.
    @Test(.enabled(if: WarmPiperPack.pack.enabled, "needs the joe-medium pack (Tools/export/install-piper-voice)"))
    func theSecondJobReusesTheVoiceAndTheSidecarSaysSo() async throws {
        let models = try WarmPiperPack.pack.get()
        let f = Folders()
        var c = config(f)
        c.models = models.path
        let daemon = Daemon(config: c)
        let running = Task { try await daemon.run(handleSignals: false) }
        f.drop("voice1.yaml", piperManifest)
        let first = try #require(try await waitFor(f) { $0.name == "voice1" && $0.state.isFinal })
        // Other words: the same ones would come from the stage cache, with no model used at all.
        f.drop("voice2.yaml", piperManifest.replacingOccurrences(of: "keeps its voice loaded", with: "speaks a second time"))
        let second = try #require(try await waitFor(f) { $0.name == "voice2" && $0.state.isFinal })
        #expect(first.state == .done && second.state == .done)
        let loadsA = first.report.models ?? [], loadsB = second.report.models ?? []
        #expect(loadsA.contains { $0.pack == "joe-medium" && !$0.reused && $0.seconds > 0 })
        #expect(!loadsB.isEmpty && loadsB.allSatisfy { $0.pack == "joe-medium" && $0.reused && $0.seconds == 0 })
        let sidecar = try await sidecarOnce(f, "voice2", .done)
        #expect(sidecar.models == loadsB)
        daemon.shutdown()
        try await running.value
    }
}
