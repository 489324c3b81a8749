import Contract
import Foundation
import Logging
import PostgresNIO

/// Pick-up, running, restart and requests on PostgreSQL: each one transaction, each transition checked by `move`, with the
/// same errors, notes and loop guard as `SQLiteJournal`.
extension PostgresJournal {
    // MARK: Pick-up

    /// The dedup key's UNIQUE constraint decides between concurrent claims: `ON CONFLICT DO NOTHING` waits for the other
    /// claim to commit, and the SELECT after it (a new snapshot) then finds that job.
    public func claim(_ arrival: NewArrival) async throws -> (job: Job, isNew: Bool) {
        let logger = logger
        return try await write("claim \(arrival.sourceName)") { conn in
            let id = JobID.generate()
            let now = Rows.seconds(Date())
            let inserted = try await Self.rows(conn, """
                INSERT INTO jobs (id, name, state, source_name, source_path, source_kind, dedup_key, created_at, updated_at)
                VALUES (\(id.rawValue), \(arrival.name), 'claimed', \(arrival.sourceName), \(arrival.sourcePath),
                        \(arrival.sourceKind.rawValue), \(arrival.dedupKey), \(now), \(now))
                ON CONFLICT (dedup_key) DO NOTHING RETURNING *
                """, logger, PGRows.job)
            if let job = inserted.first {
                try await Self.event(conn, id, kind: "state", message: "claimed \(arrival.sourcePath)", logger)
                return (job, true)
            }
            let existing = try await Self.rows(conn, "SELECT * FROM jobs WHERE dedup_key = \(arrival.dedupKey)", logger, PGRows.job)
            guard let job = existing.first else {
                throw JournalError.database(operation: "claim \(arrival.sourceName)", underlying: "dedup key \(arrival.dedupKey) conflicted but no job holds it")
            }
            return (job, false)
        }
    }

    public func countPickUp(_ id: JobID, by delta: Int) async throws -> Job {
        let logger = logger
        return try await write("count pick-up \(id)") { conn in
            try await conn.query("""
                UPDATE jobs SET attempts = GREATEST(attempts + \(Int64(delta)), 0), updated_at = \(Rows.seconds(Date()))
                WHERE id = \(id.rawValue) AND state = 'claimed'
                """, logger: logger)
            guard let job = try await Self.job(conn, id, logger) else { throw JournalError.notFound(id) }
            guard job.state == .claimed else { throw JournalError.invalidTransition(id, from: job.state, to: .claimed) }
            return job
        }
    }

    public func markQueued(_ id: JobID, manifestPath: String, order: QueueOrder) async throws -> Job {
        let logger = logger, channel = channel
        return try await write("queue \(id)") { conn in
            try await Self.move(conn, id, to: .queued, set: [
                ("manifest_path", .text(manifestPath)), ("priority", .int(Int64(order.priority))),
                ("not_before", .real(order.notBefore.map(Rows.seconds))), ("packs", .text(QueuePicker.encode(order.packs))),
                Self.resetPickUpCount,
            ], note: manifestPath + QueuePicker.note(order), channel: channel, logger)
        }
    }

    public func reject(_ id: JobID, error: JobError) async throws -> Job {
        let logger = logger
        return try await write("reject \(id)") { conn in
            try await Self.move(conn, id, to: .rejected, set: Self.errorSet(error) + [Self.resetPickUpCount],
                                note: "\(error.code): \(error.message)", logger)
        }
    }

    // MARK: Running

    public func start(_ id: JobID) async throws -> Job {
        let logger = logger
        return try await write("start \(id)") { conn in try await Self.move(conn, id, to: .running, set: Self.startSet + Self.clearLease, logger) }
    }

    public func setProgress(_ id: JobID, stage: String?, progress: Double) async throws {
        let logger = logger
        try await write("progress \(id)") { conn in
            let changed = try await conn.query("""
                UPDATE jobs SET stage = \(stage), progress = \(min(1, max(0, progress))), updated_at = \(Rows.seconds(Date()))
                WHERE id = \(id.rawValue) AND state = 'running' RETURNING id
                """, logger: logger).collect()
            if changed.isEmpty {
                guard let job = try await Self.job(conn, id, logger) else { throw JournalError.notFound(id) }
                throw JournalError.invalidTransition(id, from: job.state, to: .running)
            }
        }
    }

    public func beginStage(_ id: JobID, stage: String, engine: String?) async throws -> Int64 {
        let logger = logger
        return try await write("begin stage \(stage) of \(id)") { conn in
            guard let job = try await Self.job(conn, id, logger) else { throw JournalError.notFound(id) }
            let now = Rows.seconds(Date())
            let run = try await conn.query("""
                INSERT INTO stage_runs (job_id, stage, attempt, engine, started_at, outcome)
                VALUES (\(id.rawValue), \(stage), \(Int64(job.attempts)), \(engine), \(now), 'running') RETURNING id
                """, logger: logger).collect()[0].decode(Int64.self)
            try await conn.query("UPDATE jobs SET stage = \(stage), updated_at = \(now) WHERE id = \(id.rawValue)", logger: logger)
            return run
        }
    }

