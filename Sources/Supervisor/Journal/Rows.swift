import Contract
import Foundation
import GRDB

/// Row decoding and the reads both the daemon's journal and the CLI's client share.
enum Rows {
    static func seconds(_ date: Date) -> Double { date.timeIntervalSince1970 }
    static func date(_ seconds: Double) -> Date { Date(timeIntervalSince1970: seconds) }

    static func job(_ row: Row) -> Job {
        let code: String? = row["error_code"]
        let outputsText: String = row["outputs"] ?? "{}"
        let outputs = (try? JSONDecoder().decode([String: String].self, from: Data(outputsText.utf8))) ?? [:]
        let reportText: String? = row.hasColumn("report") ? row["report"] : nil
        let report = reportText.flatMap { try? JSONDecoder().decode(JobReport.self, from: Data($0.utf8)) } ?? JobReport()
        let stage: String? = row.hasColumn("error_stage") ? row["error_stage"] : nil
        let disposition: String? = row.hasColumn("error_disposition") ? row["error_disposition"] : nil
        return Job(
            id: JobID(row["id"] as String),
            name: row["name"],
            state: JobState(rawValue: row["state"] as String) ?? .failed,
            stage: row["stage"],
            progress: row["progress"],
            manifestPath: row["manifest_path"],
            sourceName: row["source_name"],
            sourcePath: row["source_path"],
            sourceKind: SourceKind(rawValue: row["source_kind"] as String) ?? .file,
            dedupKey: row["dedup_key"],
            attempts: row["attempts"],
            cancelRequested: row["cancel_requested"],
            seed: row["seed"],
            createdAt: date(row["created_at"]),
            updatedAt: date(row["updated_at"]),
            error: code.map { JobError(code: $0, message: row["error_message"] ?? "", field: row["error_field"], stage: stage, disposition: disposition) },
            outputs: outputs,
            report: report,
            priority: row["priority"] ?? 0,
            notBefore: (row["not_before"] as Double?).map(date),
            packs: QueuePicker.decode(row["packs"]),
            passes: row["passes"] ?? 0)
    }

    static func stageRun(_ row: Row) -> StageRun {
        let ended: Double? = row["ended_at"]
        return StageRun(
            id: row["id"], jobID: JobID(row["job_id"] as String), stage: row["stage"], attempt: row["attempt"],
            engine: row["engine"], startedAt: date(row["started_at"]), endedAt: ended.map(date),
            outcome: StageOutcome(rawValue: row["outcome"] as String) ?? .interrupted,
            peakMemoryBytes: row["peak_memory_bytes"], cacheHit: row["cache_hit"], seconds: row["seconds"])
    }

    static func event(_ row: Row) -> JobEvent {
        let job: String? = row["job_id"]
        return JobEvent(id: row["id"], jobID: job.map { JobID($0) }, at: date(row["at"]), kind: row["kind"], message: row["message"])
    }

    static func request(_ row: Row) -> JobRequest {
        let handled: Double? = row["handled_at"]
        let job: String? = row["job_id"]
        return JobRequest(
            id: row["id"], jobID: job.map { JobID($0) },
            action: RequestAction(rawValue: row["action"] as String) ?? .cancel, value: row["value"],
            requestedAt: date(row["requested_at"]), requestedBy: row["requested_by"],
            handledAt: handled.map(date), outcome: row["outcome"])
    }

    static func artifact(_ row: Row) -> Artifact {
        Artifact(key: row["key"], stage: row["stage"], path: row["path"], sizeBytes: row["size_bytes"],
                 createdAt: date(row["created_at"]), usedAt: date(row["used_at"]))
    }

    // MARK: Reads

    static func job(_ db: Database, _ id: JobID) throws -> Job? {
        try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id.rawValue]).map(job)
    }

    static func jobs(_ db: Database, _ filter: JobFilter) throws -> [Job] {
        var sql = "SELECT * FROM jobs"
        var args = StatementArguments()
        var conditions: [String] = []
        if let states = filter.states, !states.isEmpty {
            let list = states.map(\.rawValue).sorted()
            conditions.append("state IN (\(Array(repeating: "?", count: list.count).joined(separator: ",")))")
            args += StatementArguments(list)
        }
        if let name = filter.name {
            conditions.append("name = ?")
            args += [name]
        }
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        sql += " ORDER BY created_at DESC, id DESC"
        if let limit = filter.limit { sql += " LIMIT \(max(0, limit))" }
        return try Row.fetchAll(db, sql: sql, arguments: args).map(job)
    }

    static func events(_ db: Database, _ id: JobID) throws -> [JobEvent] {
        try Row.fetchAll(db, sql: "SELECT * FROM events WHERE job_id = ? ORDER BY id", arguments: [id.rawValue]).map(event)
    }

    static func stageRuns(_ db: Database, _ id: JobID) throws -> [StageRun] {
        try Row.fetchAll(db, sql: "SELECT * FROM stage_runs WHERE job_id = ? ORDER BY id", arguments: [id.rawValue]).map(stageRun)
    }

    static func requests(_ db: Database, _ id: JobID?) throws -> [JobRequest] {
        if let id {
            return try Row.fetchAll(db, sql: "SELECT * FROM requests WHERE job_id = ? ORDER BY id", arguments: [id.rawValue]).map(request)
        }
        return try Row.fetchAll(db, sql: "SELECT * FROM requests ORDER BY id").map(request)
    }

    static func queueState(_ db: Database) throws -> QueueState {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM queue WHERE id = 1") else { return QueueState() }
        let at: Double? = row["changed_at"]
        return QueueState(paused: row["paused"], changedAt: at.map(date), changedBy: row["changed_by"])
    }

    /// A request row, as the CLI (`JournalClient`) and a store holding the journal both write it.
    static func insertRequest(_ db: Database, _ action: RequestAction, _ job: JobID?, _ value: Int?, _ requester: String) throws -> Int64 {
        try RequestRules.check(action, job: job, value: value)
        if let job { guard try Rows.job(db, job) != nil else { throw JournalError.notFound(job) } }
        try db.execute(sql: "INSERT INTO requests (job_id, action, value, requested_at, requested_by) VALUES (?, ?, ?, ?, ?)",
                       arguments: [job?.rawValue, action.rawValue, value, seconds(Date()), requester])
        return db.lastInsertedRowID
    }

    static func artifact(_ db: Database, key: String) throws -> Artifact? {
        try Row.fetchOne(db, sql: "SELECT * FROM artifacts WHERE key = ?", arguments: [key]).map(artifact)
    }
}

/// Runs a GRDB call and turns its errors into `JournalError` with the operation's name.
func journaled<T>(_ operation: String, _ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as JournalError {
        throw error
    } catch {
        throw JournalError.database(operation: operation, underlying: String(describing: error))
    }
}

extension Configuration {
    /// Shared by the daemon and the CLI: foreign keys on, wait (not fail) while the other side writes.
    static func journal(readonly: Bool = false) -> Configuration {
        var c = Configuration()
        c.foreignKeysEnabled = true
        c.readonly = readonly
        c.busyMode = .timeout(10)
        c.label = "prostudio.journal"
        return c
    }
}
