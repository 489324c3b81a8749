import ArgumentParser
import Contract
import Daemon
import Foundation
import Journal

/// `prostudio jobs ...`: read the journal and ask the daemon to act. The CLI never changes a job's state
/// itself: retry and cancel are requests the daemon applies (see `JournalClient`).
struct Jobs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List jobs, show one, follow them, ask the daemon to retry, cancel or reprioritise one, or pause the queue.",
        subcommands: [JobsList.self, JobsShow.self, JobsWatch.self, JobsRetry.self, JobsCancel.self, JobsPriority.self,
                      JobsPause.self, JobsResume.self],
        defaultSubcommand: JobsList.self)
}

/// `--state DIR`, as the contract spells it for every journal command.
struct StateFolder: ParsableArguments {
    @Option(name: .customLong("state"), help: "The daemon's state folder (holds journal.sqlite3).")
    var folder: String = "/var/lib/prostudio/state"
    /// `--api URL` / `--token-file`: the same command over the daemon's HTTP API (APIClient.swift).
    @OptionGroup var remote: RemoteOptions
    /// A config whose `journal:` names a PostgreSQL journal (JobsJournal.swift): every jobs command reads it instead.
    @Option(name: .customLong("config"), help: "The daemon's config file; with a journal: section, jobs are read from its PostgreSQL journal.")
    var config: String?

    /// Whether a daemon runs on this state folder now (a `running` job is only running if one does).
    var daemonRunning: Bool { StateLock.liveHolder(state: folder) != nil }
}

/// A job as `--json` prints it (snake_case like the sidecar).
struct JobJSON: Encodable {
    var id, name, state: String
    var stage: String?
    var progress: Double
    var attempts: Int
    var source_name: String
    var manifest_path: String?
    var created_at, updated_at: String
    var error: JobError?
    /// The last run's warnings (journaled `warning` events), for a job that ended done with some.
    var warnings: [String]?
    var outputs: [String: String]
    var stages: [StageJSON]?
    var events: [EventJSON]?
    /// `jobs show`: the job's sidecar as the journal projects it, the same object the daemon writes to the outbox and
    /// `GET /v1/jobs/ID` serves (Docs/contract.md).
    var sidecar: Sidecar?
    /// The queue's order (issue 32): higher first, not before `not_before`; the packs its worker loads; how often it
    /// was passed over.
    var priority: Int
    var not_before: String?
    var packs: [String]
    var passes: Int

    struct StageJSON: Encodable {
        var stage: String, outcome: String, attempt: Int
        var engine: String?, seconds: Double?, peak_memory_bytes: Int64?, cached: Bool
    }
    struct EventJSON: Encodable { var at, kind, message: String }

    init(_ j: Job) {
        id = j.id.rawValue; name = j.name; state = j.state.rawValue; stage = j.stage; progress = j.progress
        attempts = j.attempts; source_name = j.sourceName; manifest_path = j.manifestPath
        created_at = Time.iso(j.createdAt); updated_at = Time.iso(j.updatedAt); error = j.error; outputs = j.outputs
        priority = j.priority; not_before = j.notBefore.map(Time.iso); packs = j.packs.sorted(); passes = j.passes
    }
}

enum Time {
    /// The contract's one timestamp.
    static func iso(_ d: Date) -> String { Timestamp.format(d) }
    static func short(_ d: Date) -> String {
        let f = DateFormatter()
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return f.string(from: d)
    }
}

func printJSON<T: Encodable>(_ value: T) {
    let e = JSONEncoder()
    e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: (try? e.encode(value)) ?? Data(), as: UTF8.self))
}