    public func endStage(run: Int64, _ end: StageEnd) async throws {
        let logger = logger
        try await write("end stage run \(run)") { conn in
            let now = Rows.seconds(Date())
            try await conn.query("""
                UPDATE stage_runs SET outcome = \(end.outcome.rawValue), engine = COALESCE(\(end.engine), engine),
                    peak_memory_bytes = \(end.peakMemoryBytes), cache_hit = \(end.cacheHit),
                    ended_at = COALESCE(started_at + \(end.seconds), \(now)), seconds = COALESCE(\(end.seconds), \(now) - started_at)
                WHERE id = \(run)
                """, logger: logger)
        }
    }

    public func finish(_ id: JobID, outputs: [String: String]) async throws -> Job {
        let json = String(decoding: try JSONEncoder().encode(outputs), as: UTF8.self)
        let logger = logger
        return try await write("finish \(id)") { conn in
            try await Self.move(conn, id, to: .done, set: [("outputs", .text(json)), ("progress", .real(1)), ("stage", .text(nil))]
                                + Self.errorSet(nil), logger)
        }
    }

    public func fail(_ id: JobID, error: JobError, retryable: Bool) async throws -> Job {
        let max = maxAttempts
        let logger = logger, channel = channel
        return try await write("fail \(id)") { conn in
            try await Self.fail(conn, id, error: error, retryable: retryable, max: max, channel: channel, logger)
        }
    }

    /// running -> queued while attempts remain under the loop guard and no cancel is asked, else -> failed.
    static func fail(_ conn: PostgresConnection, _ id: JobID, error: JobError, retryable: Bool, max: Int, channel: String,
                     _ logger: Logger) async throws -> Job {
        guard let job = try await job(conn, id, lock: true, logger) else { throw JournalError.notFound(id) }
        if retryable && job.attempts < max && !job.cancelRequested {
            return try await move(conn, id, to: .queued, set: errorSet(error),
                                  note: "retry \(job.attempts + 1) of \(max) after \(error.code)", channel: channel, logger)
        }
        return try await move(conn, id, to: .failed, set: errorSet(error), note: "\(error.code): \(error.message)", logger)
    }

    public func cancel(_ id: JobID) async throws -> Job {
        let logger = logger
        return try await write("cancel \(id)") { conn in try await Self.move(conn, id, to: .cancelled, logger) }
    }

    public func cancel(_ id: JobID, error: JobError) async throws -> Job {
        let logger = logger
        return try await write("cancel \(id)") { conn in try await Self.move(conn, id, to: .cancelled, set: Self.errorSet(error), logger) }
    }

    /// Only a running job's report is kept (a late write after its end is dropped).
    public func setReport(_ id: JobID, _ report: JobReport) async throws -> Job {
        let json = String(decoding: try JSONEncoder().encode(report), as: UTF8.self)
        let logger = logger
        return try await write("report \(id)") { conn in
            try await conn.query("""
                UPDATE jobs SET report = \(json), updated_at = \(Rows.seconds(Date())) WHERE id = \(id.rawValue) AND state = 'running'
                """, logger: logger)
            guard let job = try await Self.job(conn, id, logger) else { throw JournalError.notFound(id) }
            return job
        }
    }

    public func suspend(_ id: JobID) async throws -> Job {
        let logger = logger, channel = channel
        return try await write("suspend \(id)") { conn in
            try await Self.move(conn, id, to: .queued, set: [("attempts", .expr("GREATEST(attempts - 1, 0)"))], note: "checkpointed at shutdown", channel: channel, logger)
        }
    }

    public func addEvent(_ id: JobID?, kind: String, message: String) async throws {
        let logger = logger
        try await write("event") { conn in try await Self.event(conn, id, kind: kind, message: message, logger) }
    }

    public func setSeed(_ id: JobID, seed: UInt64) async throws {
        let logger = logger
        try await write("seed \(id)") { conn in
            try await conn.query("UPDATE jobs SET seed = \(Int64(bitPattern: seed)) WHERE id = \(id.rawValue)", logger: logger)
        }
    }

    // MARK: Artifacts

    public func recordArtifact(_ artifact: Artifact) async throws {
        let logger = logger
        try await write("record artifact") { conn in
            try await conn.query("""
                INSERT INTO artifacts (key, stage, path, size_bytes, created_at, used_at)
                VALUES (\(artifact.key), \(artifact.stage), \(artifact.path), \(artifact.sizeBytes),
                        \(Rows.seconds(artifact.createdAt)), \(Rows.seconds(artifact.usedAt)))
                ON CONFLICT (key) DO UPDATE SET stage = excluded.stage, path = excluded.path, size_bytes = excluded.size_bytes,
                    used_at = excluded.used_at
                """, logger: logger)
        }
    }

    public func touchArtifact(key: String) async throws {
        let logger = logger
        try await write("touch artifact") { conn in
            try await conn.query("UPDATE artifacts SET used_at = \(Rows.seconds(Date())) WHERE key = \(key)", logger: logger)
        }
    }

    public func removeArtifact(key: String) async throws {
        let logger = logger
        try await write("remove artifact") { conn in try await conn.query("DELETE FROM artifacts WHERE key = \(key)", logger: logger) }
    }
}
