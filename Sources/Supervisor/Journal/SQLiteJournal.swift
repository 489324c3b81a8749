import Contract
import Foundation
import GRDB
import Logging
import Synchronization

/// The daemon's journal: one SQLite file in WAL mode (GRDB `DatabasePool`: one writer, concurrent readers).
/// The daemon is the only writer of job state; the CLI goes through `JournalClient`, which can only read
/// and insert into `requests`. `inMemory` is the same journal (same SQLite, schema and transitions) in memory,
/// for tests that drive the daemon through `any JobStore` and inspect every row without a file.
public final class SQLiteJournal: JobStore, JobRequester {
    public let path: String
    /// The loop guard: a job started this many times (crashes and retryable failures count) is not retried
    /// automatically again.
    public let maxAttempts: Int
    /// The fairness bound of `startNext` (`queue:` in the config).
    public let queuePolicy: QueuePolicy
    let pool: any DatabaseWriter
    let logger: Logger
    /// A second connection that only checkpoints: a passive checkpoint there copies WAL frames into the
    /// database file without holding the write lock, so pick-ups keep committing meanwhile.
    let checkpointer: DatabaseQueue?
    private let checkpointState = Mutex((writes: 0, running: false))
    static let checkpointEvery = 500

    /// Opens (creating if needed) the journal at `path` and applies pending migrations.
    public init(path: String, maxAttempts: Int = 3, queue: QueuePolicy = .default,
                logger: Logger = Logger(label: "prostudio.journal")) throws {
        self.path = path
        self.maxAttempts = max(1, maxAttempts)
        self.queuePolicy = queue
        self.logger = logger
        do {
            var config = Configuration.journal()
            // WAL + NORMAL: a commit survives a killed process (kill -9); a power cut may lose the last
            // commits but never corrupts the file. The commits that acknowledge a job are synced (`write(durable:)`).
            // Automatic checkpoints are off on this connection: their fsync would land inside a pick-up (tens of ms);
            // `checkpoint()` runs when the daemon is idle instead, and every `checkpointEvery` writes regardless, so the WAL stays bounded.
            config.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0") }
            pool = try DatabasePool(path: path, configuration: config)
            try Schema.migrator.migrate(pool)
            var checkpointConfig = Configuration.journal()
            checkpointConfig.label = "prostudio.journal.checkpoint"
            checkpointer = try DatabaseQueue(path: path, configuration: checkpointConfig)
        } catch {
            throw JournalError.database(operation: "open \(path)", underlying: String(describing: error))
        }
    }

    /// A journal in memory: a real SQLite database (one connection) with the journal's schema, gone when released.
    public static func inMemory(maxAttempts: Int = 3, queue: QueuePolicy = .default,
                                logger: Logger = Logger(label: "prostudio.journal")) throws -> SQLiteJournal {
        try SQLiteJournal(memory: (), maxAttempts: maxAttempts, queue: queue, logger: logger)
    }

    private init(memory: Void, maxAttempts: Int, queue: QueuePolicy, logger: Logger) throws {
        self.path = ":memory:"
        self.maxAttempts = max(1, maxAttempts)
        self.queuePolicy = queue
        self.logger = logger
        do {
            pool = try DatabaseQueue(configuration: .journal())
            try Schema.migrator.migrate(pool)
        } catch {
            throw JournalError.database(operation: "open in memory", underlying: String(describing: error))
        }
        checkpointer = nil
    }

    /// Opens a journal migrated only up to `migration` (tests of the migration path).
    init(path: String, upTo migration: String) throws {
        self.path = path
        self.maxAttempts = 3
        self.queuePolicy = .default
        self.logger = Logger(label: "prostudio.journal")
        pool = try DatabasePool(path: path, configuration: .journal())
        try Schema.migrator.migrate(pool, upTo: migration)
        checkpointer = try DatabaseQueue(path: path, configuration: .journal())
    }

    /// Identifiers of the migrations applied to this file, in order.
    public func appliedMigrations() async throws -> [String] {
        try await journaled("read migrations") { try await pool.read { db in try Schema.migrator.appliedMigrations(db) } }
    }

