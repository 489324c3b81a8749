import Contract
import Daemon
import Foundation
import Journal

/// The journal `prostudio jobs` reads and files requests in: the PostgreSQL journal `--config` names (issue 31: every
/// host's jobs, whichever host runs them), else the SQLite journal in `--state`.
struct OpenedJournal {
    let store: any JobBrowser & JobRequester
    /// Where it is, for messages: the SQLite file, or the PostgreSQL URL without its password.
    let place: String
    /// True for PostgreSQL: the daemon running a job may be on another host, so this host's lock says nothing.
    let shared: Bool
}

extension StateFolder {
    /// Opens the journal, or exits 1 saying why (the config cannot be read, the database cannot be reached).
    func journal() async -> OpenedJournal {
        if let config {
            let settings: DaemonConfig
            do { settings = try DaemonConfig.load(path: config) } catch { exitWith("prostudio: \(error)", code: 1) }
            if let location = settings.journal {
                do {
                    let pg = try await PostgresJournal.open(location, maxAttempts: settings.maxAttempts)
                    return OpenedJournal(store: pg, place: location.redacted, shared: true)
                } catch { exitWith("prostudio: \(error)", code: 1) }
            }
        }
        let path = folder + "/journal.sqlite3"
        do { return OpenedJournal(store: try JournalClient(path: path), place: path, shared: false) } catch { exitWith("prostudio: \(error)", code: 1) }
    }
}

/// Files a request and waits briefly to report what the daemon did with it (a SQLite request rings the daemon's bell,
/// a PostgreSQL one is NOTIFYed to every host).
func fileRequest(_ action: RequestAction, _ id: String, _ state: StateFolder, wait: Double) async {
    if let api = state.remote.client { api.request(action.rawValue, id) }
    let opened = await state.journal()
    let journal = opened.store
    let job = await resolveJob(opened, id)
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
    print("\(action.rawValue) \(job.id) (\(job.name)): requested; "
          + (opened.shared ? "a daemon on the journal applies it when it next runs (is one running?)"
                           : "the daemon applies it when it next runs (is it running?)"))
}
