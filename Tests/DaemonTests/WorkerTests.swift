import Daemon
import Foundation
import Journal
import Pipeline
import Testing
import TestSupport

/// The `prostudio` executable built beside this test bundle (the daemon's workers are `prostudio worker`).
let prostudioBinary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    .appendingPathComponent("prostudio").path

/// Child processes of this test process named `prostudio` (the workers), from /proc; with `job`, only the one
/// running that job (suites run in parallel, each with its own daemon).
func workerPIDs(job: JobID? = nil) -> [pid_t] {
    let me = getpid()
    return ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry -> pid_t? in
        guard let pid = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8) else { return nil }
        // "pid (comm) state ppid ..."
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let comm = stat[stat.index(after: stat.firstIndex(of: "(")!)..<close]
        let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
        guard fields.count > 1, pid_t(fields[1]) == me, comm == "prostudio" else { return nil }
        if let job {
            guard let cmdline = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"),
                  String(decoding: cmdline, as: UTF8.self).contains(job.rawValue) else { return nil }
        }
        return pid
    }
}

/// The process model: each job in a `prostudio worker` child; the daemon survives whatever happens to it.
@Suite(.serialized) struct WorkerTests {
    func config(_ f: Folders) -> DaemonConfig {
        var c = f.config
        c.worker = prostudioBinary
        c.workerGrace = .seconds(2)
        return c
    }

    @Test func aJobRunsInAWorkerAndTheSupervisorWritesItsSidecar() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: prostudioBinary))
        let f = Folders()
        let daemon = Daemon(config: config(f))
        let running = Task { try await daemon.run(handleSignals: false) }
        f.drop("inworker.yaml", tinyManifest)
        var sawWorker = false
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if !workerPIDs().isEmpty { sawWorker = true }
            if let job = try await waitFor(f, timeout: .milliseconds(1), { $0.name == "inworker" && $0.state.isFinal }) {
                #expect(job.state == .done && job.seed == 3)
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(sawWorker)
        let done = try #require(try await waitFor(f) { $0.name == "inworker" })
        let sidecar = try await sidecarOnce(f, "inworker", .done)
        #expect(sidecar.state == .done && sidecar.stages.count == Stage.allCases.count)
        #expect(FileManager.default.fileExists(atPath: f.root + "/outbox/inworker.mp4"))
        #expect(try await eventually { workerPIDs(job: done.id).isEmpty })
        daemon.shutdown()
        try await running.value
    }

    /// A worker killed mid-job (segfault, OOM kill: here SIGKILL) fails its stage with the signal named; the
    /// daemon carries on and the loop guard retries the job.
    @Test func aKilledWorkerFailsItsStageWithTheSignalAndTheJobIsRetried() async throws {
        let f = Folders()
        let daemon = Daemon(config: config(f))
        let running = Task { try await daemon.run(handleSignals: false) }
        f.drop("crash.yaml", slowManifest)
        let job = try #require(try await waitFor(f, isEarly))
        let pids = workerPIDs(job: job.id)
        #expect(pids.count == 1)
        for pid in pids { kill(pid, SIGKILL) }
        let end = try #require(try await waitFor(f) { $0.id == job.id && $0.state.isFinal })
        #expect(end.state == .done)
        #expect(end.attempts == 2)
        let events = try await JournalClient(path: f.journal).events(of: job.id).map(\.message)
        #expect(events.contains { $0.contains("was killed by signal 9 (SIGKILL") && $0.contains("during stage") })
        #expect(events.contains { $0.contains("after worker.crashed") })
        daemon.shutdown()
        try await running.value
    }

    @Test func cancelAndTimeoutKillTheWorker() async throws {
        let f = Folders()
        let daemon = Daemon(config: config(f))
        let running = Task { try await daemon.run(handleSignals: false) }
        f.drop("cancelme.yaml", slowManifest)
        let job = try #require(try await waitFor(f, isEarly))
        try await JournalClient(path: f.journal).request(.cancel, job: job.id, by: "test")
        let end = try #require(try await waitFor(f) { $0.id == job.id && $0.state.isFinal })
        #expect(end.state == .cancelled)
        #expect(try await eventually { workerPIDs(job: job.id).isEmpty })
        daemon.shutdown()
        try await running.value

        var slow = config(f)
        slow.stageTimeout = .milliseconds(50)
        let second = Daemon(config: slow)
        let again = Task { try await second.run(handleSignals: false) }
        f.drop("slow.yaml", longerManifest)
        let timedOut = try #require(try await waitFor(f) { $0.name == "slow" && $0.state.isFinal })
        #expect(timedOut.state == .failed && timedOut.error?.code == "stage_timeout")
        #expect(try await eventually { workerPIDs(job: timedOut.id).isEmpty })
        second.shutdown()
        try await again.value
    }

    @Test func shutdownStopsTheWorkerAndRequeuesTheJob() async throws {
        let f = Folders()
        let daemon = Daemon(config: config(f))
        let running = Task { try await daemon.run(handleSignals: false) }
        f.drop("parked.yaml", slowManifest)
        let job = try #require(try await waitFor(f, isEarly))
        daemon.shutdown()
        try await running.value
        #expect(workerPIDs(job: job.id).isEmpty)
        let parked = try #require(try await JournalClient(path: f.journal).job(job.id))
        #expect(parked.state == .queued && parked.attempts == 0)
        #expect(try Sidecar.read(URL(fileURLWithPath: f.root + "/outbox/parked.json")).state == .queued)
    }
}
