import Contract
import Foundation
import Logging
import PostgresNIO

/// A running job's lease (issue 31 item 2): which host and worker run it, under which attempt, until when. The attempt
/// is the fencing token: a take bumps it, so once a rescuer requeued the job and another host took it, every write
/// made under the old lease is refused (`LeaseLost`).
public struct Lease: Sendable, Hashable {
    public var jobID: JobID
    public var attempt: Int
    public var host: String
    public var worker: String
    /// On the database's clock: a host whose own clock is off neither shortens nor stretches it.
    public var expiresAt: Date
}

/// A write under a lease that is no longer the job's: it expired and was rescued, or the job moved on.
public struct LeaseLost: Error, CustomStringConvertible, Sendable {
    public var lease: Lease
    /// What the journal holds now: the job's state and attempt.
    public var state: JobState?
    public var attempt: Int?
    public var description: String {
        "job \(lease.jobID): the lease of \(lease.host)/\(lease.worker) for attempt \(lease.attempt) is lost (the job is now "
            + "\(state?.rawValue ?? "gone")\(attempt.map { ", attempt \($0)" } ?? "")); this write is refused"
    }
}

extension PostgresJournal {
    static let now = "EXTRACT(EPOCH FROM clock_timestamp())::DOUBLE PRECISION"

    /// The next queued job (in `startNext`'s order), taken under a lease for `seconds`: queued -> running, attempts + 1
    /// (the new fencing token).
    public func takeNext(host: String, worker: String, seconds: Double, preferring packs: Set<String> = []) async throws -> (Job, Lease)? {
        let logger = logger, policy = queuePolicy
        return try await write("take next") { conn in
            guard let pick = try await Self.pickNext(conn, preferring: packs, policy: policy, logger) else { return nil }
            let job = try await Self.move(conn, pick.chosen, to: .running, set: Self.startSet + [
                ("lease_host", .text(host)), ("lease_worker", .text(worker)), ("lease_expires_at", .expr("\(Self.now) + \(seconds)")),
            ], note: "taken by \(host)/\(worker)", logger)
            return (job, try await Self.lease(conn, job.id, logger)!)
        }
    }

    static func lease(_ conn: PostgresConnection, _ id: JobID, _ logger: Logger) async throws -> Lease? {
        let rows = try await conn.query("""
            SELECT attempts, lease_host, lease_worker, lease_expires_at FROM jobs WHERE id = \(id.rawValue) AND lease_host IS NOT NULL AND lease_expires_at IS NOT NULL
            """, logger: logger).collect()
        guard let row = rows.first else { return nil }
        let (attempt, host, worker, expires) = try row.decode((Int64, String, String, Double).self)
        return Lease(jobID: id, attempt: Int(attempt), host: host, worker: worker, expiresAt: Rows.date(expires))
    }

    /// Locks the job and checks `lease` still holds it (running, same attempt, same holder); else throws `LeaseLost`.
    static func fence(_ conn: PostgresConnection, _ lease: Lease, _ logger: Logger) async throws {
        let job = try await job(conn, lease.jobID, lock: true, logger)
        let current = try await self.lease(conn, lease.jobID, logger)
        guard let job, job.state == .running, job.attempts == lease.attempt, current?.host == lease.host, current?.worker == lease.worker else {
            throw LeaseLost(lease: lease, state: job?.state, attempt: job?.attempts)
        }
    }

    /// Extends the lease by `seconds` from now (the database's now). Refused once the lease is lost, even if not yet rescued
    /// past its expiry: a holder that slept past it must stop.
    @discardableResult
    public func heartbeat(_ lease: Lease, seconds: Double) async throws -> Lease {
        let logger = logger
        return try await write("heartbeat \(lease.jobID)") { conn in
            try await Self.fence(conn, lease, logger)
            let expired = try await conn.query("SELECT lease_expires_at < \(unescaped: Self.now) FROM jobs WHERE id = \(lease.jobID.rawValue)",
                                               logger: logger).collect()[0].decode(Bool.self)
            if expired { throw LeaseLost(lease: lease, state: .running, attempt: lease.attempt) }
            try await conn.query("""
                UPDATE jobs SET lease_expires_at = \(unescaped: Self.now) + \(seconds) WHERE id = \(lease.jobID.rawValue)
                """, logger: logger)
            return try await Self.lease(conn, lease.jobID, logger)!
        }
    }

