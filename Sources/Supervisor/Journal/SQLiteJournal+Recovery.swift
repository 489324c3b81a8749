import Contract
import Foundation
import GRDB
import Logging
import Synchronization

/// What a restart, a CLI request and the stage cache ask of the journal.
extension SQLiteJournal {
    // MARK: Restart

    public func recover() async throws -> RecoveryReport {
        let max = maxAttempts
        return try await write("recover") { db in
            var report = RecoveryReport()
            let now = Rows.seconds(Date())
            let running = try Row.fetchAll(db, sql: "SELECT * FROM jobs WHERE state = 'running' ORDER BY created_at").map(Rows.job)
            for job in running {
                try db.execute(sql: """
                    UPDATE stage_runs SET outcome = 'interrupted', ended_at = ?, seconds = ? - started_at
                    WHERE job_id = ? AND ended_at IS NULL
                    """, arguments: [now, now, job.id.rawValue])
                switch Interruption.outcome(for: job, maxAttempts: max, cause: Interruption.restart) {
                case .cancel:
                    _ = try Self.move(db, job.id, to: .cancelled, note: "cancel requested before the restart")
                    report.cancelled.append(job.id)
                case .fail(let error):
                    _ = try Self.move(db, job.id, to: .failed, set: Self.setError, Self.errorArgs(error), note: "loop guard")
                    report.failedByLoopGuard.append(job.id)
                case .requeue:
                    _ = try Self.move(db, job.id, to: .queued, note: "requeued after restart (attempt \(job.attempts) of \(max) was interrupted)")
                    report.requeued.append(job.id)
                }
            }
            report.claimed = try Row.fetchAll(db, sql: "SELECT * FROM jobs WHERE state = 'claimed' ORDER BY created_at").map(Rows.job)
            return report
        }
    }

    // MARK: Requests

    public func applyPendingRequests() async throws -> [RequestEffect] {
        try await write("apply requests") { db in
            let pending = try Row.fetchAll(db, sql: "SELECT * FROM requests WHERE handled_at IS NULL ORDER BY id").map(Rows.request)
            var effects: [RequestEffect] = []
            for request in pending {
                let effect = try Self.apply(db, request)
                let outcome = effect.outcome
                try db.execute(sql: "UPDATE requests SET handled_at = ?, outcome = ? WHERE id = ?",
                               arguments: [Rows.seconds(Date()), outcome, request.id])
                effects.append(effect)
            }
            return effects
        }
    }

    private static func apply(_ db: Database, _ request: JobRequest) throws -> RequestEffect {
        let who = "requested by \(request.requestedBy)"
        guard let id = request.jobID else {
            let pause = request.action == .pause
            guard pause || request.action == .resume else { return .ignored(nil, reason: "\(request.action.rawValue) names no job") }
            if try Rows.queueState(db).paused != pause {
                try db.execute(sql: "UPDATE queue SET paused = ?, changed_at = ?, changed_by = ? WHERE id = 1",
                               arguments: [pause, Rows.seconds(Date()), request.requestedBy])
                try event(db, nil, kind: "queue", message: "queue \(pause ? "paused" : "resumed") \(who)")
            }
            return .queuePaused(pause)
        }
        guard let job = try Rows.job(db, id) else { return .ignored(id, reason: "no such job") }
        switch (request.action, job.state) {
        case (.priority, let state) where state.isFinal:
            return .ignored(id, reason: "job is \(state.rawValue); only a job not yet ended takes a new priority")
        case (.priority, _):
            guard let value = request.value, QueueOrder.priorityRange.contains(value) else {
                return .ignored(id, reason: "priority \(request.value.map(String.init) ?? "missing") is out of range")
            }
            _ = try setPriority(db, id, value, by: request.requestedBy)
            return .reprioritised(id, value)
        case (.pause, _), (.resume, _):
            return .ignored(id, reason: "\(request.action.rawValue) is about the queue, not a job")
        case (.retry, .failed), (.retry, .cancelled):
            // A person asked: the loop guard starts counting again.
            _ = try move(db, id, to: .queued, set: "attempts = 0, cancel_requested = 0, progress = 0, stage = NULL, " + setError,
                         errorArgs(nil), note: "retry \(who)")
            return .requeued(id)
        case (.retry, let state):
            return .ignored(id, reason: "job is \(state.rawValue); only failed or cancelled jobs can be retried")
        case (.cancel, .queued):
            _ = try move(db, id, to: .cancelled, note: "cancel \(who)")
            return .cancelled(id)
        case (.cancel, .running):
            // Recorded on the job so that a crash before the runner stops it still ends in `cancelled`.
            try db.execute(sql: "UPDATE jobs SET cancel_requested = 1, updated_at = ? WHERE id = ?", arguments: [Rows.seconds(Date()), id.rawValue])
            try event(db, id, kind: "request", message: "cancel \(who); stopping")
            return .stopRunning(id)
        case (.cancel, let state):
            return .ignored(id, reason: "job is \(state.rawValue); only queued or running jobs can be cancelled")
        }
    }

    // MARK: Artifacts

    public func recordArtifact(_ artifact: Artifact) async throws {
        try await write("record artifact") { db in
            try db.execute(sql: """
                INSERT INTO artifacts (key, stage, path, size_bytes, created_at, used_at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT(key) DO UPDATE SET stage = excluded.stage, path = excluded.path, size_bytes = excluded.size_bytes,
                    used_at = excluded.used_at
                """, arguments: [artifact.key, artifact.stage, artifact.path, artifact.sizeBytes,
                                 Rows.seconds(artifact.createdAt), Rows.seconds(artifact.usedAt)])
        }
    }

    public func touchArtifact(key: String) async throws {
        try await write("touch artifact") { db in
            try db.execute(sql: "UPDATE artifacts SET used_at = ? WHERE key = ?", arguments: [Rows.seconds(Date()), key])
        }
    }

    public func removeArtifact(key: String) async throws {
        try await write("remove artifact") { db in try db.execute(sql: "DELETE FROM artifacts WHERE key = ?", arguments: [key]) }
    }
}
