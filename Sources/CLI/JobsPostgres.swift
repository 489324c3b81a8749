import Contract
import Daemon
import Foundation
import Journal

/// `prostudio jobs ... --config FILE` where the config has a `journal:` section (issue 31): the jobs are read from and
/// the requests written to that PostgreSQL journal, whichever host runs them.
extension StateFolder {
    /// The PostgreSQL journal `--config` names, or nil (the SQLite journal in `--state`). Exits 1 saying why when the
    /// config cannot be read or the database cannot be reached.
    func postgres() async -> PostgresJournal? {
        guard let config else { return nil }
        let settings: DaemonConfig
        do { settings = try DaemonConfig.load(path: config) } catch { exitWith("prostudio: \(error)", code: 1) }
        guard let location = settings.journal else { return nil }
        do { return try await PostgresJournal.open(location, maxAttempts: settings.maxAttempts) } catch { exitWith("prostudio: \(error)", code: 1) }
    }
}

/// The job `text` names in a PostgreSQL journal: its id, a prefix of exactly one id, or a NAME (the newest such job).
func resolveJob(_ journal: PostgresJournal, _ text: String) async -> Job {
    let all: [Job]
    do { all = try await journal.jobs(JobFilter()) } catch { exitWith("prostudio: \(error)", code: 1) }
    if let exact = all.first(where: { $0.id.rawValue == text }) { return exact }
    let prefixed = all.filter { $0.id.rawValue.hasPrefix(text) }
    if prefixed.count == 1 { return prefixed[0] }
    if prefixed.count > 1 {
        exitWith("prostudio: \(text) is the start of \(prefixed.count) job ids: " + prefixed.prefix(5).map { "\($0.id) (\($0.name))" }.joined(separator: ", "), code: 1)
    }
    if let named = all.first(where: { $0.name == text }) { return named }  // newest first
    exitWith("prostudio: no job \(text) (neither an id, an id prefix, nor a job NAME in \(journal.location.redacted))", code: 1)
}

/// `jobs retry|cancel` on PostgreSQL: the request is journaled (its NOTIFY wakes the daemons), then its outcome awaited.
func fileRequest(_ action: RequestAction, _ text: String, _ journal: PostgresJournal, wait: Double) async {
    let job = await resolveJob(journal, text)
    let who = ProcessInfo.processInfo.environment["USER"] ?? "uid \(getuid())"
    let request: Int64
    do { request = try await journal.request(action, job: job.id, by: who) } catch { exitWith("prostudio: \(error)", code: 1) }
    let deadline = Date().addingTimeInterval(wait)
    while Date() < deadline {
        if let r = try? await journal.requests(of: job.id).first(where: { $0.id == request }), let outcome = r.outcome {
            print("\(action.rawValue) \(job.id) (\(job.name)): \(outcome)")
            if outcome.hasPrefix("ignored") { exit(1) }
            return
        }
        try? await Task.sleep(for: .milliseconds(100))
    }
    print("\(action.rawValue) \(job.id) (\(job.name)): requested; a daemon on the journal applies it when it next runs (is one running?)")
}