    /// `durable`: on disk when it returns, for the commits that acknowledge a job (queued, rejected). The connection
    /// runs `synchronous = NORMAL` (a WAL commit survives a killed process, not a power cut): most writes are progress
    /// and stage rows, and a lost tail of those costs nothing. A durable one runs under `synchronous = FULL` (the WAL is
    /// synced at its commit, which makes every commit before it durable too: the claim). Cost: one WAL fsync per pick-up.
    func write<T: Sendable>(_ op: String, durable: Bool = false, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let value = try await journaled(op) {
            guard durable else { return try await pool.write(body) }
            return try await pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
                defer { try? db.execute(sql: "PRAGMA synchronous = NORMAL") }
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return .commit
                }
                return result!
            }
        }
        let due = checkpointState.withLock { s in
            s.writes += 1
            guard s.writes >= Self.checkpointEvery, !s.running else { return false }
            s.running = true
            return true
        }
        if due {
            // In the background: the caller's latency never includes the checkpoint's fsync.
            Task.detached { [self] in
                try? await checkpoint()
                checkpointState.withLock { $0.running = false }
            }
        }
        return value
    }

    /// Copies the WAL back into the database file (passive: never waits for readers or the writer).
    /// Cheap when there is nothing to copy; the daemon also calls it when it goes idle.
    public func checkpoint() async throws {
        checkpointState.withLock { $0.writes = 0 }
        try await journaled("checkpoint") {
            try await checkpointer?.writeWithoutTransaction { db in _ = try db.checkpoint(.passive) }
        }
    }

    func read<T: Sendable>(_ op: String, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await journaled(op) { try await pool.read(body) }
    }

    /// `PRAGMA integrity_check`: `["ok"]` for a sound file, else SQLite's list of problems (first 20).
    public func integrityCheck() async throws -> [String] {
        try await read("integrity check") { db in try String.fetchAll(db, sql: "PRAGMA integrity_check(20)") }
    }

    /// The seed a job ran with (the pipeline resolves it at plan; the sidecar reports it too).
    public func setSeed(_ id: JobID, seed: UInt64) async throws {
        try await write("seed \(id)") { db in
            try db.execute(sql: "UPDATE jobs SET seed = ? WHERE id = ?", arguments: [Int64(bitPattern: seed), id.rawValue])
        }
    }

    /// Puts back a job found on disk (`prostudio doctor --repair`, after the journal was lost): its own id, a
    /// dedup key that cannot match a new arrival, and the state its files and sidecar show. No-op if present.
    public func restore(_ job: RestoredJob) async throws -> Bool {
        try await write("restore \(job.id)") { db in
            if try Rows.job(db, job.id) != nil { return false }
            let outputs = String(decoding: try JSONEncoder().encode(job.outputs), as: UTF8.self)
            let now = Rows.seconds(Date())
            try db.execute(sql: """
                INSERT INTO jobs (id, name, state, progress, manifest_path, source_name, source_path, source_kind, dedup_key,
                                  created_at, updated_at, error_code, error_message, error_field, outputs, seed,
                                  error_stage, error_disposition, report)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [job.id.rawValue, job.name, job.state.rawValue, job.state == .done ? 1.0 : 0.0, job.manifestPath,
                                 job.sourceName, job.sourcePath, job.sourceKind.rawValue, "restored/\(job.id)",
                                 Rows.seconds(job.createdAt), now, job.error?.code, job.error?.message, job.error?.field,
                                 outputs, job.seed.map { Int64(bitPattern: $0) }, job.error?.stage, job.error?.disposition,
                                 String(decoding: try JSONEncoder().encode(job.report), as: UTF8.self)])
            try Self.event(db, job.id, kind: "state", message: "restored as \(job.state.rawValue) by doctor --repair")
            return true
        }
    }

    // MARK: JobReader

    public func job(_ id: JobID) async throws -> Job? { try await read("job") { try Rows.job($0, id) } }
    public func jobs(_ filter: JobFilter) async throws -> [Job] { try await read("jobs") { try Rows.jobs($0, filter) } }
    public func events(of id: JobID) async throws -> [JobEvent] { try await read("events") { try Rows.events($0, id) } }
    public func stageRuns(of id: JobID) async throws -> [StageRun] { try await read("stage runs") { try Rows.stageRuns($0, id) } }
    public func requests(of id: JobID?) async throws -> [JobRequest] { try await read("requests") { try Rows.requests($0, id) } }
    public func artifact(key: String) async throws -> Artifact? { try await read("artifact") { try Rows.artifact($0, key: key) } }

    // MARK: Transitions

    /// Moves a job to `next` if the state machine allows it, applies `set` (extra `col = ?` assignments),
    /// and journals an event; all inside the caller's transaction.
    static func move(
        _ db: Database, _ id: JobID, to next: JobState, set: String = "", _ args: StatementArguments = [],
        note: String? = nil
    ) throws -> Job {
        guard let job = try Rows.job(db, id) else { throw JournalError.notFound(id) }
        guard job.state.canMove(to: next) else { throw JournalError.invalidTransition(id, from: job.state, to: next) }
        let now = Rows.seconds(Date())
        try db.execute(
            sql: "UPDATE jobs SET state = ?, updated_at = ?\(set.isEmpty ? "" : ", " + set) WHERE id = ?",
            arguments: [next.rawValue, now] + args + [id.rawValue])
        try event(db, id, kind: "state", message: "\(job.state.rawValue) -> \(next.rawValue)" + (note.map { ": \($0)" } ?? ""))
        return try Rows.job(db, id)!
    }

    static func event(_ db: Database, _ id: JobID?, kind: String, message: String) throws {
        try db.execute(sql: "INSERT INTO events (job_id, at, kind, message) VALUES (?, ?, ?, ?)",
                       arguments: [id?.rawValue, Rows.seconds(Date()), kind, message])
    }

    static func errorArgs(_ e: JobError?) -> StatementArguments { [e?.code, e?.message, e?.field, e?.stage, e?.disposition] }
    static let setError = "error_code = ?, error_message = ?, error_field = ?, error_stage = ?, error_disposition = ?"

    // MARK: Pick-up

    public func claim(_ arrival: NewArrival) async throws -> (job: Job, isNew: Bool) {
        try await write("claim \(arrival.sourceName)") { db in
            if let existing = try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE dedup_key = ?", arguments: [arrival.dedupKey]) {
                return (Rows.job(existing), false)
            }
            let id = JobID.generate()
            let now = Rows.seconds(Date())
            try db.execute(sql: """
                INSERT INTO jobs (id, name, state, source_name, source_path, source_kind, dedup_key, created_at, updated_at)
                VALUES (?, ?, 'claimed', ?, ?, ?, ?, ?, ?)
                """, arguments: [id.rawValue, arrival.name, arrival.sourceName, arrival.sourcePath,
                                 arrival.sourceKind.rawValue, arrival.dedupKey, now, now])
            try Self.event(db, id, kind: "state", message: "claimed \(arrival.sourcePath)")
            return (try Rows.job(db, id)!, true)
        }
    }

    public func countPickUp(_ id: JobID, by delta: Int) async throws -> Job {
        try await write("count pick-up \(id)") { db in
            try db.execute(sql: "UPDATE jobs SET attempts = MAX(attempts + ?, 0), updated_at = ? WHERE id = ? AND state = 'claimed'",
                           arguments: [delta, Rows.seconds(Date()), id.rawValue])
            guard let job = try Rows.job(db, id) else { throw JournalError.notFound(id) }
            guard job.state == .claimed else { throw JournalError.invalidTransition(id, from: job.state, to: .claimed) }
            return job
        }
    }

    /// Leaving `claimed` resets `attempts` (there it counts crashed pick-ups; see `countPickUp`). SET expressions read the
    /// row as it was, so `state` below is the state being left.
    private static let resetPickUpCount = "attempts = CASE WHEN state = 'claimed' THEN 0 ELSE attempts END"

    public func markQueued(_ id: JobID, manifestPath: String, order: QueueOrder) async throws -> Job {
        try await write("queue \(id)", durable: true) { db in
            try Self.move(db, id, to: .queued, set: "manifest_path = ?, priority = ?, not_before = ?, packs = ?, " + Self.resetPickUpCount,
                          [manifestPath, order.priority, order.notBefore.map(Rows.seconds), QueuePicker.encode(order.packs)],
                          note: manifestPath + QueuePicker.note(order))
        }
    }

    public func reject(_ id: JobID, error: JobError) async throws -> Job {
        try await write("reject \(id)", durable: true) { db in
            try Self.move(db, id, to: .rejected, set: Self.setError + ", " + Self.resetPickUpCount, Self.errorArgs(error),
                          note: "\(error.code): \(error.message)")
        }
    }

    // MARK: Running

    public func start(_ id: JobID) async throws -> Job {
        try await write("start \(id)") { db in
            try Self.move(db, id, to: .running, set: "attempts = attempts + 1, stage = NULL, progress = 0, report = NULL")
        }
    }

    public func setProgress(_ id: JobID, stage: String?, progress: Double) async throws {
        try await write("progress \(id)") { db in
            try db.execute(sql: "UPDATE jobs SET stage = ?, progress = ?, updated_at = ? WHERE id = ? AND state = 'running'",
                           arguments: [stage, min(1, max(0, progress)), Rows.seconds(Date()), id.rawValue])
            if db.changesCount == 0 {
                guard let job = try Rows.job(db, id) else { throw JournalError.notFound(id) }
                throw JournalError.invalidTransition(id, from: job.state, to: .running)
            }
        }
    }

    public func beginStage(_ id: JobID, stage: String, engine: String?) async throws -> Int64 {
        try await write("begin stage \(stage) of \(id)") { db in
            guard let job = try Rows.job(db, id) else { throw JournalError.notFound(id) }
            try db.execute(sql: """
                INSERT INTO stage_runs (job_id, stage, attempt, engine, started_at, outcome) VALUES (?, ?, ?, ?, ?, 'running')
                """, arguments: [id.rawValue, stage, job.attempts, engine, Rows.seconds(Date())])
            let run = db.lastInsertedRowID
            try db.execute(sql: "UPDATE jobs SET stage = ?, updated_at = ? WHERE id = ?", arguments: [stage, Rows.seconds(Date()), id.rawValue])
            return run
        }
    }

    public func endStage(run: Int64, _ end: StageEnd) async throws {
        try await write("end stage run \(run)") { db in
            let now = Rows.seconds(Date())
            try db.execute(sql: """
                UPDATE stage_runs SET outcome = ?, engine = COALESCE(?, engine), peak_memory_bytes = ?, cache_hit = ?,
                    ended_at = COALESCE(started_at + ?, ?), seconds = COALESCE(?, ? - started_at)
                WHERE id = ?
                """, arguments: [end.outcome.rawValue, end.engine, end.peakMemoryBytes, end.cacheHit,
                                 end.seconds, now, end.seconds, now, run])
        }
    }

    public func finish(_ id: JobID, outputs: [String: String]) async throws -> Job {
        let json = String(decoding: try JSONEncoder().encode(outputs), as: UTF8.self)
        return try await write("finish \(id)") { db in
            try Self.move(db, id, to: .done, set: "outputs = ?, progress = 1, stage = NULL, " + Self.setError, [json] + Self.errorArgs(nil))
        }
    }

    public func fail(_ id: JobID, error: JobError, retryable: Bool) async throws -> Job {
        let max = maxAttempts
        return try await write("fail \(id)") { db in
            guard let job = try Rows.job(db, id) else { throw JournalError.notFound(id) }
            if retryable && job.attempts < max && !job.cancelRequested {
                return try Self.move(db, id, to: .queued, set: Self.setError, Self.errorArgs(error),
                                     note: "retry \(job.attempts + 1) of \(max) after \(error.code)")
            }
            return try Self.move(db, id, to: .failed, set: Self.setError, Self.errorArgs(error), note: "\(error.code): \(error.message)")
        }
    }

    public func cancel(_ id: JobID) async throws -> Job {
        try await write("cancel \(id)") { db in try Self.move(db, id, to: .cancelled) }
    }

    public func suspend(_ id: JobID) async throws -> Job {
        try await write("suspend \(id)") { db in
            try Self.move(db, id, to: .queued, set: "attempts = MAX(attempts - 1, 0)", note: "checkpointed at shutdown")
        }
    }

    public func addEvent(_ id: JobID?, kind: String, message: String) async throws {
        try await write("event") { db in try Self.event(db, id, kind: kind, message: message) }
    }

    /// A request as `JournalClient.request` makes it (the daemon applies it at its next bell or job boundary):
    /// for a process that holds the journal itself, as tests of an in-memory journal do.
    @discardableResult
    public func request(_ action: RequestAction, job: JobID?, value: Int?, by requester: String) async throws -> Int64 {
        try await write("request \(action.rawValue) \(job?.rawValue ?? "queue")") { db -> Int64 in try Rows.insertRequest(db, action, job, value, requester) }
    }
}
