import Foundation
import Synchronization
import Testing
@testable import Journal

/// A fresh folder per test, removed afterwards.
final class TempDir {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "prostudio-journal-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    var journal: String { path + "/journal.sqlite3" }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

func arrival(_ n: Int, kind: SourceKind = .file) -> NewArrival {
    NewArrival(name: "job\(n)", sourceName: "job\(n).yaml", sourcePath: "/inbox/job\(n).yaml", sourceKind: kind, dedupKey: "key-\(n)")
}

/// claim + queue, as pick-up does.
func queued(_ journal: SQLiteJournal, _ n: Int) async throws -> Job {
    let (job, _) = try await journal.claim(arrival(n))
    return try await journal.markQueued(job.id, manifestPath: "/state/jobs/\(job.id)/job\(n).yaml")
}

@Suite struct MigrationTests {
    @Test func freshJournalHasEveryMigrationOnce() async throws {
        let dir = TempDir()
        let journal = try SQLiteJournal(path: dir.journal)
        #expect(try await journal.appliedMigrations() == Schema.identifiers)
        // Reopening applies nothing again and keeps the data.
        _ = try await queued(journal, 1)
        let again = try SQLiteJournal(path: dir.journal)
        #expect(try await again.appliedMigrations() == Schema.identifiers)
        #expect(try await again.jobs(JobFilter()).count == 1)
    }

    @Test func olderJournalIsMigratedInPlaceAndKeepsItsJobs() async throws {
        let dir = TempDir()
        do {
            let v1 = try SQLiteJournal(path: dir.journal, upTo: "v1-jobs")
            #expect(try await v1.appliedMigrations() == ["v1-jobs"])
            _ = try await queued(v1, 7)
        }
        // The CLI refuses a journal the daemon has not migrated yet.
        #expect(throws: JournalError.self) { try JournalClient(path: dir.journal) }
        let current = try SQLiteJournal(path: dir.journal)
        #expect(try await current.appliedMigrations() == Schema.identifiers)
        let jobs = try await current.jobs(JobFilter())
        #expect(jobs.map(\.name) == ["job7"])
        #expect(jobs[0].seed == nil)
        #expect(try JournalClient(path: dir.journal).path == dir.journal)
    }

    @Test func clientRefusesAMissingJournal() {
        let dir = TempDir()
        #expect(throws: JournalError.self) { try JournalClient(path: dir.path + "/nope.sqlite3") }
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/nope.sqlite3"))
    }

    @Test func foreignKeysAreEnforced() async throws {
        let dir = TempDir()
        let journal = try SQLiteJournal(path: dir.journal)
        await #expect(throws: JournalError.self) { _ = try await journal.beginStage("no-such-job", stage: "plan", engine: nil) }
        await #expect(throws: JournalError.self) { try await JournalClient(path: dir.journal).request(.retry, job: "no-such-job", by: "test") }
    }
}

@Suite struct TransitionTests {
    @Test func aJobRunsThroughItsStages() async throws {
        let dir = TempDir()
        let journal = try SQLiteJournal(path: dir.journal)
        let (claimed, isNew) = try await journal.claim(arrival(1))
        #expect(isNew && claimed.state == .claimed && claimed.manifestPath == nil)
        let job = try await journal.markQueued(claimed.id, manifestPath: "/m.yaml")
        #expect(job.state == .queued && job.manifestPath == "/m.yaml")

        let running = try #require(try await journal.startNext())
        #expect(running.id == job.id && running.state == .running && running.attempts == 1)
        #expect(try await journal.startNext() == nil)

        let run = try await journal.beginStage(job.id, stage: "speech", engine: "espeak")
        try await journal.setProgress(job.id, stage: "speech", progress: 0.4)
        try await journal.endStage(run: run, outcome: .ok, peakMemoryBytes: 1234, cacheHit: false)
        let done = try await journal.finish(job.id, outputs: ["video": "job1.mp4", "sidecar": "job1.json"])
        #expect(done.state == .done && done.progress == 1 && done.outputs["video"] == "job1.mp4")

        let runs = try await journal.stageRuns(of: job.id)
        #expect(runs.count == 1 && runs[0].outcome == .ok && runs[0].peakMemoryBytes == 1234 && runs[0].engine == "espeak")
        #expect(runs[0].seconds != nil)
        let kinds = try await journal.events(of: job.id).map(\.message)
        #expect(kinds.contains { $0.hasPrefix("queued -> running") } && kinds.contains { $0.hasPrefix("running -> done") })
    }

