import Foundation
import GRDB

/// A job as the HTTP API lists it: the journal row and whether `DELETE` removed its outputs.
public struct ListedJob: Sendable, Hashable {
    public var job: Job
    /// Set by `markDeleted`: the row stays (history, metrics), the outputs and job folder are gone.
    public var deletedAt: Date?
    /// The state the API reports: `deleted` once deleted, else the journal state (`claimed` shows as `queued`).
    public var apiState: String { deletedAt != nil ? "deleted" : (job.state == .claimed ? "queued" : job.state.rawValue) }
}

/// What the HTTP API lists, page by page, and its deletion marks: every store the API may run on provides them.
public protocol JobListing: Sendable {
    func listedJob(_ id: JobID) async throws -> ListedJob?
    /// Newest first, at most `limit` jobs with ids below the `before` cursor; only deleted ones when `deleted`, else none of them.
    func listedJobs(states: Set<JobState>?, deleted: Bool, before: JobID?, limit: Int) async throws -> [ListedJob]
    /// Marks a job in a final state deleted (once: a second mark keeps the first time); refused for any other state.
    @discardableResult
    func markDeleted(_ id: JobID) async throws -> ListedJob
}

/// What the HTTP API reads beyond a `JobStore`: the dashboard's live feed, a job's event stream, `/metrics`, and
/// readiness. Both journals provide it, so the API serves a daemon on SQLite or on PostgreSQL alike.
public protocol APIJournal: JobStore {
    /// Jobs changed at or after `since`, oldest change first.
    func jobsChanged(since: Date, limit: Int) async throws -> [ListedJob]
    /// Events with an id above `after`, of one job, oldest first.
    func events(after: Int64, job: JobID) async throws -> [JobEvent]
    func metricsSnapshot(afterRun: Int64, afterEvent: Int64, jobsAfter: String) async throws -> MetricsSnapshot
    /// Why the journal cannot take writes now, found without waiting (the readiness check); nil when it can.
    var writeProblem: String? { get }
}

extension APIJournal {
    public func jobsChanged(since: Date) async throws -> [ListedJob] { try await jobsChanged(since: since, limit: 500) }
}

/// The HTTP API's reads and its few writes (requests, deletion marks), on the daemon's own journal: the API runs
/// inside the daemon process, so it reads through the pool's concurrent readers and never blocks the writer.
extension SQLiteJournal: APIJournal {
    public var writeProblem: String? {
        access(path, W_OK) == 0 && access((path as NSString).deletingLastPathComponent, W_OK) == 0 ? nil : "not writable"
    }

    private static func listed(_ row: Row) -> ListedJob {
        let deleted: Double? = row["deleted_at"]
        return ListedJob(job: Rows.job(row), deletedAt: deleted.map { Date(timeIntervalSince1970: $0) })
    }

