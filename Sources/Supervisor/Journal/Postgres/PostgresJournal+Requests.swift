import Contract
import Foundation
import Logging
import PostgresNIO

/// Restart, requests, webhook deliveries and the API's listing on PostgreSQL: what `SQLiteJournal` does in
/// SQLiteJournal.swift, Deliveries.swift and APIQueries.swift, with the same outcomes and event texts.
extension PostgresJournal {
    @discardableResult
    public func request(_ action: RequestAction, job: JobID?, value: Int?, by requester: String) async throws -> Int64 {
        try RequestRules.check(action, job: job, value: value)
        let logger = logger, channel = channel
        return try await write("request \(action.rawValue) \(job?.rawValue ?? "queue")") { conn in
            if let job { guard try await Self.job(conn, job, logger) != nil else { throw JournalError.notFound(job) } }
            let id = try await conn.query("""
                INSERT INTO requests (job_id, action, value, requested_at, requested_by)
                VALUES (\(job?.rawValue), \(action.rawValue), \(value.map { Int64($0) }), \(Rows.seconds(Date())), \(requester)) RETURNING id
                """, logger: logger).collect()[0].decode(Int64.self)
            // A daemon idle on LISTEN wakes for a request as for a new job.
            try await conn.query("SELECT pg_notify(\(channel), \("request:" + (job?.rawValue ?? "queue")))", logger: logger)
            return id
        }
    }

    /// Requeues jobs left `running` (or fails them at the loop guard) and lists `claimed` ones. Without leases this takes
    /// every running job in the database: one daemon per database until leases land (Docs/scale-out.md).
    public func recover() async throws -> RecoveryReport {
        let max = maxAttempts
        let logger = logger, channel = channel
        return try await write("recover") { conn in
            var report = RecoveryReport()
            let now = Rows.seconds(Date())
            let running = try await Self.rows(conn, "SELECT * FROM jobs WHERE state = 'running' ORDER BY created_at FOR UPDATE", logger, PGRows.job)
            for job in running {
                try await conn.query("""
                    UPDATE stage_runs SET outcome = 'interrupted', ended_at = \(now), seconds = \(now) - started_at
                    WHERE job_id = \(job.id.rawValue) AND ended_at IS NULL
                    """, logger: logger)
                switch Interruption.outcome(for: job, maxAttempts: max, cause: Interruption.restart) {
                case .cancel:
                    _ = try await Self.move(conn, job.id, to: .cancelled, note: "cancel requested before the restart", logger)
                    report.cancelled.append(job.id)
                case .fail(let error):
                    _ = try await Self.move(conn, job.id, to: .failed, set: Self.errorSet(error), note: "loop guard", logger)
                    report.failedByLoopGuard.append(job.id)
                case .requeue:
                    _ = try await Self.move(conn, job.id, to: .queued,
                                            note: "requeued after restart (attempt \(job.attempts) of \(max) was interrupted)",
                                            channel: channel, logger)
                    report.requeued.append(job.id)
                }
            }
            report.claimed = try await Self.rows(conn, "SELECT * FROM jobs WHERE state = 'claimed' ORDER BY created_at", logger, PGRows.job)
            return report
        }
    }

    /// Pending requests are locked `SKIP LOCKED`: two daemons applying at once each take different ones, none twice.
    public func applyPendingRequests() async throws -> [RequestEffect] {
        let logger = logger, channel = channel
        return try await write("apply requests") { conn in
            let pending = try await Self.rows(conn, "SELECT * FROM requests WHERE handled_at IS NULL ORDER BY id FOR UPDATE SKIP LOCKED",
                                              logger, PGRows.request)
            var effects: [RequestEffect] = []
            for request in pending {
                let effect = try await Self.apply(conn, request, channel: channel, logger)
                let outcome = effect.outcome
                try await conn.query("UPDATE requests SET handled_at = \(Rows.seconds(Date())), outcome = \(outcome) WHERE id = \(request.id)",
                                     logger: logger)
                effects.append(effect)
            }
            return effects
        }
    }