    @Test func illegalTransitionsAreRefused() async throws {
        let dir = TempDir()
        let journal = try SQLiteJournal(path: dir.journal)
        let job = try await queued(journal, 1)
        await #expect(throws: JournalError.self) { _ = try await journal.finish(job.id, outputs: [:]) }
        await #expect(throws: JournalError.self) { try await journal.setProgress(job.id, stage: "plan", progress: 0.1) }
        _ = try await journal.start(job.id)
        _ = try await journal.finish(job.id, outputs: [:])
        await #expect(throws: JournalError.self) { _ = try await journal.start(job.id) }
        await #expect(throws: JournalError.self) { _ = try await journal.cancel(job.id) }
        #expect(try await journal.job(job.id)?.state == .done)
    }

    @Test func theSameArrivalIsClaimedOnce() async throws {
        let dir = TempDir()
        let journal = try SQLiteJournal(path: dir.journal)
        let a = try await journal.claim(arrival(1))
        let b = try await journal.claim(arrival(1))
        #expect(a.isNew && !b.isNew && a.job.id == b.job.id)
        #expect(try await journal.jobs(JobFilter()).count == 1)
    }

    @Test func retryableFailuresRequeueUntilTheLoopGuard() async throws {
        let dir = TempDir()
        let journal = try SQLiteJournal(path: dir.journal, maxAttempts: 2)
        let job = try await queued(journal, 1)
        let error = JobError(code: "gpu_oom", message: "out of GPU memory", field: nil)
        _ = try await journal.start(job.id)
        #expect(try await journal.fail(job.id, error: error, retryable: true).state == .queued)
        _ = try await journal.start(job.id)
        let failed = try await journal.fail(job.id, error: error, retryable: true)
        #expect(failed.state == .failed && failed.error == error && failed.attempts == 2)
    }

    @Test func filtersAndOrder() async throws {
        let dir = TempDir()
        let journal = try SQLiteJournal(path: dir.journal)
        for n in 0..<5 { _ = try await queued(journal, n) }
        _ = try await journal.startNext()
        let all = try await journal.jobs(JobFilter())
        #expect(all.count == 5)
        #expect(try await journal.jobs(JobFilter(states: [.running])).count == 1)
        #expect(try await journal.jobs(JobFilter(states: [.queued], limit: 2)).count == 2)
        // Ids sort by creation: newest first in listings.
        #expect(all.map(\.id) == all.map(\.id).sorted(by: >))
    }

    @Test func artifactsIndex() async throws {
        let dir = TempDir()
        let journal = try SQLiteJournal(path: dir.journal)
        try await journal.recordArtifact(Artifact(key: "k1", stage: "speech", path: "cache/k1.wav", sizeBytes: 10))
        try await journal.recordArtifact(Artifact(key: "k1", stage: "speech", path: "cache/k1b.wav", sizeBytes: 12))
        let a = try #require(try await journal.artifact(key: "k1"))
        #expect(a.path == "cache/k1b.wav" && a.sizeBytes == 12)
        try await journal.touchArtifact(key: "k1")
        try await journal.removeArtifact(key: "k1")
        #expect(try await journal.artifact(key: "k1") == nil)
    }

