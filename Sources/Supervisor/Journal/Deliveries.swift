import Foundation
import GRDB

/// A webhook message for a job that ended (`notify:`): the sidecar as it was then, signed once.
public struct Delivery: Sendable, Hashable {
    /// One attempt's effect, the same in every store: delivered; or due again at `retryAt` while attempts are left;
    /// or failed for good. Returns the attempt's outcome in words, for the event.
    mutating func record(_ attempt: DeliveryAttempt, delivered: Bool, retryAt: Date?) -> String {
        attempts = max(attempts, attempt.attempt)
        if delivered {
            state = .delivered
        } else if let retryAt, attempts < maxAttempts {
            state = .pending
            nextAt = retryAt
        } else {
            state = .failed
        }
        return attempt.status.map { "HTTP \($0)" } ?? (attempt.error ?? "no response")
    }

    public enum State: String, Sendable { case pending, delivered, failed }
    public var id: Int64
    public var jobID: JobID
    /// `done`, `failed` or `rejected`.
    public var event: String
    public var url: String
    public var body: String
    /// `sha256=HEX`, the `X-ProStudio-Signature` header.
    public var signature: String
    public var state: State
    public var attempts: Int
    public var maxAttempts: Int
    public var nextAt: Date
    public var createdAt: Date
    public var updatedAt: Date
}

/// One try at sending a delivery.
public struct DeliveryAttempt: Sendable, Hashable {
    public var deliveryID: Int64
    public var attempt: Int
    public var at: Date
    public var seconds: Double
    /// The HTTP status; nil when no response came.
    public var status: Int?
    public var error: String?
    public init(deliveryID: Int64, attempt: Int, at: Date, seconds: Double, status: Int?, error: String?) {
        self.deliveryID = deliveryID; self.attempt = attempt; self.at = at; self.seconds = seconds
        self.status = status; self.error = error
    }
}

enum DeliveryRows {
    static func delivery(_ row: Row) -> Delivery {
        Delivery(id: row["id"], jobID: JobID(row["job_id"] as String), event: row["event"], url: row["url"], body: row["body"],
                 signature: row["signature"], state: Delivery.State(rawValue: row["state"] as String) ?? .failed,
                 attempts: row["attempts"], maxAttempts: row["max_attempts"], nextAt: Rows.date(row["next_at"]),
                 createdAt: Rows.date(row["created_at"]), updatedAt: Rows.date(row["updated_at"]))
    }
    static func attempt(_ row: Row) -> DeliveryAttempt {
        DeliveryAttempt(deliveryID: row["delivery_id"], attempt: row["attempt"], at: Rows.date(row["at"]), seconds: row["seconds"],
                        status: row["status"], error: row["error"])
    }
    static func deliveries(_ db: Database, job: JobID) throws -> [Delivery] {
        try Row.fetchAll(db, sql: "SELECT * FROM deliveries WHERE job_id = ? ORDER BY id", arguments: [job.rawValue]).map(delivery)
    }
    static func attempts(_ db: Database, delivery: Int64) throws -> [DeliveryAttempt] {
        try Row.fetchAll(db, sql: "SELECT * FROM delivery_attempts WHERE delivery_id = ? ORDER BY id", arguments: [delivery]).map(attempt)
    }
    static func addEvent(_ db: Database, _ id: JobID, _ message: String) throws {
        try db.execute(sql: "INSERT INTO events (job_id, at, kind, message) VALUES (?, ?, 'webhook', ?)",
                       arguments: [id.rawValue, Rows.seconds(Date()), message])
    }
}

/// A pending delivery without its body: enough to choose what to send next.
public struct DeliveryHead: Sendable, Hashable {
    public var id: Int64
    public var url: String
    public var nextAt: Date
}

/// Webhook deliveries in the daemon's journal: queued when a job ends, taken when due, each attempt recorded. Pending
/// rows outlive a restart: the next daemon sends them.
public protocol DeliveryStore: Sendable {
    @discardableResult
    func enqueueDelivery(job: JobID, event: String, url: String, body: String, signature: String, maxAttempts: Int) async throws -> Int64
    /// Pending deliveries, soonest due first (bodies left out: a receiver that is down can hold many).
    func pendingDeliveries(limit: Int) async throws -> [DeliveryHead]
    func delivery(id: Int64) async throws -> Delivery?
    @discardableResult
    func recordDeliveryAttempt(_ attempt: DeliveryAttempt, delivered: Bool, retryAt: Date?) async throws -> Delivery
    /// A job's deliveries, oldest first, whatever their state.
    func deliveries(of job: JobID) async throws -> [Delivery]
    /// A delivery's attempts, in the order they were made.
    func deliveryAttempts(of delivery: Int64) async throws -> [DeliveryAttempt]
}

