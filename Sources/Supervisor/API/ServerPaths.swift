import Contract
import Daemon
import Foundation

/// The daemon's own folders as API answers name them: a path inside a job's folder (or an upload's, or a rejected
/// job's) becomes the path the sender gave it (`pics/a.png`), the rest of the state folder, the inbox, the outbox,
/// the models and the libraries a placeholder (`<state>`, ...). Job errors and warnings come from the worker and the
/// pick-up, which name files by where they are: a caller sees what it sent, never where the server keeps it.
struct ServerPaths: Sendable {
    /// Folders whose next component is one job's (or upload's) own folder: dropped with it.
    private let perJob: [String]
    /// Folder, placeholder; longest folder first, so the most specific wins.
    private let named: [(String, String)]

    init(config: DaemonConfig) {
        func std(_ p: String) -> String { (p as NSString).standardizingPath }
        let state = std(config.state)
        perJob = ["jobs", "api-uploads", "rejected"].map { state + "/" + $0 + "/" }
        var named = [(state, "<state>"), (std(config.inbox), "<inbox>"), (std(config.outbox), "<outbox>")]
        if let m = config.models { named.append((std(m), "<models>")) }
        named += config.libraryFolders.map { (std($0), "<library>") }
        self.named = named.filter { $0.0.count > 1 }.sorted { $0.0.count > $1.0.count }
    }

    func scrub(_ text: String) -> String {
        var out = text
        for prefix in perJob {
            while let r = out.range(of: prefix) {
                // The job's own folder ends at the next '/' (or the path's end: the folder itself).
                let end = out[r.upperBound...].firstIndex(where: { $0 == "/" || $0 == " " || $0 == "\"" || $0 == ":" })
                let cut = end.map { out[$0] == "/" ? out.index(after: $0) : $0 } ?? out.endIndex
                out.replaceSubrange(r.lowerBound..<cut, with: "")
            }
        }
        for (folder, name) in named { out = out.replacingOccurrences(of: folder, with: name) }
        return out
    }

    /// A sidecar's strings (error message, warnings) scrubbed.
    func scrub(sidecar: Sidecar) -> Sidecar {
        var s = sidecar
        if let m = s.error?.message { s.error?.message = scrub(m) }
        s.warnings = s.warnings?.map(scrub)
        return s
    }
}
