import Foundation
import Journal
import MCP

/// Where jobs go and are read back: the daemon's own folders (`LocalBackend`) or its HTTP API (`RemoteBackend`).
/// Every answer is the JSON an agent reads; every refusal a `ToolFailure` with the product's code.
protocol JobBackend: Sendable {
    /// Hands a validated job over (`assets`: the files its manifest names, absolute); waits up to `wait` seconds for the daemon to take it (queued or rejected).
    func submit(_ input: JobInput, assets: [String], wait: Double) async throws -> Value
    func list(states: [String]?, limit: Int?) async throws -> Value
    /// The job; with `wait` > 0, once it has ended (done, failed, cancelled, rejected) or the wait is over.
    func status(_ id: String, wait: Double) async throws -> Value
    /// The job's events after `after` (an event id); with `wait` > 0, waits for a new one or the job's end.
    func events(_ id: String, after: Int64, wait: Double) async throws -> Value
    func request(_ action: RequestAction, _ id: String) async throws -> Value
    /// The job's outputs: paths on this machine, or URLs on the API.
    func outputs(_ id: String) async throws -> Value
}

/// The states an agent may filter by, as `jobs list --filter` spells them.
enum States {
    static func parse(_ words: [String]?) throws(ToolFailure) -> Set<JobState>? {
        guard let words else { return nil }
        var set = Set<JobState>()
        for w in words where !w.isEmpty {
            guard let s = JobState(rawValue: w), s != .claimed else {
                throw ToolFailure("mcp.bad_argument", "list_jobs: state \(w): expected queued, running, done, failed, cancelled or rejected", field: "states")
            }
            set.insert(s)
        }
        return set.isEmpty ? nil : set
    }
}

enum Stamp {
    static func iso(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: d)
    }
}