struct JobsList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List jobs, newest first (the default).")

    @OptionGroup var state: StateFolder
    @Option(help: ArgumentHelp("Only jobs in these states, comma-separated: queued,running,done,failed,cancelled,rejected.",
                               discussion: "Named --filter because --state is the state folder, as for every journal command."))
    var filter: String?
    @Option(help: "At most this many jobs (the table's default: the newest \(Self.tableRows)).")
    var limit: Int?
    @Flag(help: "Every job (the table shows the newest \(Self.tableRows) unless told).")
    var all = false
    @Flag(help: "Print JSON (every job unless --limit).")
    var json = false

    /// A busy journal holds thousands of jobs: a screenful by default, not 10,000 lines (3.2 s on PostgreSQL).
    static let tableRows = 50

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be 1 or more, got \(limit)") }
        if all && limit != nil { throw ValidationError("--all and --limit: name one") }
    }

    func run() async throws {
        let limit = all ? nil : (self.limit ?? (json ? nil : Self.tableRows))
        if let api = state.remote.client { return api.list(filter: filter, limit: limit, json: json) }
        var states: Set<JobState>?
        if let filter {
            var set = Set<JobState>()
            for word in filter.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
                guard let s = JobState(rawValue: word) else {
                    exitWith("prostudio: --filter \(word): not a job state (queued, running, done, failed, cancelled, rejected)", code: 1)
                }
                set.insert(s)
            }
            states = set
        }
        let jobs: [Job]
        let opened = await state.journal()
        // One more than shown, to know whether to say there are more.
        var more = false
        do {
            var found = try await opened.store.jobs(JobFilter(states: states, limit: limit.map { $0 + 1 }))
            if let limit, found.count > limit { found.removeLast(found.count - limit); more = true }
            jobs = found
        } catch { exitWith("prostudio: \(error)", code: 1) }
        if json { printJSON(jobs.map(JobJSON.init)); return }
        if let queue = try? await opened.store.queueState(), queue.paused { print(QueueText.paused(queue)) }
        if jobs.isEmpty { print("no jobs"); return }
        // The journal says running until the daemon's next start requeues the job: say when no daemon is there (on
        // PostgreSQL the daemon may be on another host, so nothing is said).
        let down = !opened.shared && jobs.contains { $0.state == .running } && !state.daemonRunning
        // Short ids: the shortest prefix no other job shares, which every `jobs` command accepts (as it does a NAME).
        let ids = (try? await opened.store.allIDs()) ?? []
        let short = ShortIDs.make(ids)
        print("ID                STATE      STAGE     PROGRESS  UPDATED              NAME")
        for j in jobs {
            let pct = j.state == .running ? (down ? "stopped" : String(format: "%3.0f%%", j.progress * 100)) : ""
            var line = (short[j.id.rawValue] ?? j.id.rawValue).padding(toLength: 18, withPad: " ", startingAt: 0)
                + j.state.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)
                + (j.stage ?? "-").padding(toLength: 10, withPad: " ", startingAt: 0)
                + pct.padding(toLength: 10, withPad: " ", startingAt: 0)
                + Time.short(j.updatedAt).padding(toLength: 21, withPad: " ", startingAt: 0)
                + j.name
            if let e = j.error, j.state != .done { line += "  [\(e.code)]" }
            if j.state == .queued || j.state == .claimed { line += QueueText.suffix(j) }
            print(line)
        }
        if down { print("no daemon is running on \(state.folder): running jobs resume when it starts") }
        if more, let limit { print("the newest \(limit) shown; --limit N or --all for more") }
    }
}

/// Resolves what a person typed (a full id, a unique id prefix, or a NAME), or exits 1 saying why: no such job, or
/// the candidates an ambiguous prefix matches, with their names. A NAME several jobs share picks the newest and
/// says so on stderr.
func resolveJob(_ opened: OpenedJournal, _ text: String) async -> Job {
    let client = opened.store
    let found: JobLookup
    do { found = try await client.lookup(text) } catch { exitWith("prostudio: \(error)", code: 1) }
    switch found {
    case .found(let job, let note):
        if let note { FileHandle.standardError.write(Data("prostudio: \(note): \(job.id)\n".utf8)) }
        return job
    case .ambiguous(let jobs):
        let short = ShortIDs.make(((try? await client.allIDs()) ?? []))
        var lines = ["prostudio: \(text) is the start of \(jobs.count > 20 ? "more than 20" : "\(jobs.count)") job ids; name one by a longer prefix:"]
        for j in jobs.prefix(20) {
            let id = short[j.id.rawValue] ?? j.id.rawValue
            lines.append("  " + id.padding(toLength: 18, withPad: " ", startingAt: 0) + j.state.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)
                         + Time.short(j.createdAt) + "  " + j.name)
        }
        exitWith(lines.joined(separator: "\n"), code: 1)
    case .none:
        exitWith("prostudio: no job \(text) (neither an id, an id prefix, nor a job NAME in \(opened.place))", code: 1)
    }
}

