import Daemon
import Foundation
import Journal
import Pipeline
import Testing

/// A small, fast manifest (draft quality, 240p) for end-to-end runs on the embedded engines.
let tinyManifest = """
    title: Tiny
    seed: 3
    output: {aspect: "16:9", height: 240, fps: 15, quality: draft}
    voice: {engine: espeak, voice: en-us}
    visuals: {engine: procedural}
    music: {engine: procedural, mood: calm}
    scenes:
      - narration: Hello from the daemon test. This sentence gives the job a few seconds of work.
      - narration: A second scene, so that there is something to interrupt.
    """

final class Folders: Sendable {
    let root: String
    init() {
        root = NSTemporaryDirectory() + "prostudio-daemon-" + UUID().uuidString
        for d in ["inbox", "outbox", "state"] { try! FileManager.default.createDirectory(atPath: root + "/" + d, withIntermediateDirectories: true) }
    }
    var config: DaemonConfig {
        var c = DaemonConfig()
        c.inbox = root + "/inbox"; c.outbox = root + "/outbox"; c.state = root + "/state"; c.models = nil
        c.settle = .milliseconds(200)
        c.logLevel = .warning
        c.worker = prostudioBinary  // jobs run in `prostudio worker` processes, as the shipped daemon runs them
        c.workerGrace = .seconds(2)
        return c
    }
    var journal: String { root + "/state/journal.sqlite3" }
    func drop(_ name: String, _ text: String) {
        let tmp = root + "/inbox/." + name + ".tmp"
        try! Data(text.utf8).write(to: URL(fileURLWithPath: tmp))
        rename(tmp, root + "/inbox/" + name)
    }
    deinit { try? FileManager.default.removeItem(atPath: root) }
}

/// The sidecar once it shows `state`: the supervisor writes it just after journaling the change, so a test that
/// polled the journal may be a moment ahead of it.
func sidecarOnce(_ f: Folders, _ name: String, _ state: Sidecar.State, timeout: Duration = .seconds(10)) async throws -> Sidecar {
    let url = URL(fileURLWithPath: f.root + "/outbox/" + name + ".json")
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if let s = try? Sidecar.read(url), s.state == state { return s }
        try await Task.sleep(for: .milliseconds(20))
    }
    return try Sidecar.read(url)
}

/// Waits (generously) until the journal shows a job matching `predicate`.
func waitFor(_ f: Folders, timeout: Duration = .seconds(120), _ predicate: @escaping (Job) -> Bool) async throws -> Job? {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if FileManager.default.fileExists(atPath: f.journal),
           let client = try? JournalClient(path: f.journal),
           let job = try await client.jobs(JobFilter()).first(where: predicate) {
            return job
        }
        try await Task.sleep(for: .milliseconds(100))
    }
    return nil
}

@Suite(.serialized) struct DaemonTests {
    @Test func aDroppedManifestBecomesAVideoAndASidecar() async throws {
        let f = Folders()
        let daemon = Daemon(config: f.config)
        let running = Task { try await daemon.run(handleSignals: false) }
        f.drop("tiny.yaml", tinyManifest)
        f.drop("broken.yaml", "title: broken\nscenes: 3\n")

        let done = try #require(try await waitFor(f) { $0.name == "tiny" && $0.state.isFinal })
        #expect(done.state == .done)
        #expect(done.outputs["video"] == "tiny.mp4")
        let sidecar = try await sidecarOnce(f, "tiny", .done)
        #expect(sidecar.state == .done && sidecar.job_id == done.id.rawValue)
        #expect(FileManager.default.fileExists(atPath: f.root + "/outbox/tiny.mp4"))

        let broken = try #require(try await waitFor(f) { $0.name == "broken" && $0.state.isFinal })
        #expect(broken.state == .rejected && broken.error?.field == "scenes")
        #expect(FileManager.default.fileExists(atPath: f.root + "/state/rejected/\(broken.id)/broken.yaml"))
        #expect(try await sidecarOnce(f, "broken", .rejected).state == .rejected)

        let client = try JournalClient(path: f.journal)
        let runs = try await client.stageRuns(of: done.id)
        #expect(runs.map(\.stage) == Stage.allCases.map(\.rawValue))
        #expect(runs.allSatisfy { $0.outcome == .ok && $0.engine != nil })

        daemon.shutdown()
        try await running.value
    }

    /// Stopped in an early stage (a job long enough that it cannot finish first), the job is parked `queued` without
    /// counting the attempt, and a restart runs it to the end as its one counted attempt.
    @Test func shutdownCheckpointsTheRunningJobAndARestartFinishesIt() async throws {
        let f = Folders()
        let first = Daemon(config: f.config)
        let running = Task { try await first.run(handleSignals: false) }
        f.drop("resume.yaml", slowManifest)
        let started = try #require(try await waitFor(f, isEarly))
        first.shutdown()
        try await running.value
        let client = try JournalClient(path: f.journal)
        let parked = try #require(try await client.job(started.id))
        #expect(parked.state == .queued)
        #expect(parked.attempts == 0)
        #expect(try Sidecar.read(URL(fileURLWithPath: f.root + "/outbox/resume.json")).state == .queued)

        let second = Daemon(config: f.config)
        let again = Task { try await second.run(handleSignals: false) }
        let done = try #require(try await waitFor(f) { $0.id == started.id && $0.state.isFinal })
        #expect(done.state == .done && done.attempts == 1)
        second.shutdown()
        try await again.value
    }

    // A cancel of the running job is WorkerTests.cancelAndTimeoutKillTheWorker: caught early, it must end `cancelled`.

    @Test func aStageOverItsTimeoutFailsTheJob() async throws {
        let f = Folders()
        var config = f.config
        config.stageTimeout = .milliseconds(50)
        let daemon = Daemon(config: config)
        let running = Task { try await daemon.run(handleSignals: false) }
        f.drop("slow.yaml", longerManifest)  // long enough that a busy machine cannot finish it before the timeout acts
        let end = try #require(try await waitFor(f) { $0.name == "slow" && $0.state.isFinal })
        #expect(end.state == .failed && end.error?.code == "stage_timeout", "\(end.state) \(String(describing: end.error))")
        #expect(try await sidecarOnce(f, "slow", .failed).error?.code == "stage_timeout")
        daemon.shutdown()
        try await running.value
    }

    @Test func configFile() throws {
        let f = Folders()
        let path = f.root + "/prostudio.yaml"
        try """
            folders: {inbox: /srv/in, outbox: /srv/out, state: /srv/state}
            pickup: {settle_ms: 250}
            limits: {stage_timeout_s: 60, max_attempts: 5}
            log_level: info
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let c = try DaemonConfig.load(path: path)
        #expect(c.inbox == "/srv/in" && c.outbox == "/srv/out" && c.state == "/srv/state")
        #expect(c.settle == .milliseconds(250) && c.stageTimeout == .seconds(60) && c.maxAttempts == 5 && c.logLevel == .info)

        try "limits: {max_attempts: 0}\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: DaemonConfig.Failure.self) { try DaemonConfig.load(path: path) }
        // Workers run nicer than the supervisor: 5 unless the config says otherwise; below 0 needs privileges.
        #expect(c.workerNice == 5)
        try "limits: {worker_nice: 0}\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try DaemonConfig.load(path: path).workerNice == 0)
        try "limits: {worker_nice: -1}\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: DaemonConfig.Failure.self) { try DaemonConfig.load(path: path) }
        // The shipped example parses.
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("systemd/prostudio.yaml").path
        #expect(try DaemonConfig.load(path: example).maxAttempts == 3)
    }
}
