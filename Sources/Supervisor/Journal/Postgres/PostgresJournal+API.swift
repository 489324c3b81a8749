import Foundation
import PostgresNIO

/// The HTTP API's reads on PostgreSQL (the same as `SQLiteJournal`'s in APIQueries.swift): the API on a host serves
/// every host's jobs.
extension PostgresJournal: APIJournal {
    /// A pool reconnects by itself; a database that is down shows as failing queries, not here.
    public var writeProblem: String? { nil }

    public func jobsChanged(since: Date, limit: Int) async throws -> [ListedJob] {
        let logger = logger
        return try await read("jobs changed") { conn in
            try await Self.rows(conn, "SELECT * FROM jobs WHERE updated_at >= \(Rows.seconds(since)) ORDER BY updated_at LIMIT \(limit)",
                                logger, PGRows.listed)
        }
    }

    public func events(after: Int64, job: JobID) async throws -> [JobEvent] {
        try await events(after: after, job: Optional(job))
    }

    public func metricsSnapshot(afterRun: Int64, afterEvent: Int64, jobsAfter: String) async throws -> MetricsSnapshot {
        let logger = logger
        return try await read("metrics") { conn in
            var s = MetricsSnapshot()
            let counts = try await conn.query(
                "SELECT state, deleted_at IS NOT NULL AS deleted, COUNT(*)::BIGINT AS n FROM jobs GROUP BY 1, 2", logger: logger)
            for try await (state, deleted, n) in counts.decode((String, Bool, Int64).self) {
                s.byState[deleted ? "deleted" : state, default: 0] += Int(n)
            }
            // Runs closed below the first still-open one: a scrape never skips a run that closes later with a lower id.
            s.stageRuns = try await Self.rows(conn, """
                SELECT * FROM stage_runs WHERE id > \(afterRun) AND ended_at IS NOT NULL AND outcome != 'running'
                AND id < COALESCE((SELECT MIN(id) FROM stage_runs WHERE ended_at IS NULL), 9223372036854775807) ORDER BY id
                """, logger, PGRows.stageRun)
            s.workerEvents = try await Self.rows(conn, "SELECT * FROM events WHERE id > \(afterEvent) AND kind = 'worker' ORDER BY id",
                                                 logger, PGRows.event)
            s.lastEvent = try await Self.rows(conn, "SELECT COALESCE(MAX(id), 0)::BIGINT FROM events", logger) { try $0.decode(Int64.self) }.first ?? 0
            s.newJobs = try await Self.rows(conn, "SELECT * FROM jobs WHERE id COLLATE \"C\" > \(jobsAfter) ORDER BY id COLLATE \"C\" LIMIT 10000",
                                            logger, PGRows.job)
            return s
        }
    }
}