struct JobsShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "One job: state, error, stage runs, events.")
    @Argument(help: "Job id, a unique prefix of it, or the job's NAME (the newest job of that name).") var id: String
    @OptionGroup var state: StateFolder
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        if let api = state.remote.client { return api.show(id, json: json) }
        let opened = await state.journal()
        let client = opened.store
        let job = await resolveJob(opened, id)
        let runs = (try? await client.stageRuns(of: job.id)) ?? []
        let events = (try? await client.events(of: job.id)) ?? []
        if json {
            var out = JobJSON(job)
            out.stages = runs.map { .init(stage: $0.stage, outcome: $0.outcome.rawValue, attempt: $0.attempt, engine: $0.engine,
                                          seconds: $0.seconds, peak_memory_bytes: $0.peakMemoryBytes, cached: $0.cacheHit) }
            out.events = events.map { .init(at: Time.iso($0.at), kind: $0.kind, message: $0.message) }
            let warnings = Self.warnings(events)
            out.warnings = warnings.isEmpty ? nil : warnings
            out.sidecar = job.sidecar
            printJSON(out)
            return
        }
        print("job       \(job.id)")
        print("name      \(job.name)  (from \(job.sourceName), \(job.sourceKind.rawValue))")
        // The journal says running until the next start requeues the job: with no daemon, nothing is running.
        let down = !opened.shared && job.state == .running && !state.daemonRunning
        print("state     \(job.state.rawValue)\(job.stage.map { ", stage \($0)" } ?? "")\(job.state == .running ? String(format: ", %.0f%%", job.progress * 100) : "")"
              + (down ? " (stopped: no daemon is running on \(state.folder); it resumes when one starts)" : ""))
        print("attempts  \(job.attempts)")
        print("queue     \(QueueText.line(job))")
        print("manifest  \(job.manifestPath ?? "-")")
        if let voice = job.report.details.voice_choice {
            print("voice     \(voice)" + (job.report.details.engines["speech"].map { "; spoken by \($0)" } ?? ""))
        }
        print("created   \(Time.short(job.createdAt)); updated \(Time.short(job.updatedAt))")
        if let e = job.error { print("error     \(e.code)\(e.field.map { " at \($0)" } ?? ""): \(e.message)") }
        for w in Self.warnings(events) { print("warning   \(w)") }
        for (k, v) in job.outputs.sorted(by: { $0.key < $1.key }) { print("output    \(k): \(v)") }
        if !runs.isEmpty {
            print("\nstages")
            for r in runs {
                let secs = r.seconds.map { String(format: "%.2f s", $0) } ?? "-"
                let mem = r.peakMemoryBytes.map { String(format: "%.0f MB", Double($0) / 1e6) } ?? "-"
                let outcome = r.outcome == .running && down ? "stopped" : r.outcome.rawValue
                print("  \(r.stage.padding(toLength: 9, withPad: " ", startingAt: 0)) \(outcome.padding(toLength: 12, withPad: " ", startingAt: 0)) \(secs.padding(toLength: 10, withPad: " ", startingAt: 0)) peak \(mem.padding(toLength: 8, withPad: " ", startingAt: 0)) \(r.cacheHit ? "cached " : "")\(r.engine ?? "")")
            }
        }
        if let models = job.report.models, !models.isEmpty {
            print("\nmodels")
            for m in models {
                let how = m.reused ? "reused (loaded in the warm worker)" : String(format: "loaded in %.2f s", m.seconds)
                print("  \(m.stage.padding(toLength: 9, withPad: " ", startingAt: 0)) \(m.pack)/\(m.component)  \(how)")
            }
        }
        print("\nevents")
        for e in events { print("  \(Time.short(e.at))  \(e.kind == "warning" ? "warning: " : "")\(e.message)") }
    }

    /// Each warning once (a retried job journals them at each run that ends done), first first.
    static func warnings(_ events: [JobEvent]) -> [String] {
        var seen = Set<String>()
        return events.filter { $0.kind == "warning" && seen.insert($0.message).inserted }.map(\.message)
    }
}

