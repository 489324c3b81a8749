import Contract
import Foundation
import Logging
import PostgresNIO

/// The queue's order on PostgreSQL (issue 32), as `SQLiteJournal+Queue` does it: the same choice (`QueuePicker`).
extension PostgresJournal {
    /// One key for the pick: daemons sharing the database choose one at a time, so two never count the same pass or
    /// read the same ready set (the choice reads every ready job, not just the oldest, so `SKIP LOCKED` alone would not do).
    static let pickLockKey: Int64 = 0x7072_6f73_7175_6575

    /// Chooses the next job and counts the passes, inside the caller's transaction; nil when paused or none is ready.
    static func pickNext(_ conn: PostgresConnection, preferring packs: Set<String>, policy: QueuePolicy,
                         _ logger: Logger) async throws -> (chosen: JobID, why: String)? {
        try await conn.query("SELECT pg_advisory_xact_lock(\(pickLockKey))", logger: logger)
        guard try await !queueState(conn, logger).paused else { return nil }
        let now = Rows.seconds(Date())
        let ready = "state = 'queued' AND (not_before IS NULL OR not_before <= $1)"
        /// `condition` reads `$2` (and `$3`): `first` and `second`.
        func candidates(_ condition: String, _ first: Int64, _ second: Double? = nil, limit: Int) async throws -> [QueuePicker.Candidate] {
            var binds = PostgresBindings()
            binds.append(now)
            binds.append(first)
            if let second { binds.append(second) }
            let sql = PostgresQuery(unsafeSQL: """
                SELECT id, priority, created_at, packs, passes, passed_since FROM jobs WHERE \(ready) AND \(condition)
                ORDER BY created_at, id COLLATE "C" LIMIT \(limit)
                """, binds: binds)
            return try await rows(conn, sql, logger) { row in
                let (id, priority, created, packs, passes, since) = try row.decode((String, Int64, Double, String, Int64, Double?).self)
                return QueuePicker.Candidate(id: JobID(id), priority: Int(priority), createdAt: created, packs: QueuePicker.decode(packs),
                                             passes: Int(passes), passedSince: since)
            }
        }
        // Indexed reads of a bounded set, not the whole queue: the oldest due job, else the head of the top priority.
        var list = try await candidates("(passes >= $2 OR passed_since <= $3)", Int64(policy.maxPasses), now - policy.maxDelay, limit: 1)
        if list.isEmpty {
            let top: Int64? = try await conn.query("SELECT MAX(priority) FROM jobs WHERE state = 'queued' AND (not_before IS NULL OR not_before <= \(now))",
                                                   logger: logger).collect().first?.decode(Int64?.self) ?? nil
            if let top { list = try await candidates("priority = $2", top, limit: QueuePicker.lookahead) }
        }
        guard let pick = QueuePicker.choose(list, preferring: packs, policy: policy, now: now),
              let chosen = list.first(where: { $0.id == pick.chosen }) else { return nil }
        // Every ready job ahead of it in FIFO order is passed over.
        let passed = try await conn.query("""
            UPDATE jobs SET passes = passes + 1, passed_since = COALESCE(passed_since, \(now))
            WHERE state = 'queued' AND (not_before IS NULL OR not_before <= \(now))
              AND (created_at < \(chosen.createdAt) OR (created_at = \(chosen.createdAt) AND id COLLATE "C" < \(chosen.id.rawValue))) RETURNING id
            """, logger: logger).collect().count
        return (pick.chosen, QueuePicker.reason(pick.why, passed: passed, priority: chosen.priority) ?? "FIFO")
    }

    public func startNext(preferring packs: Set<String>) async throws -> Job? {
        let logger = logger, policy = queuePolicy
        return try await write("start next") { conn in
            guard let pick = try await Self.pickNext(conn, preferring: packs, policy: policy, logger) else { return nil }
            return try await Self.move(conn, pick.chosen, to: .running, set: Self.startSet + Self.clearLease,
                                       note: pick.why == "FIFO" ? nil : pick.why, logger)
        }
    }

    public func nextNotBefore() async throws -> Date? {
        let logger = logger
        let now = Rows.seconds(Date())
        return try await read("next not_before") { conn in
            try await conn.query("SELECT MIN(not_before) FROM jobs WHERE state = 'queued' AND not_before > \(now)", logger: logger)
                .collect().first?.decode(Double?.self).map(Rows.date)
        }
    }

    static func queueState(_ conn: PostgresConnection, _ logger: Logger) async throws -> QueueState {
        guard let row = try await conn.query("SELECT paused, changed_at, changed_by FROM queue WHERE id = 1", logger: logger).collect().first
        else { return QueueState() }
        let (paused, at, by) = try row.decode((Bool, Double?, String?).self)
        return QueueState(paused: paused, changedAt: at.map(Rows.date), changedBy: by)
    }

    public func queueState() async throws -> QueueState {
        let logger = logger
        return try await read("queue state") { try await Self.queueState($0, logger) }
    }

    static func setPaused(_ conn: PostgresConnection, _ paused: Bool, by who: String, note: String, _ logger: Logger) async throws {
        let changed = try await conn.query("""
            UPDATE queue SET paused = \(paused), changed_at = \(Rows.seconds(Date())), changed_by = \(who) WHERE id = 1 AND paused <> \(paused) RETURNING id
            """, logger: logger).collect()
        if !changed.isEmpty { try await event(conn, nil, kind: "queue", message: "queue \(paused ? "paused" : "resumed") \(note)", logger) }
    }

    @discardableResult
    public func setQueuePaused(_ paused: Bool, by who: String) async throws -> QueueState {
        let logger = logger, channel = channel
        return try await write("queue \(paused ? "pause" : "resume")") { conn in
            try await Self.setPaused(conn, paused, by: who, note: "by \(who)", logger)
            // Resumed: daemons idle on LISTEN look at the queue again.
            if !paused { try await conn.query("SELECT pg_notify(\(channel), 'queued:resume')", logger: logger) }
            return try await Self.queueState(conn, logger)
        }
    }

    public func setPriority(_ id: JobID, _ priority: Int, by who: String) async throws -> Job {
        try RequestRules.checkPriority(priority)
        let logger = logger
        return try await write("priority \(id)") { conn in try await Self.setPriority(conn, id, priority, by: who, logger) }
    }

    static func setPriority(_ conn: PostgresConnection, _ id: JobID, _ priority: Int, by who: String, _ logger: Logger) async throws -> Job {
        guard let job = try await job(conn, id, lock: true, logger) else { throw JournalError.notFound(id) }
        guard !job.state.isFinal else { throw JournalError.badRequest("job \(id) is \(job.state.rawValue); only a job not yet ended takes a new priority") }
        try await conn.query("UPDATE jobs SET priority = \(Int64(priority)), updated_at = \(Rows.seconds(Date())) WHERE id = \(id.rawValue)", logger: logger)
        try await event(conn, id, kind: "priority", message: "priority \(job.priority) -> \(priority) by \(who)", logger)
        return try await self.job(conn, id, logger)!
    }
}