    /// Requeues running jobs whose lease expired (or fails them at the loop guard), taking each `SKIP LOCKED` so rescuers
    /// on several hosts share the work. Returns the jobs rescued.
    public func rescueExpired() async throws -> [JobID] {
        let max = maxAttempts
        let logger = logger, channel = channel
        return try await write("rescue") { conn in
            let expired = try await Self.rows(conn, """
                SELECT * FROM jobs WHERE state = 'running' AND lease_expires_at < \(unescaped: Self.now)
                ORDER BY lease_expires_at FOR UPDATE SKIP LOCKED
                """, logger, PGRows.job)
            for job in expired {
                let holder = try await Self.lease(conn, job.id, logger)
                let who = holder.map { "\($0.host)/\($0.worker)" } ?? "?"
                try await conn.query("""
                    UPDATE stage_runs SET outcome = 'interrupted', ended_at = \(unescaped: Self.now), seconds = \(unescaped: Self.now) - started_at
                    WHERE job_id = \(job.id.rawValue) AND ended_at IS NULL
                    """, logger: logger)
                let clear = Self.clearLease
                switch Interruption.outcome(for: job, maxAttempts: max, cause: Interruption.leaseExpired) {
                case .cancel:
                    _ = try await Self.move(conn, job.id, to: .cancelled, set: clear, note: "lease of \(who) expired; cancel was requested", logger)
                case .fail(let error):
                    _ = try await Self.move(conn, job.id, to: .failed, set: clear + Self.errorSet(error), note: "lease of \(who) expired; loop guard", logger)
                case .requeue:
                    _ = try await Self.move(conn, job.id, to: .queued, set: clear,
                                            note: "lease of \(who) for attempt \(job.attempts) expired; requeued", channel: channel, logger)
                }
            }
            return expired.map(\.id)
        }
    }

    /// `finish` under a lease: refused (`LeaseLost`) unless the lease still holds the job.
    public func finish(_ lease: Lease, outputs: [String: String]) async throws -> Job {
        let json = String(decoding: try JSONEncoder().encode(outputs), as: UTF8.self)
        let logger = logger
        return try await write("finish \(lease.jobID)") { conn in
            try await Self.fence(conn, lease, logger)
            return try await Self.move(conn, lease.jobID, to: .done, set: [("outputs", .text(json)), ("progress", .real(1)), ("stage", .text(nil)),
                                                                           ("lease_expires_at", .real(nil))] + Self.errorSet(nil), logger)
        }
    }

    /// `beginStage` under a lease: a stale holder's stage records are refused.
    public func beginStage(_ lease: Lease, stage: String, engine: String?) async throws -> Int64 {
        let logger = logger
        return try await write("begin stage \(stage) of \(lease.jobID)") { conn in
            try await Self.fence(conn, lease, logger)
            let now = Rows.seconds(Date())
            return try await conn.query("""
                INSERT INTO stage_runs (job_id, stage, attempt, engine, started_at, outcome)
                VALUES (\(lease.jobID.rawValue), \(stage), \(Int64(lease.attempt)), \(engine), \(now), 'running') RETURNING id
                """, logger: logger).collect()[0].decode(Int64.self)
        }
    }

    /// `fail` under a lease: refused unless the lease still holds the job.
    public func fail(_ lease: Lease, error: JobError, retryable: Bool) async throws -> Job {
        let max = maxAttempts
        let logger = logger, channel = channel
        return try await write("fail \(lease.jobID)") { conn in
            try await Self.fence(conn, lease, logger)
            return try await Self.fail(conn, lease.jobID, error: error, retryable: retryable, max: max, channel: channel, logger)
        }
    }
}