    public func listedJob(_ id: JobID) async throws -> ListedJob? {
        try await journaled("job") {
            try await pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id.rawValue]).map(Self.listed) }
        }
    }

    /// Newest first, `limit` rows after the `before` cursor (a job id). `deleted` lists only deleted jobs; without it
    /// deleted ones are left out.
    public func listedJobs(states: Set<JobState>?, deleted: Bool, before: JobID?, limit: Int) async throws -> [ListedJob] {
        try await journaled("jobs") {
            try await pool.read { db in
                var sql = "SELECT * FROM jobs WHERE deleted_at IS \(deleted ? "NOT NULL" : "NULL")"
                var args = StatementArguments()
                if let states, !states.isEmpty {
                    let list = states.map(\.rawValue).sorted()
                    sql += " AND state IN (\(Array(repeating: "?", count: list.count).joined(separator: ",")))"
                    args += StatementArguments(list)
                }
                if let before {
                    // Ids sort by creation time (JobID): the cursor is the last id of the previous page.
                    sql += " AND id < ?"
                    args += [before.rawValue]
                }
                sql += " ORDER BY id DESC LIMIT \(max(0, limit))"
                return try Row.fetchAll(db, sql: sql, arguments: args).map(Self.listed)
            }
        }
    }

    /// Jobs changed at or after `since` (the dashboard's live feed), oldest change first.
    public func jobsChanged(since: Date, limit: Int = 500) async throws -> [ListedJob] {
        try await journaled("jobs changed") {
            try await pool.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM jobs WHERE updated_at >= ? ORDER BY updated_at LIMIT \(limit)",
                                 arguments: [Rows.seconds(since)]).map(Self.listed)
            }
        }
    }

    /// Events with an id above `after`, of one job, oldest first.
    public func events(after: Int64, job: JobID) async throws -> [JobEvent] {
        try await journaled("events") {
            try await pool.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM events WHERE id > ? AND job_id = ? ORDER BY id",
                                 arguments: [after, job.rawValue]).map(Rows.event)
            }
        }
    }

    /// Counts by state (deleted ones apart) and stage runs closed after `afterRun`: what `/metrics` reads.
    public func metricsSnapshot(afterRun: Int64, afterEvent: Int64, jobsAfter: String = "") async throws -> MetricsSnapshot {
        try await journaled("metrics") {
            try await pool.read { db in
                var s = MetricsSnapshot()
                for row in try Row.fetchAll(db, sql: "SELECT state, deleted_at IS NOT NULL AS deleted, COUNT(*) AS n FROM jobs GROUP BY 1, 2") {
                    let deleted: Bool = row["deleted"]
                    let state: String = row["state"]
                    s.byState[deleted ? "deleted" : state, default: 0] += row["n"] as Int
                }
                s.stageRuns = try Row.fetchAll(db, sql: """
                    SELECT * FROM stage_runs WHERE id > ? AND ended_at IS NOT NULL AND outcome != 'running'
                    AND id < COALESCE((SELECT MIN(id) FROM stage_runs WHERE ended_at IS NULL), 9223372036854775807) ORDER BY id
                    """, arguments: [afterRun]).map(Rows.stageRun)
                s.workerEvents = try Row.fetchAll(db, sql: "SELECT * FROM events WHERE id > ? AND kind = 'worker' ORDER BY id",
                                                  arguments: [afterEvent]).map(Rows.event)
                s.lastEvent = try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM events") ?? 0
                // Jobs journaled since the last scrape (ids sort by creation), for the inbox's pick-up latency.
                s.newJobs = try Row.fetchAll(db, sql: "SELECT * FROM jobs WHERE id > ? ORDER BY id LIMIT 10000", arguments: [jobsAfter]).map(Rows.job)
                return s
            }
        }
    }

    /// Marks a finished job deleted (its outputs are removed by the caller); the row and its history stay.
    /// Refused (`invalidTransition`) unless the job is in a final state.
    @discardableResult
    public func markDeleted(_ id: JobID) async throws -> ListedJob {
        try await journaled("delete \(id)") {
            try await pool.write { db in
                guard let row = try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id.rawValue]) else {
                    throw JournalError.notFound(id)
                }
                var listed = Self.listed(row)
                guard listed.job.state.isFinal else { throw JournalError.invalidTransition(id, from: listed.job.state, to: listed.job.state) }
                if listed.deletedAt == nil {
                    let now = Date()
                    try db.execute(sql: "UPDATE jobs SET deleted_at = ?, updated_at = ? WHERE id = ?",
                                   arguments: [Rows.seconds(now), Rows.seconds(now), id.rawValue])
                    try db.execute(sql: "INSERT INTO events (job_id, at, kind, message) VALUES (?, ?, 'deleted', 'outputs deleted over the API')",
                                   arguments: [id.rawValue, Rows.seconds(now)])
                    listed.deletedAt = now
                }
                return listed
            }
        }
    }
}

/// What one `/metrics` scrape reads from the journal.
public struct MetricsSnapshot: Sendable {
    public var byState: [String: Int] = [:]
    public var stageRuns: [StageRun] = []
    public var workerEvents: [JobEvent] = []
    public var lastEvent: Int64 = 0
    public var newJobs: [Job] = []
}