    @Test func idsAreUniqueAndSortByTime() {
        let early = JobID.generate(at: Date(timeIntervalSince1970: 1_700_000_000))
        let late = JobID.generate(at: Date(timeIntervalSince1970: 1_700_000_001))
        #expect(early < late && early.rawValue.count == 16)
        #expect(Set((0..<10_000).map { _ in JobID.generate() }).count == 10_000)
    }
}

@Suite struct RestartTests {
    @Test func runningJobsAreRequeuedOnRestart() async throws {
        let dir = TempDir()
        let id: JobID
        do {
            let journal = try SQLiteJournal(path: dir.journal)
            id = try await queued(journal, 1).id
            _ = try await journal.start(id)
            _ = try await journal.beginStage(id, stage: "visuals", engine: "procedural")
        }  // "killed" mid-stage
        let restarted = try SQLiteJournal(path: dir.journal)
        let report = try await restarted.recover()
        #expect(report.requeued == [id] && report.failedByLoopGuard.isEmpty)
        #expect(try await restarted.job(id)?.state == .queued)
        #expect(try await restarted.stageRuns(of: id).map(\.outcome) == [.interrupted])
        // The resumed run is attempt 2.
        #expect(try await restarted.startNext()?.attempts == 2)
    }

    @Test func loopGuardStopsAJobThatKeepsCrashingTheDaemon() async throws {
        let dir = TempDir()
        let id = try await queued(try SQLiteJournal(path: dir.journal, maxAttempts: 3), 1).id
        for crash in 1...3 {
            let journal = try SQLiteJournal(path: dir.journal, maxAttempts: 3)
            let report = try await journal.recover()
            if crash > 1 { #expect(report.requeued == [id]) }
            #expect(try await journal.startNext()?.id == id)  // ...and the daemon dies while running it
        }
        let journal = try SQLiteJournal(path: dir.journal, maxAttempts: 3)
        let report = try await journal.recover()
        #expect(report.failedByLoopGuard == [id] && report.requeued.isEmpty)
        let job = try #require(try await journal.job(id))
        #expect(job.state == .failed && job.error?.code == "attempts_exhausted")
        #expect(try await journal.startNext() == nil)

        // A person's retry resets the guard.
        try await JournalClient(path: dir.journal).request(.retry, job: id, by: "test")
        #expect(try await journal.applyPendingRequests() == [.requeued(id)])
        #expect(try await journal.job(id)?.attempts == 0)
    }

    @Test func claimedJobsAreReportedForReconciliation() async throws {
        let dir = TempDir()
        let id = try await SQLiteJournal(path: dir.journal).claim(arrival(3)).job.id
        let report = try await SQLiteJournal(path: dir.journal).recover()
        #expect(report.claimed.map(\.id) == [id])
    }
}

@Suite struct RequestTests {
    @Test func cliRequestsAreAppliedByTheDaemon() async throws {
        let dir = TempDir()
        let journal = try SQLiteJournal(path: dir.journal)
        let a = try await queued(journal, 1), b = try await queued(journal, 2), c = try await queued(journal, 3)
        _ = try await journal.start(b.id)
        _ = try await journal.start(c.id)
        _ = try await journal.finish(c.id, outputs: [:])

        let cli = try JournalClient(path: dir.journal)
        try await cli.request(.cancel, job: a.id, by: "alice")
        try await cli.request(.cancel, job: b.id, by: "alice")
        try await cli.request(.retry, job: c.id, by: "alice")
        #expect(FileManager.default.fileExists(atPath: JournalClient.bellPath(forJournal: dir.journal)))
        // Nothing changes until the daemon applies them: it is the only writer of job state.
        #expect(try await cli.job(a.id)?.state == .queued)

        let effects = try await journal.applyPendingRequests()
        #expect(effects.count == 3)
        #expect(effects[0] == .cancelled(a.id) && effects[1] == .stopRunning(b.id))
        guard case .ignored(c.id, _) = effects[2] else { Issue.record("retry of a done job should be ignored"); return }
        #expect(try await journal.applyPendingRequests().isEmpty)
        #expect(try await cli.requests(of: nil).allSatisfy { $0.handledAt != nil && $0.outcome != nil })
        #expect(try await cli.job(b.id)?.cancelRequested == true)

        // The daemon dies before stopping b: the cancel still wins on restart.
        let report = try await SQLiteJournal(path: dir.journal).recover()
        #expect(report.cancelled == [b.id])
        #expect(try await cli.job(b.id)?.state == .cancelled)
    }

