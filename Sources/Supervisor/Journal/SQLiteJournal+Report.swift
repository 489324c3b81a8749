import Contract
import Foundation
import GRDB

/// What a job's worker reported, kept in its row (migration `v5-job-report`): the journal is the only truth, and every
/// sidecar is a projection of the row (`Job.sidecar`, Docs/contract.md).
extension SQLiteJournal {
    public func cancel(_ id: JobID, error: JobError) async throws -> Job {
        try await write("cancel \(id)") { db in try Self.move(db, id, to: .cancelled, set: Self.setError, Self.errorArgs(error)) }
    }

    /// The job's report as its worker's messages built it. Only a running job's (a late write after its end is dropped);
    /// `updated_at` moves, so the sidecar projected after it says when.
    public func setReport(_ id: JobID, _ report: JobReport) async throws -> Job {
        let json = String(decoding: try JSONEncoder().encode(report), as: UTF8.self)
        return try await write("report \(id)") { db in
            try db.execute(sql: "UPDATE jobs SET report = ?, updated_at = ? WHERE id = ? AND state = 'running'",
                           arguments: [json, Rows.seconds(Date()), id.rawValue])
            guard let job = try Rows.job(db, id) else { throw JournalError.notFound(id) }
            return job
        }
    }
}
