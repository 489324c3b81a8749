import Foundation
import Synchronization
import Testing
import TestSupport
@testable import Journal

// The store's contract (claims, transitions, the loop guard, requests, deliveries, listings) is the conformance
// suite's (Conformance/): what stays here is SQLite's own: migrations, the CLI's read-only client, WAL readers.

extension TempDir {
    var journal: String { path + "/journal.sqlite3" }
}

@Suite struct MigrationTests {
    @Test func freshJournalHasEveryMigrationOnce() async throws {
        let dir = TempDir()
        let journal = try SQLiteJournal(path: dir.journal)
        #expect(try await journal.appliedMigrations() == Schema.identifiers)
        // Reopening applies nothing again and keeps the data.
        _ = try await journal.queued(1)
        let again = try SQLiteJournal(path: dir.journal)
        #expect(try await again.appliedMigrations() == Schema.identifiers)
        #expect(try await again.jobs(JobFilter()).count == 1)
    }

    @Test func olderJournalIsMigratedInPlaceAndKeepsItsJobs() async throws {
        let dir = TempDir()
        do {
            let v1 = try SQLiteJournal(path: dir.journal, upTo: "v1-jobs")
            #expect(try await v1.appliedMigrations() == ["v1-jobs"])
            _ = try await v1.claim(arrival(7))
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

    /// v6 rebuilds `requests` (a wider CHECK, a nullable job): the rows a v5 journal held come through, ids included.
    @Test func v6KeepsTheRequestsAndJobsOfAV5Journal() async throws {
        let dir = TempDir()
        let (job, request): (Job, Int64)
        do {
            let v5 = try SQLiteJournal(path: dir.journal, upTo: "v5-job-report")
            job = try await v5.claim(arrival(1)).job
            request = try await v5.write("old request") { db in
                try db.execute(sql: "INSERT INTO requests (job_id, action, requested_at, requested_by) VALUES (?, 'cancel', 1, 'old')",
                               arguments: [job.id.rawValue])
                return db.lastInsertedRowID
            }
        }
        let current = try SQLiteJournal(path: dir.journal)
        #expect(try await current.appliedMigrations() == Schema.identifiers)
        let kept = try await current.requests(of: nil)
        #expect(kept.map(\.id) == [request] && kept[0].jobID == job.id && kept[0].action == .cancel && kept[0].value == nil)
        let migrated = try #require(try await current.job(job.id))
        #expect(migrated.priority == 0 && migrated.notBefore == nil && migrated.packs.isEmpty && migrated.passes == 0)
        #expect(try await current.queueState() == QueueState())
        // The rebuilt table still cascades with its job and refuses an unknown action.
        await #expect(throws: JournalError.self) {
            try await current.write("bad action") { db in
                try db.execute(sql: "INSERT INTO requests (action, requested_at, requested_by) VALUES ('explode', 1, 'x')")
            }
        }
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

@Suite struct JobIDTests {
    @Test func idsAreUniqueAndSortByTime() {
        let early = JobID.generate(at: Date(timeIntervalSince1970: 1_700_000_000))
        let late = JobID.generate(at: Date(timeIntervalSince1970: 1_700_000_001))
        #expect(early < late && early.rawValue.count == 16)
        #expect(Set((0..<10_000).map { _ in JobID.generate() }).count == 10_000)
    }
}

@Suite struct RequestTests {
    @Test func cliRequestsAreAppliedByTheDaemon() async throws {
        let dir = TempDir()
        let journal = try SQLiteJournal(path: dir.journal)
        let a = try await journal.queued(1), b = try await journal.queued(2), c = try await journal.queued(3)
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

    /// `jobs pause`, `jobs resume` and `jobs priority` write requests as any other; the queue's event has no job.
    @Test func cliQueueRequestsAreAppliedAndJournaled() async throws {
        let dir = TempDir()
        let journal = try SQLiteJournal(path: dir.journal)
        let a = try await journal.queued(1)
        let cli = try JournalClient(path: dir.journal)
        try await cli.request(.pause, job: nil, value: nil, by: "alice")
        try await cli.request(.priority, job: a.id, value: -5, by: "alice")
        await #expect(throws: JournalError.self) { try await cli.request(.priority, job: a.id, value: 1000, by: "alice") }
        #expect(try await cli.queueState().paused == false)  // not until the daemon applies it
        #expect(try await journal.applyPendingRequests() == [.queuePaused(true), .reprioritised(a.id, -5)])
        #expect(try await cli.queueState().paused)
        #expect(try await cli.job(a.id)?.priority == -5)
        #expect(try await cli.requests(of: nil).map(\.outcome) == ["queue paused", "priority -5"])
        let queueEvents = try await cli.events(after: 0, job: nil).filter { $0.kind == "queue" }
        #expect(queueEvents.map(\.message) == ["queue paused requested by alice"] && queueEvents[0].jobID == nil)
    }

    @Test func clientFindsJobsByPrefixAndFollowsEvents() async throws {
        let dir = TempDir()
        let journal = try SQLiteJournal(path: dir.journal)
        let job = try await journal.queued(1)
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
            for n in 0..<total { _ = try await journal.queued(n) }
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
        for n in 0..<20 { _ = try await journal.queued(n) }
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
        let job = try await journal.queued(1)
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
