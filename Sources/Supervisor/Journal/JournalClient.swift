import Foundation
import GRDB

/// The CLI's view of the journal: reads, plus inserting into `requests` (its only write). It never migrates
/// and refuses a journal whose schema is not exactly the one this build knows.
///
/// How the CLI asks the daemon: insert a `requests` row, then "ring the bell" by closing
/// `requests.bell` (next to the journal) after writing, which the daemon watches with inotify. A request
/// made while the daemon is down, or whose bell was missed, is applied when the daemon next starts or
/// finishes a job. The daemon alone changes job state, so every transition stays in one place.
///
/// Reads go through one read-only connection (F13): it never takes the write lock, never changes the journal
/// mode and never checkpoints, not even as the last connection to close after the daemon died, so outside
/// readers (sqlite3, Python) and the daemon never wait on the CLI. A request opens a separate writable connection
/// for its one insert and closes it.
public final class JournalClient: JobBrowser, JobRequester {
    public let path: String
    let pool: DatabaseQueue

    /// The file whose close-after-write wakes the daemon to apply requests.
    public static func bellPath(forJournal path: String) -> String {
        (path as NSString).deletingLastPathComponent + "/requests.bell"
    }

    public init(path: String) throws {
        self.path = path
        guard FileManager.default.fileExists(atPath: path) else { throw JournalError.noJournal(path: path) }
        do {
            pool = try DatabaseQueue(path: path, configuration: .journal(readonly: true))
        } catch {
            throw JournalError.database(operation: "open \(path)", underlying: String(describing: error))
        }
        let applied: [String]
        do {
            applied = try pool.read { db -> [String] in
                guard try db.tableExists("grdb_migrations") else { return [] }
                return try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
            }
        } catch {
            throw JournalError.database(operation: "read schema of \(path)", underlying: String(describing: error))
        }
        let known = Set(Schema.identifiers), have = Set(applied)
        if !have.subtracting(known).isEmpty {
            throw JournalError.schemaMismatch(path: path, detail: "written by a newer prostudio (migrations \(have.subtracting(known).sorted()))")
        }
        if !known.subtracting(have).isEmpty {
            throw JournalError.schemaMismatch(path: path, detail: "not migrated yet (missing \(known.subtracting(have).sorted())); start the daemon once")
        }
    }

    private func read<T: Sendable>(_ op: String, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await journaled(op) { try await pool.read(body) }
    }

    /// `PRAGMA integrity_check` (read-only): `["ok"]` for a sound file.
    public func integrityCheck() async throws -> [String] {
        try await read("integrity check") { db in try String.fetchAll(db, sql: "PRAGMA integrity_check(20)") }
    }

    public func job(_ id: JobID) async throws -> Job? { try await read("job") { try Rows.job($0, id) } }
    public func jobs(_ filter: JobFilter) async throws -> [Job] { try await read("jobs") { try Rows.jobs($0, filter) } }
    public func events(of id: JobID) async throws -> [JobEvent] { try await read("events") { try Rows.events($0, id) } }
    public func stageRuns(of id: JobID) async throws -> [StageRun] { try await read("stage runs") { try Rows.stageRuns($0, id) } }
    public func requests(of id: JobID?) async throws -> [JobRequest] { try await read("requests") { try Rows.requests($0, id) } }
    public func artifact(key: String) async throws -> Artifact? { try await read("artifact") { try Rows.artifact($0, key: key) } }
    public func queueState() async throws -> QueueState { try await read("queue state") { try Rows.queueState($0) } }

    /// Events with an id above `after` (of one job, or all), oldest first: what `jobs watch` follows.
    public func events(after: Int64, job: JobID?) async throws -> [JobEvent] {
        try await read("events") { db in
            if let job {
                return try Row.fetchAll(db, sql: "SELECT * FROM events WHERE id > ? AND job_id = ? ORDER BY id",
                                        arguments: [after, job.rawValue]).map(Rows.event)
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM events WHERE id > ? ORDER BY id", arguments: [after]).map(Rows.event)
        }
    }

    public func lastEventID() async throws -> Int64 {
        try await read("events") { db in try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM events") ?? 0 }
    }

    public func lookupCandidates(prefix: String, name: String) async throws -> (byID: [Job], byName: [Job]) {
        try await read("lookup") { db in
            let ids = try Row.fetchAll(db, sql: "SELECT * FROM jobs WHERE id >= ? AND id < ? ORDER BY id DESC LIMIT 21",
                                       arguments: [prefix, prefix + "\u{10FFFF}"]).map(Rows.job)
            let names = try Row.fetchAll(db, sql: "SELECT * FROM jobs WHERE name = ? ORDER BY created_at DESC, id DESC LIMIT 21",
                                         arguments: [name]).map(Rows.job)
            return (ids, names)
        }
    }

    /// Every job's id, sorted: what `shortIDs` needs.
    public func allIDs() async throws -> [String] {
        try await read("ids") { db in try String.fetchAll(db, sql: "SELECT id FROM jobs ORDER BY id") }
    }

    @discardableResult
    public func request(_ action: RequestAction, job: JobID?, value: Int?, by requester: String) async throws -> Int64 {
        let id = try await journaled("request \(action.rawValue) \(job?.rawValue ?? "queue")") {
            var config = Configuration.journal()
            // The insert must not checkpoint the daemon's WAL (the daemon checkpoints when idle).
            config.prepareDatabase { db in try db.execute(sql: "PRAGMA wal_autocheckpoint = 0") }
            let writer = try DatabaseQueue(path: path, configuration: config)
            defer { try? writer.close() }
            return try await writer.write { db -> Int64 in try Rows.insertRequest(db, action, job, value, requester) }
        }
        ringBell()
        return id
    }

    /// Best effort: without the bell the request still applies at the daemon's next job boundary or start.
    public func ringBell() {
        let bell = Self.bellPath(forJournal: path)
        let fd = open(bell, O_WRONLY | O_CREAT | O_CLOEXEC, 0o664)
        if fd >= 0 { close(fd) }
    }
}

/// The shortest prefix of each id that no other id shares (at least `minimum` characters), like git's short hashes.
public enum ShortIDs {
    public static func make(_ sortedIDs: [String], minimum: Int = 4) -> [String: String] {
        func common(_ a: String, _ b: String) -> Int { zip(a, b).prefix { $0 == $1 }.count }
        var out: [String: String] = [:]
        for (i, id) in sortedIDs.enumerated() {
            var need = minimum
            if i > 0 { need = max(need, common(sortedIDs[i - 1], id) + 1) }
            if i + 1 < sortedIDs.count { need = max(need, common(sortedIDs[i + 1], id) + 1) }
            out[id] = String(id.prefix(need))
        }
        return out
    }
}