struct JobsWatch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "watch", abstract: "Follow job events as the daemon journals them; with an ID, until that job ends (exit 0 if done, else 1).")
    @Argument(help: "Only this job (id, unique prefix, or NAME).") var id: String?
    @OptionGroup var state: StateFolder
    @Option(help: "Seconds to wait for a job not in the journal yet (just submitted, not picked up); then exit 1.")
    var timeout: Double = 60

    func run() async throws {
        if let api = state.remote.client {
            guard let id else { exitWith("prostudio: jobs watch --api needs a job id", code: 1) }
            api.watch(id)
        }
        let opened = await state.journal()
        let client = opened.store
        let only = id == nil ? nil : await awaitJob(opened, id!, timeout: timeout).id
        // For one job, its whole history first; for all jobs, only what happens from now on.
        let start: Int64 = only == nil ? ((try? await client.lastEventID()) ?? 0) : 0
        // Reading the journal twice a second is cheap for a person watching; the daemon is not involved.
        let end: Job?
        do {
            end = try await client.follow(job: only, after: start) { e in
                print("\(Time.short(e.at))  \(e.jobID?.rawValue ?? "-")  \(e.message)")
                fflush(nil)
            }
        } catch { exitWith("prostudio: \(error)", code: 1) }
        // One job: stop when it ends (exit 0 when done, 1 otherwise), as a script waiting on it expects.
        if let end {
            print("\(end.id) \(end.state.rawValue)\(end.error.map { ": \($0.code)" } ?? "")")
            if end.state != .done { throw ExitCode(1) }
        }
    }
}

/// The job `text` names, waiting up to `timeout` seconds for it to appear: right after `submit` the daemon may not have
/// picked the file up yet, and `jobs watch NAME` failed at once there (issue 27).
func awaitJob(_ opened: OpenedJournal, _ text: String, timeout: Double) async -> Job {
    let deadline = Date().addingTimeInterval(max(0, timeout))
    var told = false
    while true {
        let found: JobLookup
        do { found = try await opened.store.lookup(text) } catch { exitWith("prostudio: \(error)", code: 1) }
        if case .none = found {} else { return await resolveJob(opened, text) }
        let seconds = timeout == timeout.rounded() ? "\(Int(timeout))" : "\(timeout)"
        if Date() >= deadline {
            exitWith("prostudio: no job \(text) appeared within \(seconds) s (is it in the inbox, and is a daemon running on \(opened.place)?)", code: 1)
        }
        if !told {
            FileHandle.standardError.write(Data("prostudio: no job \(text) yet: waiting up to \(seconds) s for the daemon to pick it up\n".utf8))
            told = true
        }
        try? await Task.sleep(for: .milliseconds(250))
    }
}

struct JobsRetry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "retry", abstract: "Ask the daemon to run a failed or cancelled job again.")
    @Argument(help: "Job id, a unique prefix of it, or the job's NAME (the newest job of that name).") var id: String
    @OptionGroup var state: StateFolder
    @Option(help: "Seconds to wait for the daemon's answer.") var wait: Double = 5
    func run() async throws { await fileRequest(.retry, id, state, wait: wait) }
}

struct JobsCancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Ask the daemon to cancel a queued or running job.")
    @Argument(help: "Job id, a unique prefix of it, or the job's NAME (the newest job of that name).") var id: String
    @OptionGroup var state: StateFolder
    @Option(help: "Seconds to wait for the daemon's answer.") var wait: Double = 5
    func run() async throws { await fileRequest(.cancel, id, state, wait: wait) }
}
