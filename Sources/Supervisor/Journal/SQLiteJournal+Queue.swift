import Contract
import Foundation
import GRDB

/// The queue's order on SQLite (issue 32): which job starts next, the pause flag, priorities.
extension SQLiteJournal {
    public func startNext(preferring packs: Set<String>) async throws -> Job? {
        let policy = queuePolicy
        return try await write("start next") { db in
            guard try !Rows.queueState(db).paused else { return nil }
            let now = Rows.seconds(Date())
            let ready = "state = 'queued' AND (not_before IS NULL OR not_before <= ?)"
            func candidates(_ condition: String, _ args: StatementArguments, limit: Int) throws -> [QueuePicker.Candidate] {
                try Row.fetchAll(db, sql: """
                    SELECT id, priority, created_at, packs, passes, passed_since FROM jobs WHERE \(ready) AND \(condition)
                    ORDER BY created_at, id LIMIT \(limit)
                    """, arguments: [now] + args).map { row in
                    QueuePicker.Candidate(id: JobID(row["id"] as String), priority: row["priority"], createdAt: row["created_at"],
                                          packs: QueuePicker.decode(row["packs"]), passes: row["passes"], passedSince: row["passed_since"])
                }
            }
            // Indexed reads of a bounded set, not the whole queue: the oldest due job, else the head of the top priority.
            var list = try candidates("(passes >= ? OR passed_since <= ?)", [policy.maxPasses, now - policy.maxDelay], limit: 1)
            if list.isEmpty, let top = try Int.fetchOne(db, sql: "SELECT MAX(priority) FROM jobs WHERE \(ready)", arguments: [now]) {
                list = try candidates("priority = ?", [top], limit: QueuePicker.lookahead)
            }
            guard let pick = QueuePicker.choose(list, preferring: packs, policy: policy, now: now),
                  let chosen = list.first(where: { $0.id == pick.chosen }) else { return nil }
            // Every ready job ahead of it in FIFO order is passed over.
            try db.execute(sql: """
                UPDATE jobs SET passes = passes + 1, passed_since = COALESCE(passed_since, ?)
                WHERE \(ready) AND (created_at < ? OR (created_at = ? AND id < ?))
                """, arguments: [now, now, chosen.createdAt, chosen.createdAt, chosen.id.rawValue])
            let why = QueuePicker.reason(pick.why, passed: db.changesCount, priority: chosen.priority)
            return try Self.move(db, pick.chosen, to: .running, set: "attempts = attempts + 1, stage = NULL, progress = 0, report = NULL",
                                 note: why)
        }
    }

    public func nextNotBefore() async throws -> Date? {
        try await read("next not_before") { db in
            try Double.fetchOne(db, sql: "SELECT MIN(not_before) FROM jobs WHERE state = 'queued' AND not_before > ?",
                                arguments: [Rows.seconds(Date())]).map(Rows.date)
        }
    }

    public func queueState() async throws -> QueueState { try await read("queue state") { try Rows.queueState($0) } }

    @discardableResult
    public func setQueuePaused(_ paused: Bool, by who: String) async throws -> QueueState {
        try await write("queue \(paused ? "pause" : "resume")") { db in
            if try Rows.queueState(db).paused != paused {
                try db.execute(sql: "UPDATE queue SET paused = ?, changed_at = ?, changed_by = ? WHERE id = 1",
                               arguments: [paused, Rows.seconds(Date()), who])
                try Self.event(db, nil, kind: "queue", message: "queue \(paused ? "paused" : "resumed") by \(who)")
            }
            return try Rows.queueState(db)
        }
    }

    public func setPriority(_ id: JobID, _ priority: Int, by who: String) async throws -> Job {
        try RequestRules.checkPriority(priority)
        return try await write("priority \(id)") { db in try Self.setPriority(db, id, priority, by: who) }
    }

    static func setPriority(_ db: Database, _ id: JobID, _ priority: Int, by who: String) throws -> Job {
        guard let job = try Rows.job(db, id) else { throw JournalError.notFound(id) }
        guard !job.state.isFinal else { throw JournalError.badRequest("job \(id) is \(job.state.rawValue); only a job not yet ended takes a new priority") }
        try db.execute(sql: "UPDATE jobs SET priority = ?, updated_at = ? WHERE id = ?", arguments: [priority, Rows.seconds(Date()), id.rawValue])
        try event(db, id, kind: "priority", message: "priority \(job.priority) -> \(priority) by \(who)")
        return try Rows.job(db, id)!
    }
}
