import Foundation
import PostgresNIO

/// `prostudio jobs show|watch` on PostgreSQL: the same reads as the SQLite journal's `JournalClient`.
extension PostgresJournal: JobBrowser {
    public func events(after: Int64, job: JobID?) async throws -> [JobEvent] {
        let logger = logger
        return try await read("events") { conn in
            if let job {
                return try await Self.rows(conn, "SELECT * FROM events WHERE id > \(after) AND job_id = \(job.rawValue) ORDER BY id",
                                           logger, PGRows.event)
            }
            return try await Self.rows(conn, "SELECT * FROM events WHERE id > \(after) ORDER BY id", logger, PGRows.event)
        }
    }

    public func lastEventID() async throws -> Int64 {
        let logger = logger
        return try await read("events") { conn in
            try await Self.rows(conn, "SELECT COALESCE(MAX(id), 0)::BIGINT AS last FROM events", logger) { try $0.decode(Int64.self) }.first ?? 0
        }
    }

    public func allIDs() async throws -> [String] {
        let logger = logger
        return try await read("ids") { conn in
            try await Self.rows(conn, "SELECT id FROM jobs ORDER BY id COLLATE \"C\"", logger) { try $0.decode(String.self) }
        }
    }

    public func lookupCandidates(prefix: String, name: String) async throws -> (byID: [Job], byName: [Job]) {
        let logger = logger
        return try await read("lookup") { conn in
            // starts_with, not a range: a database collation other than C orders ids differently from byte order.
            let ids = try await Self.rows(conn, "SELECT * FROM jobs WHERE starts_with(id, \(prefix)) ORDER BY id COLLATE \"C\" DESC LIMIT 21",
                                          logger, PGRows.job)
            let names = try await Self.rows(conn, "SELECT * FROM jobs WHERE name = \(name) ORDER BY created_at DESC, id DESC LIMIT 21",
                                            logger, PGRows.job)
            return (ids, names)
        }
    }
}
