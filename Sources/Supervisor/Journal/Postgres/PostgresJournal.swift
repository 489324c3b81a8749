import Contract
import Foundation
import Logging
import PostgresNIO

/// The journal on PostgreSQL (issue 31): the same schema, transitions, errors and loop guard as `SQLiteJournal`, so that
/// several daemons can share one queue. Every transition reads the row `FOR UPDATE` and checks `JobState.canMove(to:)`
/// in the transaction that writes it; `startNext` takes the oldest queued job `FOR UPDATE SKIP LOCKED`, so two daemons
/// never start the same job and neither waits on the other's claim. A commit is durable when it returns (PostgreSQL's
/// default `synchronous_commit = on`; a server configured otherwise trades that away).
public final class PostgresJournal: JobStore, JobRequester {
    public let location: PostgresLocation
    public let maxAttempts: Int
    /// The fairness bound of `startNext` (`queue:` in the config).
    public let queuePolicy: QueuePolicy
    /// The schema the tables live in (`schema=` in the URL), else the database's search path.
    public let schema: String?
    let client: PostgresClient
    let logger: Logger
    /// The pool's run loop: a `PostgresClient` serves nothing until `run()` runs; `close()` cancels it.
    private let runner: Task<Void, Never>

    /// The NOTIFY channel a queued job or a request is announced on (`listen`). NOTIFY reaches the whole database, so a
    /// journal in a schema of its own has a channel of its own.
    let channel: String

    private init(location: PostgresLocation, maxAttempts: Int, queue: QueuePolicy, logger: Logger) throws {
        let (config, _, schema) = try location.configuration()
        self.location = location
        self.maxAttempts = max(1, maxAttempts)
        self.queuePolicy = queue
        self.schema = schema
        channel = "prostudio_jobs" + (schema.map { "_" + $0 } ?? "")
        self.logger = logger
        // The pool's own log at error and above: its warnings are start-up noise (a lease asked for before `run()` was
        // scheduled) or say again what the failed query throws to its caller.
        var background = logger
        background.logLevel = max(.error, logger.logLevel)
        let client = PostgresClient(configuration: config, backgroundLogger: background)
        self.client = client
        runner = Task { await client.run() }
    }