extension SQLiteJournal: DeliveryStore {}

extension SQLiteJournal {
    @discardableResult
    public func enqueueDelivery(job: JobID, event: String, url: String, body: String, signature: String, maxAttempts: Int) async throws -> Int64 {
        try await journaled("webhook \(job)") {
            try await pool.write { db -> Int64 in
                let now = Rows.seconds(Date())
                try db.execute(sql: """
                    INSERT INTO deliveries (job_id, event, url, body, signature, state, attempts, max_attempts, next_at, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?)
                    """, arguments: [job.rawValue, event, url, body, signature, max(1, maxAttempts), now, now, now])
                return db.lastInsertedRowID
            }
        }
    }

    public func pendingDeliveries(limit: Int = 1000) async throws -> [DeliveryHead] {
        try await journaled("webhooks pending") {
            try await pool.read { db in
                try Row.fetchAll(db, sql: "SELECT id, url, next_at FROM deliveries WHERE state = 'pending' ORDER BY next_at, id LIMIT ?",
                                 arguments: [limit]).map { DeliveryHead(id: $0["id"], url: $0["url"], nextAt: Rows.date($0["next_at"])) }
            }
        }
    }

    public func delivery(id: Int64) async throws -> Delivery? {
        try await journaled("webhook \(id)") {
            try await pool.read { db in
                try Row.fetchOne(db, sql: "SELECT * FROM deliveries WHERE id = ?", arguments: [id]).map(DeliveryRows.delivery)
            }
        }
    }

    /// Records an attempt and moves the delivery on: `delivered`; `failed` when `retryAt` is nil or its attempts are
    /// spent; else pending again until `retryAt`. Returns the delivery as it now stands.
    @discardableResult
    public func recordDeliveryAttempt(_ attempt: DeliveryAttempt, delivered: Bool, retryAt: Date?) async throws -> Delivery {
        try await journaled("webhook attempt \(attempt.deliveryID)") {
            try await pool.write { db -> Delivery in
                let now = Rows.seconds(Date())
                try db.execute(sql: "INSERT INTO delivery_attempts (delivery_id, attempt, at, seconds, status, error) VALUES (?, ?, ?, ?, ?, ?)",
                               arguments: [attempt.deliveryID, attempt.attempt, Rows.seconds(attempt.at), attempt.seconds, attempt.status, attempt.error])
                guard let row = try Row.fetchOne(db, sql: "SELECT * FROM deliveries WHERE id = ?", arguments: [attempt.deliveryID]) else {
                    throw JournalError.database(operation: "webhook attempt", underlying: "no delivery \(attempt.deliveryID)")
                }
                var d = DeliveryRows.delivery(row)
                let outcome = d.record(attempt, delivered: delivered, retryAt: retryAt)
                try db.execute(sql: "UPDATE deliveries SET state = ?, attempts = ?, next_at = ?, updated_at = ? WHERE id = ?",
                               arguments: [d.state.rawValue, d.attempts, Rows.seconds(d.nextAt), now, d.id])
                switch d.state {
                case .delivered:
                    try DeliveryRows.addEvent(db, d.jobID, "webhook \(d.event) delivered to \(d.url) (\(outcome), attempt \(d.attempts))")
                case .failed:
                    try DeliveryRows.addEvent(db, d.jobID, "webhook \(d.event) to \(d.url) given up after attempt \(d.attempts): \(outcome)")
                case .pending where d.attempts == 1:
                    try DeliveryRows.addEvent(db, d.jobID, "webhook \(d.event) to \(d.url) failed (\(outcome)); retrying")
                case .pending: break
                }
                d.updatedAt = Rows.date(now)
                return d
            }
        }
    }

    public func deliveries(of job: JobID) async throws -> [Delivery] {
        try await journaled("webhooks of \(job)") { try await pool.read { db in try DeliveryRows.deliveries(db, job: job) } }
    }

    public func deliveryAttempts(of delivery: Int64) async throws -> [DeliveryAttempt] {
        try await journaled("webhook attempts") { try await pool.read { db in try DeliveryRows.attempts(db, delivery: delivery) } }
    }
}

extension JournalClient {
    public func deliveries(of job: JobID) async throws -> [Delivery] {
        try await journaled("webhooks of \(job)") { try await pool.read { db in try DeliveryRows.deliveries(db, job: job) } }
    }

    public func deliveryAttempts(of delivery: Int64) async throws -> [DeliveryAttempt] {
        try await journaled("webhook attempts") { try await pool.read { db in try DeliveryRows.attempts(db, delivery: delivery) } }
    }
}
