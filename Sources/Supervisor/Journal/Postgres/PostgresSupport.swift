import Contract
import Foundation
import Logging
import PostgresNIO

/// Where a PostgreSQL journal lives, from `journal: {url: ..., pool: N}`.
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?host=/socket/dir][&schema=NAME]`: `host=` as libpq reads it (a folder
/// holding `.s.PGSQL.PORT` means a unix socket), `schema=` the schema the tables live in (made if missing; default public),
/// and libpq's `sslmode`, `sslrootcert`, `sslcert`, `sslkey` for TLS (`PostgresTLS`).
public struct PostgresLocation: Sendable, Hashable {
    public var url: String
    public var pool: Int
    public init(url: String, pool: Int = 4) { self.url = url; self.pool = pool }

    /// The pool's configuration, one connection's (the check at open), and the schema; or an error that names the URL
    /// and what is wrong with it.
    func configuration() throws -> (PostgresClient.Configuration, PostgresConnection.Configuration, schema: String?) {
        func bad(_ why: String) -> JournalError { .database(operation: "open \(redacted)", underlying: why) }
        guard let c = URLComponents(string: url), c.scheme == "postgres" || c.scheme == "postgresql" else {
            throw bad("journal.url must look like postgres://USER@HOST:PORT/DATABASE")
        }
        guard let user = c.user, !user.isEmpty else { throw bad("journal.url names no user (postgres://USER@HOST/DATABASE)") }
        let database = String(c.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty else { throw bad("journal.url names no database (postgres://USER@HOST/DATABASE)") }
        guard pool >= 1 else { throw bad("journal.pool must be 1 or more, got \(pool)") }
        let query = Dictionary((c.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        let port = c.port ?? 5432
        var config: PostgresClient.Configuration
        let single: PostgresConnection.Configuration
        if let dir = query["host"], dir.hasPrefix("/") {
            if let mode = query["sslmode"], !["disable", "allow", "prefer"].contains(mode) {
                throw bad("journal.url sslmode=\(mode) asks for TLS, but host=\(dir) is a unix socket, which PostgreSQL never "
                          + "encrypts: drop sslmode, or connect over TCP")
            }
            config = .init(unixSocketPath: dir + "/.s.PGSQL.\(port)", username: user, password: c.password, database: database)
            single = .init(unixSocketPath: dir + "/.s.PGSQL.\(port)", username: user, password: c.password, database: database)
        } else {
            guard let host = c.host, !host.isEmpty else { throw bad("journal.url names no host") }
            let tls: (pool: PostgresClient.Configuration.TLS, connection: PostgresConnection.Configuration.TLS)
            do { tls = try PostgresTLS(query: query, host: host).settings() } catch { throw bad(error.message) }
            config = .init(host: host, port: port, username: user, password: c.password, database: database, tls: tls.pool)
            single = .init(host: host, port: port, username: user, password: c.password, database: database, tls: tls.connection)
        }
        // One connection more than `pool`: a daemon holds one for LISTEN (`PostgresJournal.listen`) all the time.
        config.options.maximumConnections = pool + 1
        var schema: String?
        if let s = query["schema"], !s.isEmpty {
            guard s.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }), !s.first!.isNumber else {
                throw bad("journal.url schema= must be letters, digits and _ (got \(s))")
            }
            config.options.additionalStartupParameters = [("search_path", s)]
            schema = s
        }
        return (config, single, schema)
    }

    /// What is wrong with the URL or the pool size, if anything (the config check at start).
    public var problem: String? {
        do { _ = try configuration(); return nil } catch JournalError.database(_, let why) { return why } catch { return "\(error)" }
    }

    /// The URL without its password, for messages and logs.
    public var redacted: String {
        guard var c = URLComponents(string: url), c.password != nil else { return url }
        c.password = "***"
        return c.string ?? url
    }
}

/// One value to bind in a statement built at run time (`SQLText`).
enum PGValue: Sendable {
    case text(String?), real(Double?), int(Int64?), bool(Bool)
    /// A SQL expression written into the statement as is: only constants of this module, never input.
    case expr(String)
}

/// A statement with numbered binds, built piece by piece (a transition's extra assignments, a listing's filters).
struct SQLText {
    var text: String
    var binds = PostgresBindings()
    init(_ text: String = "") { self.text = text }

    mutating func add(_ s: String) { text += s }
    mutating func bind(_ v: PGValue) {
        switch v {
        case .text(let s): binds.append(s)
        case .real(let d): binds.append(d)
        case .int(let i): binds.append(i)
        case .bool(let b): binds.append(b)
        case .expr(let e): text += e; return
        }
        text += "$\(binds.count)"
    }
    var query: PostgresQuery { PostgresQuery(unsafeSQL: text, binds: binds) }
}

/// Decoding the journal's rows from PostgreSQL: the same models `Rows` makes from SQLite's.
enum PGRows {
    struct R {
        let row: PostgresRandomAccessRow
        init(_ row: PostgresRow) { self.row = PostgresRandomAccessRow(row) }
        func callAsFunction<T: PostgresDecodable>(_ column: String, _ type: T.Type = T.self) throws -> T {
            try row[column].decode(T.self)
        }
    }

    static func job(_ row: PostgresRow) throws -> Job {
        let r = R(row)
        let code: String? = try r("error_code")
        let outputs = (try? JSONDecoder().decode([String: String].self, from: Data((try r("outputs", String.self)).utf8))) ?? [:]
        let reportText: String? = try r("report")
        let report = reportText.flatMap { try? JSONDecoder().decode(JobReport.self, from: Data($0.utf8)) } ?? JobReport()
        let error: JobError? = try code.map {
            JobError(code: $0, message: try r("error_message", String?.self) ?? "", field: try r("error_field"),
                     stage: try r("error_stage"), disposition: try r("error_disposition"))
        }
        return Job(
            id: JobID(try r("id")), name: try r("name"), state: JobState(rawValue: try r("state")) ?? .failed,
            stage: try r("stage"), progress: try r("progress"), manifestPath: try r("manifest_path"),
            sourceName: try r("source_name"), sourcePath: try r("source_path"),
            sourceKind: SourceKind(rawValue: try r("source_kind")) ?? .file, dedupKey: try r("dedup_key"),
            attempts: Int(try r("attempts", Int64.self)), cancelRequested: try r("cancel_requested"), seed: try r("seed"),
            createdAt: Rows.date(try r("created_at")), updatedAt: Rows.date(try r("updated_at")),
            error: error, outputs: outputs, report: report, priority: Int(try r("priority", Int64.self)),
            notBefore: (try r("not_before", Double?.self)).map(Rows.date), packs: QueuePicker.decode(try r("packs")),
            passes: Int(try r("passes", Int64.self)))
    }

    static func listed(_ row: PostgresRow) throws -> ListedJob {
        let deleted: Double? = try R(row)("deleted_at")
        return ListedJob(job: try job(row), deletedAt: deleted.map(Rows.date))
    }

    static func stageRun(_ row: PostgresRow) throws -> StageRun {
        let r = R(row)
        let ended: Double? = try r("ended_at")
        return StageRun(
            id: try r("id"), jobID: JobID(try r("job_id")), stage: try r("stage"), attempt: Int(try r("attempt", Int64.self)),
            engine: try r("engine"), startedAt: Rows.date(try r("started_at")), endedAt: ended.map(Rows.date),
            outcome: StageOutcome(rawValue: try r("outcome")) ?? .interrupted,
            peakMemoryBytes: try r("peak_memory_bytes"), cacheHit: try r("cache_hit"), seconds: try r("seconds"))
    }

    static func event(_ row: PostgresRow) throws -> JobEvent {
        let r = R(row)
        let job: String? = try r("job_id")
        return JobEvent(id: try r("id"), jobID: job.map { JobID($0) }, at: Rows.date(try r("at")), kind: try r("kind"), message: try r("message"))
    }

    static func request(_ row: PostgresRow) throws -> JobRequest {
        let r = R(row)
        let handled: Double? = try r("handled_at")
        let job: String? = try r("job_id")
        let value: Int64? = try r("value")
        return JobRequest(
            id: try r("id"), jobID: job.map { JobID($0) }, action: RequestAction(rawValue: try r("action")) ?? .cancel,
            value: value.map { Int($0) },
            requestedAt: Rows.date(try r("requested_at")), requestedBy: try r("requested_by"),
            handledAt: handled.map(Rows.date), outcome: try r("outcome"))
    }

    static func artifact(_ row: PostgresRow) throws -> Artifact {
        let r = R(row)
        return Artifact(key: try r("key"), stage: try r("stage"), path: try r("path"), sizeBytes: try r("size_bytes"),
                        createdAt: Rows.date(try r("created_at")), usedAt: Rows.date(try r("used_at")))
    }

    static func delivery(_ row: PostgresRow) throws -> Delivery {
        let r = R(row)
        return Delivery(
            id: try r("id"), jobID: JobID(try r("job_id")), event: try r("event"), url: try r("url"), body: try r("body"),
            signature: try r("signature"), state: Delivery.State(rawValue: try r("state")) ?? .failed,
            attempts: Int(try r("attempts", Int64.self)), maxAttempts: Int(try r("max_attempts", Int64.self)),
            nextAt: Rows.date(try r("next_at")), createdAt: Rows.date(try r("created_at")), updatedAt: Rows.date(try r("updated_at")))
    }

    static func attempt(_ row: PostgresRow) throws -> DeliveryAttempt {
        let r = R(row)
        let status: Int64? = try r("status")
        return DeliveryAttempt(deliveryID: try r("delivery_id"), attempt: Int(try r("attempt", Int64.self)), at: Rows.date(try r("at")),
                               seconds: try r("seconds"), status: status.map(Int.init), error: try r("error"))
    }
}

/// Runs a PostgreSQL call and turns its errors into `JournalError` with the operation's name: a `JournalError` or
/// `LeaseLost` thrown inside a transaction comes out as itself, whatever PostgresNIO wrapped it in.
func pgJournaled<T>(_ operation: String, _ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as JournalError {
        throw error
    } catch let error as LeaseLost {
        throw error
    } catch let error as PostgresTransactionError {
        if let inner = error.closureError as? JournalError { throw inner }
        if let inner = error.closureError as? LeaseLost { throw inner }
        throw JournalError.database(operation: operation, underlying: String(reflecting: error.closureError ?? error.commitError ?? error))
    } catch {
        throw JournalError.database(operation: operation, underlying: String(reflecting: error))
    }
}
