import Daemon
import Failures
import Foundation
import Journal
import Pipeline
import Testing
import TestSupport

/// The daemon driven through `any JobStore`: the real SQLite journal (same schema, same transitions), opened in
/// memory, so a test reads every row a cancel or a shutdown leaves without a file or a second connection.
@Suite(.serialized) struct InMemoryStoreTests {
    /// Polls the store until a job matches.
    func waitFor(_ store: SQLiteJournal, timeout: Duration = .seconds(120), _ predicate: (Job) -> Bool) async throws -> Job? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let job = try await store.jobs(JobFilter()).first(where: predicate) { return job }
            try await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    /// What `JournalClient.ringBell` does for a journal file: close `requests.bell` beside it.
    func ringBell(_ f: Folders) {
        let fd = open(f.root + "/state/requests.bell", O_WRONLY | O_CREAT | O_CLOEXEC, 0o664)
        if fd >= 0 { close(fd) }
    }

    /// Whether `pid` is still a process (a zombie not yet reaped counts as gone: it cannot run).
    func alive(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(close, offsetBy: 2)] != "Z"
    }

    /// Hidden leftovers in the outbox: work folders and temp files.
    func leftovers(_ f: Folders) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: f.root + "/outbox").filter { $0.hasPrefix(".") }
    }

    /// Cancel sends SIGTERM and, to a worker that does not stop (here stopped with SIGSTOP, as a worker hung in a
    /// native call would be), SIGKILL once the grace period has passed, not before. The job ends `cancelled`, its
    /// running stage run `cancelled`, and nothing of it is left in the outbox.
    @Test func cancelKillsAWorkerThatIgnoresSIGTERMAfterTheGracePeriod() async throws {
        let f = Folders()
        let store = try SQLiteJournal.inMemory()
        var config = f.config
        config.workerGrace = .milliseconds(1500)
        let daemon = Daemon(config: config, store: store)
        let running = Task { try await daemon.run(handleSignals: false) }
        #expect(!FileManager.default.fileExists(atPath: f.journal))  // the daemon uses the store it was given

        f.drop("hung.yaml", slowManifest)
        let job = try #require(try await waitFor(store, isEarly))
        let pid = try #require(workerPIDs(job: job.id).first)
        #expect(kill(pid, SIGSTOP) == 0)
        let asked = ContinuousClock.now
        try await store.request(.cancel, job: job.id, by: "test")
        ringBell(f)
        // Half-way through the grace period the (stopped) worker is still there: no SIGKILL yet.
        try await Task.sleep(for: .milliseconds(700))
        let stillThere = alive(pid)
        let end = try #require(try await waitFor(store) { $0.id == job.id && $0.state.isFinal })
        let took = ContinuousClock.now - asked
        #expect(stillThere)
        #expect(end.state == .cancelled && end.attempts == 1 && end.error == nil)
        #expect(took >= .milliseconds(1500), "the worker was killed \(took) after the cancel, before its grace period")
        #expect(!alive(pid) && workerPIDs(job: job.id).isEmpty)

        // Every stage run is closed: the ones that finished `ok`, the one the cancel interrupted `cancelled`.
        let runs = try await store.stageRuns(of: job.id)
        #expect(!runs.isEmpty && runs.allSatisfy { $0.endedAt != nil })
        #expect(runs.dropLast().allSatisfy { $0.outcome == .ok } && runs.last?.outcome == .cancelled)
        let states = try await store.events(of: job.id).filter { $0.kind == "state" }.map(\.message)
        #expect(Array(states.dropFirst()) == ["claimed -> queued: \(f.root)/state/jobs/\(job.id)/hung.yaml", "queued -> running",
                                              "running -> cancelled"], "\(states)")
        #expect(try await store.requests(of: job.id).allSatisfy { $0.handledAt != nil })

        let sidecar = try await sidecarOnce(f, "hung", .cancelled)
        // Killed, the worker sent no last sidecar: the supervisor's says cancelled, with no error (nothing failed).
        #expect(sidecar.state == .cancelled && sidecar.error == nil && sidecar.job_id == job.id.rawValue)
        // No partial file: the work folder of the killed worker is swept once the job has ended.
        let swept = try await eventually { try leftovers(f).isEmpty }
        #expect(swept, "\((try? leftovers(f)) ?? [])")
        #expect(!FileManager.default.fileExists(atPath: f.root + "/outbox/hung.mp4"))
        daemon.shutdown()
        try await running.value
    }

    /// Shutdown stops the worker at its next checkpoint and puts the job back exactly: `queued`, the attempt not
    /// counted, finished stage runs `ok` and the interrupted one `interrupted`, its sidecar `queued`. The same store,
    /// given to the next daemon, finishes it.
    @Test func shutdownCheckpointsTheJobExactlyAndTheNextDaemonFinishesIt() async throws {
        let f = Folders()
        let store = try SQLiteJournal.inMemory()
        let first = Daemon(config: f.config, store: store)
        let running = Task { try await first.run(handleSignals: false) }
        f.drop("parked.yaml", slowManifest)
        let job = try #require(try await waitFor(store, isEarly))
        let pid = try #require(workerPIDs(job: job.id).first)
        first.shutdown()
        try await running.value

        #expect(!alive(pid))
        let parked = try #require(try await store.job(job.id))
        #expect(parked.state == .queued && parked.attempts == 0 && parked.error == nil, "\(parked)")
        let runs = try await store.stageRuns(of: job.id)
        #expect(!runs.isEmpty && runs.allSatisfy { $0.endedAt != nil })
        #expect(runs.dropLast().allSatisfy { $0.outcome == .ok } && runs.last?.outcome == .interrupted, "\(runs.map(\.outcome))")
        let states = try await store.events(of: job.id).filter { $0.kind == "state" }.map(\.message)
        #expect(Array(states.dropFirst()) == ["claimed -> queued: \(f.root)/state/jobs/\(job.id)/parked.yaml", "queued -> running",
                                              "running -> queued: checkpointed at shutdown"], "\(states)")
        #expect(try Sidecar.read(URL(fileURLWithPath: f.root + "/outbox/parked.json")).state == .queued)
        let left = try leftovers(f)
        #expect(left.isEmpty, "\(left)")

        let second = Daemon(config: f.config, store: store)
        let again = Task { try await second.run(handleSignals: false) }
        let done = try #require(try await waitFor(store) { $0.id == job.id && $0.state.isFinal })
        #expect(done.state == .done && done.attempts == 1)
        // The stages the first attempt finished come from the stage cache.
        let second_runs = try await store.stageRuns(of: job.id).dropFirst(runs.count)
        let finishedBefore = Set(runs.dropLast().map(\.stage)).subtracting(["plan"])
        #expect(second_runs.filter { finishedBefore.contains($0.stage) }.allSatisfy { $0.cacheHit }, "\(second_runs.map { ($0.stage, $0.cacheHit) })")
        second.shutdown()
        try await again.value
    }
}
