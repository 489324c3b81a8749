import Contract
import Foundation
import Journal

/// What the dashboard shows of a job beyond the journal's row: the video's length and the warnings of a job that ended
/// done (the journal's report of it), and why
/// a job was rejected or failed. Issue 27: the Duration column was the job's elapsed time, and rejections and
/// warnings were shown nowhere in the list.
struct DashboardFacts {
    var length: Double?
    var warnings: [String] = []

    init(_ listed: ListedJob, state: String, paths: ServerPaths) {
        guard listed.job.state == .done else { return }
        length = listed.job.report.details.duration_s
        warnings = (listed.job.report.warnings ?? []).map(paths.scrub)
    }

    /// The row's extra keys for the templates.
    func context(_ listed: ListedJob, paths: ServerPaths) -> [String: Any] {
        var c: [String: Any] = ["length": length.map { String(format: "%.1f s", $0) } ?? ""]
        if !warnings.isEmpty {
            c["warningCount"] = "\(warnings.count) warning\(warnings.count == 1 ? "" : "s")"
            c["warnings"] = warnings.map { ["text": $0] }
        }
        if listed.job.state != .done, let e = listed.job.error {
            c["reason"] = ["code": e.code, "message": paths.scrub(e.message)]
        }
        return c
    }
}