    @Test func clientFindsJobsByPrefixAndFollowsEvents() async throws {
        let dir = TempDir()
        let journal = try SQLiteJournal(path: dir.journal)
        let job = try await queued(journal, 1)
        let cli = try JournalClient(path: dir.journal)
        #expect(try await cli.resolve(String(job.id.rawValue.prefix(12)))?.id == job.id)
        #expect(try await cli.resolve("zzzz") == nil)
        let mark = try await cli.lastEventID()
        _ = try await journal.start(job.id)
        let new = try await cli.events(after: mark, job: nil)
        #expect(new.map(\.message) == ["queued -> running"])
        #expect(try await cli.events(after: 0, job: job.id).count == 3)
    }

    @Test func readersSeeConsistentDataWhileTheDaemonWrites() async throws {
        let dir = TempDir()
        let journal = try SQLiteJournal(path: dir.journal)
        let client = try JournalClient(path: dir.journal)
        let total = 300
        let writer = Task {
            for n in 0..<total { _ = try await queued(journal, n) }
        }
        var last = 0, reads = 0
        while true {
            let jobs = try await client.jobs(JobFilter())
            // A reader sees whole transactions: never a claimed-but-not-queued job from the middle of a pick-up
            // except the one in flight, and never fewer jobs than before.
            #expect(jobs.count >= last)
            #expect(jobs.filter { $0.state == .claimed }.count <= 1)
            last = jobs.count
            reads += 1
            if last == total { break }
            await Task.yield()
        }
        try await writer.value
        #expect(reads > 1)
        #expect(try await client.jobs(JobFilter(states: [.queued])).count == total)
    }
}

/// F13: outside readers got `database is locked` while `prostudio jobs` ran: the CLI opened a read-write pool,
/// and as the last connection to close it checkpointed the WAL into the database and deleted it.
@Suite struct ReadOnlyClientTests {
    func bytes(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

    @Test func theCLIReaderNeitherWritesNorCheckpoints() async throws {
        let dir = TempDir()
        let journal = try SQLiteJournal(path: dir.journal)
        for n in 0..<20 { _ = try await queued(journal, n) }
        // What a kill -9 of the daemon leaves: commits in the WAL, not yet in the database file.
        let snapshot = TempDir()
        for suffix in ["", "-wal", "-shm"] {
            try FileManager.default.copyItem(atPath: dir.journal + suffix, toPath: snapshot.journal + suffix)
        }
        let database = try #require(bytes(snapshot.journal))
        let wal = try #require(bytes(snapshot.journal + "-wal"))
        #expect(!wal.isEmpty)
        do {
            let client = try JournalClient(path: snapshot.journal)
            #expect(try await client.jobs(JobFilter()).count == 20)
            #expect(try await client.integrityCheck() == ["ok"])
            _ = try await client.resolve("0")
        }
        // Closed, and nothing was written: no checkpoint into the file, the WAL untouched.
        #expect(bytes(snapshot.journal) == database)
        #expect(bytes(snapshot.journal + "-wal") == wal)
        // The one write it may make, a request, still works (and reaches the daemon's journal).
        let job = try #require(try await journal.jobs(JobFilter()).first)
        try await JournalClient(path: dir.journal).request(.cancel, job: job.id, by: "test")
        #expect(try await journal.requests(of: job.id).count == 1)
    }
}

/// `jobs watch ID` never exited when the job ended.
@Suite struct FollowTests {
    @Test func followingOneJobEndsWhenTheJobDoes() async throws {
        let dir = TempDir()
        let journal = try SQLiteJournal(path: dir.journal)
        let job = try await queued(journal, 1)
        let client = try JournalClient(path: dir.journal)
        let seen = Items()
        let watcher = Task { try await client.follow(job: job.id, after: 0, interval: .milliseconds(20)) { seen.append($0.message) } }
        _ = try await journal.start(job.id)
        try await Task.sleep(for: .milliseconds(100))
        #expect(!seen.all.isEmpty)
        _ = try await journal.finish(job.id, outputs: [:])
        let end = try await watcher.value
        #expect(end?.state == .done)
        #expect(seen.all.last?.contains("running -> done") == true)
        #expect(seen.all.first?.hasPrefix("claimed") == true)
    }
}

final class Items: Sendable {
    private let items = Mutex<[String]>([])
    func append(_ s: String) { items.withLock { $0.append(s) } }
    var all: [String] { items.withLock { $0 } }
}