    /// Connects, makes the schema if the URL names one, and applies pending migrations.
    public static func open(_ location: PostgresLocation, maxAttempts: Int = 3, queue: QueuePolicy = .default,
                            logger: Logger = Logger(label: "prostudio.journal")) async throws -> PostgresJournal {
        // One connection first, on its own: a refused password or certificate fails here, at once and with the
        // server's reason, where the pool would retry it quietly until a query gave up.
        let (_, single, _) = try location.configuration()
        do {
            let connection = try await PostgresConnection.connect(configuration: single, id: 0, logger: logger)
            try await connection.close()
        } catch {
            throw JournalError.database(operation: "open \(location.redacted)", underlying: PostgresTLS.explain(error))
        }
        let journal = try PostgresJournal(location: location, maxAttempts: maxAttempts, queue: queue, logger: logger)
        do {
            try await pgJournaled("open \(location.redacted)") {
                if let schema = journal.schema {
                    // Locked like the migrations: CREATE ... IF NOT EXISTS races with itself.
                    try await journal.client.withTransaction(logger: logger) { conn in
                        try await conn.query("SELECT pg_advisory_xact_lock(\(PostgresSchema.lockKey))", logger: logger)
                        try await conn.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \"\(schema)\""), logger: logger)
                    }
                }
                try await PostgresSchema.migrate(journal.client, logger: logger)
            }
        } catch {
            journal.close()
            throw error
        }
        return journal
    }

    /// Closes the pool's connections. The journal serves nothing after it.
    public func close() { runner.cancel() }

    deinit { runner.cancel() }

    /// Drops the schema the URL named, with every table in it (the conformance tests' cleanup). Refused without one:
    /// the database's own schema is never dropped.
    public func dropSchemaForTests() async throws {
        guard let schema else { throw JournalError.database(operation: "drop schema", underlying: "the journal URL names no schema=") }
        try await pgJournaled("drop schema \(schema)") {
            try await client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \"\(schema)\" CASCADE"), logger: logger)
        }
    }

    public func appliedMigrations() async throws -> [String] {
        try await pgJournaled("read migrations") { try await PostgresSchema.appliedMigrations(client, logger: logger) }
    }

    /// One transaction: committed when `body` returns, rolled back when it throws (the error comes out as it was thrown).
    func write<T: Sendable>(_ op: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await pgJournaled(op) {
            try await client.withTransaction(logger: logger) { conn in try await body(conn) }
        }
    }

    func read<T: Sendable>(_ op: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await pgJournaled(op) { try await client.withConnection { conn in try await body(conn) } }
    }

    static func rows<T>(_ conn: PostgresConnection, _ q: PostgresQuery, _ logger: Logger, _ map: (PostgresRow) throws -> T) async throws -> [T] {
        try await conn.query(q, logger: logger).collect().map(map)
    }

    static func job(_ conn: PostgresConnection, _ id: JobID, lock: Bool = false, _ logger: Logger) async throws -> Job? {
        let sql = "SELECT * FROM jobs WHERE id = $1" + (lock ? " FOR UPDATE" : "")
        var binds = PostgresBindings()
        binds.append(id.rawValue)
        return try await rows(conn, PostgresQuery(unsafeSQL: sql, binds: binds), logger, PGRows.job).first
    }

    static func event(_ conn: PostgresConnection, _ id: JobID?, kind: String, message: String, _ logger: Logger) async throws {
        try await conn.query("INSERT INTO events (job_id, at, kind, message) VALUES (\(id?.rawValue), \(Rows.seconds(Date())), \(kind), \(message))",
                             logger: logger)
    }

    /// Moves a job to `next` if the state machine allows it, applies `set` (extra assignments) and journals an event, all
    /// inside the caller's transaction. The row is locked first, so a concurrent transition waits and then re-checks.
    /// A move to `queued` is announced on `channel` (at commit) to the daemons LISTENing there.
    static func move(_ conn: PostgresConnection, _ id: JobID, to next: JobState, set: [(String, PGValue)] = [],
                     note: String? = nil, channel: String? = nil, _ logger: Logger) async throws -> Job {
        guard let job = try await job(conn, id, lock: true, logger) else { throw JournalError.notFound(id) }
        guard job.state.canMove(to: next) else { throw JournalError.invalidTransition(id, from: job.state, to: next) }
        var sql = SQLText("UPDATE jobs SET state = ")
        sql.bind(.text(next.rawValue))
        sql.add(", updated_at = ")
        sql.bind(.real(Rows.seconds(Date())))
        for (column, value) in set {
            sql.add(", \(column) = ")
            sql.bind(value)
        }
        sql.add(" WHERE id = ")
        sql.bind(.text(id.rawValue))
        sql.add(" RETURNING *")
        let moved = try await rows(conn, sql.query, logger, PGRows.job)
        try await event(conn, id, kind: "state", message: "\(job.state.rawValue) -> \(next.rawValue)" + (note.map { ": \($0)" } ?? ""), logger)
        if next == .queued, let channel { try await conn.query("SELECT pg_notify(\(channel), \("queued:" + id.rawValue))", logger: logger) }
        return moved[0]
    }

    static func errorSet(_ e: JobError?) -> [(String, PGValue)] {
        [("error_code", .text(e?.code)), ("error_message", .text(e?.message)), ("error_field", .text(e?.field)),
         ("error_stage", .text(e?.stage)), ("error_disposition", .text(e?.disposition))]
    }

    /// Leaving `claimed` resets `attempts` (there it counts crashed pick-ups): SET expressions read the row as it was.
    static let resetPickUpCount: (String, PGValue) = ("attempts", .expr("CASE WHEN state = 'claimed' THEN 0 ELSE attempts END"))
    static let startSet: [(String, PGValue)] = [("attempts", .expr("attempts + 1")), ("stage", .text(nil)), ("progress", .real(0)), ("report", .text(nil))]
    /// A start without a lease (`startNext`, `start`) clears what an earlier leased run left, so no rescuer takes it.
    static let clearLease: [(String, PGValue)] = [("lease_host", .text(nil)), ("lease_worker", .text(nil)), ("lease_expires_at", .real(nil))]

    /// Calls `onNotice` for each NOTIFY on the journal's channel (`true` for a request, `false` for a job queued), from a
    /// connection of its own, until the task is cancelled. After a lost connection it listens again a second later and
    /// reports both kinds once, since what was sent meanwhile is lost.
    public func listen(_ onNotice: @escaping @Sendable (_ isRequest: Bool) -> Void) async {
        let logger = logger
        while !Task.isCancelled {
            do {
                try await client.withConnection { conn in
                    try await conn.listen(on: channel) { notices in
                        for try await notice in notices { onNotice(notice.payload.hasPrefix("request:")) }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("journal: LISTEN lost; listening again", metadata: ["error": "\(String(reflecting: error))"])
            }
            try? await Task.sleep(for: .seconds(1))
            onNotice(false)
            onNotice(true)
        }
    }

    // MARK: JobReader

    public func job(_ id: JobID) async throws -> Job? {
        let logger = logger
        return try await read("job") { try await Self.job($0, id, logger) }
    }

    public func jobs(_ filter: JobFilter) async throws -> [Job] {
        let logger = logger
        var sql = SQLText("SELECT * FROM jobs WHERE TRUE")
        if let states = filter.states, !states.isEmpty {
            sql.add(" AND state = ANY(")
            sql.binds.append(states.map(\.rawValue).sorted())
            sql.add("$\(sql.binds.count))")
        }
        if let name = filter.name {
            sql.add(" AND name = ")
            sql.bind(.text(name))
        }
        sql.add(" ORDER BY created_at DESC, id COLLATE \"C\" DESC")
        if let limit = filter.limit { sql.add(" LIMIT \(max(0, limit))") }
        let q = sql.query
        return try await read("jobs") { try await Self.rows($0, q, logger, PGRows.job) }
    }

    public func events(of id: JobID) async throws -> [JobEvent] {
        let logger = logger
        return try await read("events") {
            try await Self.rows($0, "SELECT * FROM events WHERE job_id = \(id.rawValue) ORDER BY id", logger, PGRows.event)
        }
    }

    public func stageRuns(of id: JobID) async throws -> [StageRun] {
        let logger = logger
        return try await read("stage runs") {
            try await Self.rows($0, "SELECT * FROM stage_runs WHERE job_id = \(id.rawValue) ORDER BY id", logger, PGRows.stageRun)
        }
    }

    public func requests(of id: JobID?) async throws -> [JobRequest] {
        let logger = logger
        return try await read("requests") { conn in
            if let id {
                return try await Self.rows(conn, "SELECT * FROM requests WHERE job_id = \(id.rawValue) ORDER BY id", logger, PGRows.request)
            }
            return try await Self.rows(conn, "SELECT * FROM requests ORDER BY id", logger, PGRows.request)
        }
    }

    public func artifact(key: String) async throws -> Artifact? {
        let logger = logger
        return try await read("artifact") { try await Self.rows($0, "SELECT * FROM artifacts WHERE key = \(key)", logger, PGRows.artifact).first }
    }

    // MARK: Upkeep

    /// Every migration this build knows is applied and none other, and each table answers: PostgreSQL keeps its own
    /// pages sound (checksums, WAL), so what can go wrong here is a database another version of ProStudio changed.
    public func integrityCheck() async throws -> [String] {
        let applied = try await appliedMigrations()
        var problems: [String] = []
        if applied != PostgresSchema.identifiers {
            problems.append("migrations applied \(applied), this build expects \(PostgresSchema.identifiers)")
        }
        let logger = logger
        for table in ["jobs", "stage_runs", "events", "artifacts", "requests", "deliveries", "delivery_attempts", "queue"] {
            do {
                _ = try await read("check \(table)") { try await $0.query(PostgresQuery(unsafeSQL: "SELECT 1 FROM \(table) LIMIT 1"), logger: logger).collect() }
            } catch { problems.append("\(table): \(error)") }
        }
        return problems.isEmpty ? ["ok"] : problems
    }

    /// Nothing to do: every PostgreSQL commit is already durable, and the server checkpoints on its own.
    public func checkpoint() async throws {}
}
