import Foundation
import GRDB
import PostgresNIO

/// `prostudio journal migrate` (issue 31 item 7): a SQLite journal's whole history moved into an empty PostgreSQL
/// journal, in one transaction, so a host that moves to the shared journal keeps its jobs, their stage runs, events,
/// requests and webhook deliveries.
extension PostgresJournal {
    /// What was copied: rows per table, in copy order.
    public struct ImportReport: Sendable, Equatable {
        public var rows: [(table: String, count: Int)] = []
        /// The queue's pause flag as copied (nil: the SQLite journal predates it).
        public var queuePaused: Bool?
        public static func == (a: Self, b: Self) -> Bool { a.rows.elementsEqual(b.rows) { $0 == $1 } && a.queuePaused == b.queuePaused }
    }

    /// Tables in the order their foreign keys need. `artifacts` stays behind: it indexes this host's own stage cache,
    /// which the new journal re-learns as jobs run.
    static let importedTables = ["jobs", "stage_runs", "events", "requests", "deliveries", "delivery_attempts"]

    /// Copies every row of the SQLite journal at `path` (a stopped daemon's) into this journal, which must hold no job.
    /// Ids are kept (a job keeps its id, its folder and its sidecar's job_id), and the id sequences continue after them.
    /// Nothing is written unless everything is: one transaction.
    public func importHistory(fromSQLite path: String) async throws -> ImportReport {
        guard FileManager.default.fileExists(atPath: path) else {
            throw JournalError.database(operation: "migrate from \(path)", underlying: "no SQLite journal there")
        }
        let source: DatabaseQueue
        do { source = try DatabaseQueue(path: path, configuration: .journal(readonly: true)) } catch {
            throw JournalError.database(operation: "migrate from \(path)", underlying: "\(error)")
        }
        let tables = Self.importedTables
        let sourceRows: [String: (columns: [String], rows: [[DatabaseValue]])]
        // The queue's pause flag is state, not history, but a paused host must stay paused after the move.
        let queue: QueueState?
        do {
            (sourceRows, queue) = try await source.read { db in
                var out: [String: (columns: [String], rows: [[DatabaseValue]])] = [:]
                for table in tables where try db.tableExists(table) {
                    let columns = try db.columns(in: table).map(\.name)
                    let rows = try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY rowid").map { row in columns.map { row[$0] as DatabaseValue } }
                    out[table] = (columns, rows)
                }
                guard try db.tableExists("queue"), let row = try Row.fetchOne(db, sql: "SELECT paused, changed_at, changed_by FROM queue WHERE id = 1")
                else { return (out, nil) }
                let at: Double? = row["changed_at"]
                return (out, QueueState(paused: (row["paused"] as Int64? ?? 0) != 0, changedAt: at.map(Rows.date), changedBy: row["changed_by"]))
            }
        } catch {
            throw JournalError.database(operation: "migrate: read \(path)", underlying: "\(error)")
        }
        let logger = logger
        let target = location.redacted
        return try await write("migrate \(path) to \(target)") { conn in
            let held = try await Self.rows(conn, "SELECT COUNT(*)::BIGINT FROM jobs", logger) { try $0.decode(Int64.self) }.first ?? 0
            guard held == 0 else {
                throw JournalError.database(operation: "migrate to \(target)", underlying:
                    "the PostgreSQL journal already holds \(held) jobs; migrate into an empty one (a new database, or a new schema= in the URL)")
            }
            var report = ImportReport()
            for table in tables {
                guard let (columns, rows) = sourceRows[table] else { report.rows.append((table, 0)); continue }
                let types = try await Self.columnTypes(conn, table, logger)
                if let lost = columns.first(where: { types[$0] == nil }) {
                    throw JournalError.database(operation: "migrate to \(target)", underlying:
                        "\(table).\(lost) is in the SQLite journal but not in PostgreSQL's: is this prostudio older than the journal?")
                }
                // Batches keep each statement under PostgreSQL's 65535 bind limit.
                let perStatement = max(1, 60_000 / max(1, columns.count))
                for start in stride(from: 0, to: rows.count, by: perStatement) {
                    var sql = SQLText("INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES ")
                    for (n, row) in rows[start..<min(rows.count, start + perStatement)].enumerated() {
                        sql.add(n == 0 ? "(" : ", (")
                        for (i, value) in row.enumerated() {
                            if i > 0 { sql.add(", ") }
                            sql.bind(try Self.pgValue(value, type: types[columns[i]]!, at: "\(table).\(columns[i])"))
                        }
                        sql.add(")")
                    }
                    try await conn.query(sql.query, logger: logger)
                }
                if types["id"] == "bigint", table != "jobs" {
                    // The next stage run, event or request numbers on from the copied ones.
                    try await conn.query(PostgresQuery(unsafeSQL:
                        "SELECT setval(pg_get_serial_sequence('\(table)', 'id'), COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM \(table)"),
                        logger: logger)
                }
                report.rows.append((table, rows.count))
            }
            if let queue {
                try await conn.query("""
                    UPDATE queue SET paused = \(queue.paused), changed_at = \(queue.changedAt?.timeIntervalSince1970), changed_by = \(queue.changedBy) WHERE id = 1
                    """, logger: logger)
                report.queuePaused = queue.paused
            }
            try await Self.event(conn, nil, kind: "migrated", message: "history of \(path) migrated: "
                                 + report.rows.map { "\($0.count) \($0.table)" }.joined(separator: ", "), logger)
            return report
        }
    }

    /// Column name -> PostgreSQL data type, for the table in the journal's schema.
    private static func columnTypes(_ conn: PostgresConnection, _ table: String, _ logger: Logger) async throws -> [String: String] {
        var types: [String: String] = [:]
        let rows = try await conn.query(
            "SELECT column_name::TEXT, data_type::TEXT FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = \(table)",
            logger: logger)
        for try await (name, type) in rows.decode((String, String).self) { types[name] = type }
        return types
    }

    /// A SQLite value as the PostgreSQL column's type wants it (SQLite's booleans are integers, its reals may be whole).
    private static func pgValue(_ value: DatabaseValue, type: String, at column: String) throws -> PGValue {
        switch (value.storage, type) {
        case (.null, "boolean"): return .expr("NULL")
        case (.null, "bigint"), (.null, "integer"): return .int(nil)
        case (.null, "double precision"): return .real(nil)
        case (.null, _): return .text(nil)
        case (.int64(let i), "boolean"): return .bool(i != 0)
        case (.int64(let i), "bigint"), (.int64(let i), "integer"): return .int(i)
        case (.int64(let i), "double precision"): return .real(Double(i))
        case (.double(let d), "double precision"): return .real(d)
        case (.double(let d), "bigint") where d == d.rounded(): return .int(Int64(d))
        case (.string(let s), "text"): return .text(s)
        case (.int64(let i), "text"): return .text(String(i))
        default:
            throw JournalError.database(operation: "migrate", underlying: "\(column): cannot store \(value) in a PostgreSQL \(type) column")
        }
    }
}