    private static func apply(_ conn: PostgresConnection, _ request: JobRequest, channel: String, _ logger: Logger) async throws -> RequestEffect {
        let who = "requested by \(request.requestedBy)"
        guard let id = request.jobID else {
            let pause = request.action == .pause
            guard pause || request.action == .resume else { return .ignored(nil, reason: "\(request.action.rawValue) names no job") }
            try await setPaused(conn, pause, by: request.requestedBy, note: who, logger)
            return .queuePaused(pause)
        }
        guard let job = try await job(conn, id, lock: true, logger) else { return .ignored(id, reason: "no such job") }
        switch (request.action, job.state) {
        case (.priority, let state) where state.isFinal:
            return .ignored(id, reason: "job is \(state.rawValue); only a job not yet ended takes a new priority")
        case (.priority, _):
            guard let value = request.value, QueueOrder.priorityRange.contains(value) else {
                return .ignored(id, reason: "priority \(request.value.map(String.init) ?? "missing") is out of range")
            }
            _ = try await setPriority(conn, id, value, by: request.requestedBy, logger)
            return .reprioritised(id, value)
        case (.pause, _), (.resume, _):
            return .ignored(id, reason: "\(request.action.rawValue) is about the queue, not a job")
        case (.retry, .failed), (.retry, .cancelled):
            _ = try await move(conn, id, to: .queued,
                               set: [("attempts", .int(0)), ("cancel_requested", .bool(false)), ("progress", .real(0)), ("stage", .text(nil))]
                                   + errorSet(nil), note: "retry \(who)", channel: channel, logger)
            return .requeued(id)
        case (.retry, let state):
            return .ignored(id, reason: "job is \(state.rawValue); only failed or cancelled jobs can be retried")
        case (.cancel, .queued):
            _ = try await move(conn, id, to: .cancelled, note: "cancel \(who)", logger)
            return .cancelled(id)
        case (.cancel, .running):
            try await conn.query("UPDATE jobs SET cancel_requested = TRUE, updated_at = \(Rows.seconds(Date())) WHERE id = \(id.rawValue)", logger: logger)
            try await event(conn, id, kind: "request", message: "cancel \(who); stopping", logger)
            return .stopRunning(id)
        case (.cancel, let state):
            return .ignored(id, reason: "job is \(state.rawValue); only queued or running jobs can be cancelled")
        }
    }

    // MARK: JobListing

    public func listedJob(_ id: JobID) async throws -> ListedJob? {
        let logger = logger
        return try await read("job") { try await Self.rows($0, "SELECT * FROM jobs WHERE id = \(id.rawValue)", logger, PGRows.listed).first }
    }

    public func listedJobs(states: Set<JobState>?, deleted: Bool, before: JobID?, limit: Int) async throws -> [ListedJob] {
        let logger = logger
        var sql = SQLText("SELECT * FROM jobs WHERE deleted_at IS \(deleted ? "NOT NULL" : "NULL")")
        if let states, !states.isEmpty {
            sql.binds.append(states.map(\.rawValue).sorted())
            sql.add(" AND state = ANY($\(sql.binds.count))")
        }
        if let before {
            sql.add(" AND id COLLATE \"C\" < ")
            sql.bind(.text(before.rawValue))
        }
        // COLLATE "C": ids sort by creation time byte for byte, as SQLite compares them, whatever the database's locale.
        sql.add(" ORDER BY id COLLATE \"C\" DESC LIMIT \(max(0, limit))")
        let q = sql.query
        return try await read("jobs") { try await Self.rows($0, q, logger, PGRows.listed) }
    }

    @discardableResult
    public func markDeleted(_ id: JobID) async throws -> ListedJob {
        let logger = logger
        return try await write("delete \(id)") { conn in
            guard let row = try await Self.rows(conn, "SELECT * FROM jobs WHERE id = \(id.rawValue) FOR UPDATE", logger, PGRows.listed).first else {
                throw JournalError.notFound(id)
            }
            var listed = row
            guard listed.job.state.isFinal else { throw JournalError.invalidTransition(id, from: listed.job.state, to: listed.job.state) }
            if listed.deletedAt == nil {
                let now = Date()
                try await conn.query("UPDATE jobs SET deleted_at = \(Rows.seconds(now)), updated_at = \(Rows.seconds(now)) WHERE id = \(id.rawValue)",
                                     logger: logger)
                try await conn.query("""
                    INSERT INTO events (job_id, at, kind, message) VALUES (\(id.rawValue), \(Rows.seconds(now)), 'deleted', 'outputs deleted over the API')
                    """, logger: logger)
                listed.deletedAt = now
            }
            return listed
        }
    }
}
