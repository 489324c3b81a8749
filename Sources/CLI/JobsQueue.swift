import ArgumentParser
import Contract
import Foundation
import Journal
import Manifest

/// `prostudio jobs pause|resume|priority` (issue 32): requests the daemon applies, as retry and cancel are. Pausing
/// lets a running job finish and starts nothing new until `resume`; the flag is journaled, so it outlives restarts.
struct JobsPause: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pause", abstract: "Pause the queue: a running job finishes, no new job starts until `jobs resume`.")
    @OptionGroup var state: StateFolder
    @Option(help: "Seconds to wait for the daemon's answer.") var wait: Double = 5
    func run() async throws { await fileQueueRequest(.pause, state, wait: wait) }
}

struct JobsResume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resume", abstract: "Resume a paused queue.")
    @OptionGroup var state: StateFolder
    @Option(help: "Seconds to wait for the daemon's answer.") var wait: Double = 5
    func run() async throws { await fileQueueRequest(.resume, state, wait: wait) }
}

struct JobsPriority: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "priority", abstract: "Give a job that has not ended a new priority (higher starts first; -100 to 100).")
    @Argument(help: "Job id, a unique prefix of it, or the job's NAME (the newest job of that name).") var id: String
    @Argument(help: "The new priority, a whole number from -100 to 100.") var priority: String
    @OptionGroup var state: StateFolder
    @Option(help: "Seconds to wait for the daemon's answer.") var wait: Double = 5

    func run() async throws {
        let range = ManifestLimits.priority
        guard let value = Int(priority), range.contains(value) else {
            exitWith("prostudio: jobs priority: PRIORITY must be a whole number from \(range.lowerBound) to \(range.upperBound), got \(priority)", code: 1)
        }
        if let api = state.remote.client { api.queueRequest("/v1/jobs/\(id)/priority", body: ["priority": value]) }
        let opened = await state.journal()
        let job = await resolveJob(opened, id)
        let who = requester()
        await awaitOutcome("priority \(job.id) (\(job.name))", opened, job.id, wait: wait) {
            try await opened.store.request(.priority, job: job.id, value: value, by: who)
        }
    }
}

private func requester() -> String { ProcessInfo.processInfo.environment["USER"] ?? "uid \(getuid())" }

func fileQueueRequest(_ action: RequestAction, _ state: StateFolder, wait: Double) async {
    if let api = state.remote.client { api.queueRequest("/v1/queue/\(action.rawValue)", body: nil) }
    let who = requester()
    let opened = await state.journal()
    await awaitOutcome(action.rawValue, opened, nil, wait: wait) { try await opened.store.request(action, job: nil, value: nil, by: who) }
}

/// Files the request, then waits up to `wait` seconds for the daemon's outcome (exit 1 when it ignored the request).
private func awaitOutcome(_ what: String, _ opened: OpenedJournal, _ job: JobID?, wait: Double,
                          _ file: () async throws -> Int64) async {
    let reader = opened.store
    let request: Int64
    do { request = try await file() } catch { exitWith("prostudio: \(error)", code: 1) }
    let deadline = Date().addingTimeInterval(wait)
    while Date() < deadline {
        if let r = try? await reader.requests(of: job).first(where: { $0.id == request }), let outcome = r.outcome {
            print("\(what): \(outcome)")
            if outcome.hasPrefix("ignored") { exit(1) }
            return
        }
        try? await Task.sleep(for: .milliseconds(100))
    }
    print("\(what): requested; " + (opened.shared ? "a daemon on the journal applies it when it next runs (is one running?)"
                                                  : "the daemon applies it when it next runs (is it running?)"))
}

/// How `jobs list` and `jobs show` write a job's place in the queue.
enum QueueText {
    static func paused(_ q: QueueState) -> String {
        "queue paused" + (q.changedAt.map { " since \(Time.short($0))" } ?? "") + (q.changedBy.map { " by \($0)" } ?? "")
            + ": no job starts until `prostudio jobs resume`"
    }

    /// For a queued job in `jobs list`: only what differs from the default.
    static func suffix(_ j: Job) -> String {
        var out = ""
        if j.priority != 0 { out += "  [priority \(j.priority)]" }
        if let at = j.notBefore, at > Date() { out += "  [not before \(Time.short(at))]" }
        return out
    }

    static func line(_ j: Job) -> String {
        var parts = ["priority \(j.priority)"]
        if let at = j.notBefore { parts.append("not before \(Time.iso(at))") }
        parts.append(j.packs.isEmpty ? "no model packs" : "packs " + j.packs.sorted().joined(separator: ", "))
        if j.passes > 0 { parts.append("passed over \(j.passes) time\(j.passes == 1 ? "" : "s")") }
        return parts.joined(separator: "; ")
    }
}
