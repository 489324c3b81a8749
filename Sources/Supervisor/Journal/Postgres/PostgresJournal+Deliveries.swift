import Foundation
import Logging
import PostgresNIO

/// Webhook deliveries on PostgreSQL (`DeliveryStore`), as `SQLiteJournal` keeps them: same states, attempts and events.
extension PostgresJournal {
    @discardableResult
    public func enqueueDelivery(job: JobID, event: String, url: String, body: String, signature: String, maxAttempts: Int) async throws -> Int64 {
        let logger = logger
        return try await write("webhook \(job)") { conn in
            let now = Rows.seconds(Date())
            return try await conn.query("""
                INSERT INTO deliveries (job_id, event, url, body, signature, state, attempts, max_attempts, next_at, created_at, updated_at)
                VALUES (\(job.rawValue), \(event), \(url), \(body), \(signature), 'pending', 0, \(Int64(max(1, maxAttempts))), \(now), \(now), \(now))
                RETURNING id
                """, logger: logger).collect()[0].decode(Int64.self)
        }
    }

    public func pendingDeliveries(limit: Int = 1000) async throws -> [DeliveryHead] {
        let logger = logger
        return try await read("webhooks pending") { conn in
            try await conn.query("SELECT id, url, next_at FROM deliveries WHERE state = 'pending' ORDER BY next_at, id LIMIT \(Int64(limit))",
                                 logger: logger).collect().map { row in
                let (id, url, next) = try row.decode((Int64, String, Double).self)
                return DeliveryHead(id: id, url: url, nextAt: Rows.date(next))
            }
        }
    }

    public func delivery(id: Int64) async throws -> Delivery? {
        let logger = logger
        return try await read("webhook \(id)") { try await Self.rows($0, "SELECT * FROM deliveries WHERE id = \(id)", logger, PGRows.delivery).first }
    }

    /// Records an attempt and moves the delivery on: `delivered`; `failed` when `retryAt` is nil or its attempts are
    /// spent; else pending again until `retryAt`.
    @discardableResult
    public func recordDeliveryAttempt(_ attempt: DeliveryAttempt, delivered: Bool, retryAt: Date?) async throws -> Delivery {
        let logger = logger
        return try await write("webhook attempt \(attempt.deliveryID)") { conn in
            let now = Rows.seconds(Date())
            try await conn.query("""
                INSERT INTO delivery_attempts (delivery_id, attempt, at, seconds, status, error)
                VALUES (\(attempt.deliveryID), \(Int64(attempt.attempt)), \(Rows.seconds(attempt.at)), \(attempt.seconds),
                        \(attempt.status.map(Int64.init)), \(attempt.error))
                """, logger: logger)
            guard var d = try await Self.rows(conn, "SELECT * FROM deliveries WHERE id = \(attempt.deliveryID) FOR UPDATE",
                                              logger, PGRows.delivery).first else {
                throw JournalError.database(operation: "webhook attempt", underlying: "no delivery \(attempt.deliveryID)")
            }
            let outcome = d.record(attempt, delivered: delivered, retryAt: retryAt)
            try await conn.query("""
                UPDATE deliveries SET state = \(d.state.rawValue), attempts = \(Int64(d.attempts)), next_at = \(Rows.seconds(d.nextAt)),
                    updated_at = \(now) WHERE id = \(d.id)
                """, logger: logger)
            let message: String? = switch d.state {
            case .delivered: "webhook \(d.event) delivered to \(d.url) (\(outcome), attempt \(d.attempts))"
            case .failed: "webhook \(d.event) to \(d.url) given up after attempt \(d.attempts): \(outcome)"
            case .pending where d.attempts == 1: "webhook \(d.event) to \(d.url) failed (\(outcome)); retrying"
            case .pending: nil
            }
            if let message { try await Self.event(conn, d.jobID, kind: "webhook", message: message, logger) }
            d.updatedAt = Rows.date(now)
            return d
        }
    }

    public func deliveries(of job: JobID) async throws -> [Delivery] {
        let logger = logger
        return try await read("webhooks of \(job)") {
            try await Self.rows($0, "SELECT * FROM deliveries WHERE job_id = \(job.rawValue) ORDER BY id", logger, PGRows.delivery)
        }
    }

    public func deliveryAttempts(of delivery: Int64) async throws -> [DeliveryAttempt] {
        let logger = logger
        return try await read("webhook attempts") {
            try await Self.rows($0, "SELECT * FROM delivery_attempts WHERE delivery_id = \(delivery) ORDER BY id", logger, PGRows.attempt)
        }
    }
}
