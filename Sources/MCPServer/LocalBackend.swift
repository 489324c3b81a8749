import Daemon
import Foundation
import Journal
import MCP
import Pipeline

/// Beside a running daemon on this machine: jobs go in through the inbox (a hidden temporary entry renamed into place,
/// as `prostudio submit` does, so the daemon's own pick-up journals, checks and rejects them), state is read from
/// the journal, and cancel and retry are journal requests the daemon applies, as `prostudio jobs` files them.
struct LocalBackend: JobBackend {
    let inbox: String
    let state: String
    let outbox: String

    var journalPath: String { state + "/journal.sqlite3" }

    func client() throws -> JournalClient {
        guard FileManager.default.fileExists(atPath: journalPath) else {
            throw ToolFailure("mcp.no_journal", "no journal at \(journalPath): start the daemon with --state \(state) (or pass this server the daemon's --state)")
        }
        do { return try JournalClient(path: journalPath) } catch {
            throw ToolFailure("mcp.journal_unavailable", "the journal \(journalPath) cannot be read: \(error)")
        }
    }

    func job(_ client: JournalClient, _ text: String) async throws -> Job {
        switch try await client.lookup(text) {
        case .found(let job, _): return job
        case .ambiguous(let jobs):
            throw ToolFailure("job.ambiguous", "\(text) is the start of \(jobs.count) job ids (\(jobs.prefix(5).map(\.id.rawValue).joined(separator: ", "))): give more of the id", field: "id")
        case .none: throw ToolFailure("job.not_found", "no job \(text) (neither an id, an id prefix, nor a job name)", field: "id")
        }
    }

    // MARK: Submit

    func submit(_ input: JobInput, assets: [String], wait: Double) async throws -> Value {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: inbox, isDirectory: &isDir), isDir.boolValue else {
            throw ToolFailure("mcp.no_inbox", "the inbox \(inbox) is not a folder: pass this server the daemon's --inbox")
        }
        // A lone manifest naming assets goes in as a job folder holding them at the same relative paths: the daemon
        // resolves assets from the manifest's folder, which for a file in the inbox holds nothing of the user's.
        let asFolder = input.isFolder || !assets.isEmpty
        let ext = (input.path as NSString).pathExtension
        let entry = asFolder ? input.name : input.name + "." + ext
        let target = inbox + "/" + entry
        if FileManager.default.fileExists(atPath: target) {
            throw ToolFailure("mcp.name_taken", "\(entry) is already waiting in the inbox: give another `name`", field: "name")
        }
        let temp = inbox + "/.\(entry).mcp-\(getpid()).tmp"
        let started = Date()
        do {
            if input.isFolder {
                try FileManager.default.copyItem(atPath: input.path, toPath: temp)
            } else if asFolder {
                try FileManager.default.createDirectory(atPath: temp, withIntermediateDirectories: false)
                try FileManager.default.copyItem(atPath: input.path, toPath: temp + "/" + input.name + "." + ext)
                let base = (input.path as NSString).deletingLastPathComponent
                for asset in assets {
                    let full = (asset as NSString).standardizingPath
                    guard full.hasPrefix(base + "/") else {
                        throw ToolFailure("mcp.asset_outside", "\(asset) is outside the manifest's folder \(base): pass the manifest's text with `assets` instead")
                    }
                    try JobInput.place(asset: full, at: String(full.dropFirst(base.count + 1)), in: temp)
                }
            } else {
                try FileManager.default.copyItem(atPath: input.path, toPath: temp)
            }
        } catch {
            try? FileManager.default.removeItem(atPath: temp)
            if let failure = error as? ToolFailure { throw failure }
            throw ToolFailure("mcp.io", "cannot copy the job into \(inbox): \(error.localizedDescription)")
        }
        guard rename(temp, target) == 0 else {
            let e = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temp)
            throw ToolFailure("mcp.io", "cannot place \(target): \(e)")
        }
        // The daemon journals the arrival within a moment (inotify, then a settle for files written in place).
        let deadline = started.addingTimeInterval(max(1, wait))
        while Date() < deadline {
            if FileManager.default.fileExists(atPath: journalPath), let client = try? client(),
               let job = try await client.jobs(JobFilter(limit: 20)).first(where: { $0.sourceName == entry && $0.createdAt >= started.addingTimeInterval(-1) }),
               job.state != .claimed {
                if job.state == .rejected, let e = job.error {
                    throw ToolFailure(e.code, "\(job.name) (\(job.id)) was rejected at pick-up: \(e.message)", field: e.field)
                }
                return try await status(client, job)
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw ToolFailure("mcp.not_picked_up", "\(target) was placed in the inbox but no daemon took it within \(Int(max(1, wait))) s: is a daemon running with --inbox \(inbox) --state \(state)? It is taken when one starts.")
    }

    // MARK: Reading

    func list(states: [String]?, limit: Int?) async throws -> Value {
        let filter = JobFilter(states: try States.parse(states), limit: limit ?? 50)
        let jobs = try await client().jobs(filter)
        return .object(["jobs": .array(jobs.map { view($0, warnings: nil) }), "daemon_running": .bool(daemonRunning)])
    }

    func status(_ id: String, wait: Double) async throws -> Value {
        let client = try client()
        var job = try await job(client, id)
        let deadline = Date().addingTimeInterval(min(max(0, wait), 600))
        while !job.state.isFinal && Date() < deadline {
            try await Task.sleep(for: .milliseconds(250))
            job = try await client.job(job.id) ?? job
        }
        return try await status(client, job)
    }

    func status(_ client: JournalClient, _ job: Job) async throws -> Value {
        let events = (try? await client.events(of: job.id)) ?? []
        var seen = Set<String>()
        let warnings = events.filter { $0.kind == "warning" && seen.insert($0.message).inserted }.map(\.message)
        return view(job, warnings: warnings)
    }

    func events(_ id: String, after: Int64, wait: Double) async throws -> Value {
        let client = try client()
        let job = try await job(client, id)
        let deadline = Date().addingTimeInterval(min(max(0, wait), 600))
        var found = try await client.events(after: after, job: job.id)
        var current = job
        while found.isEmpty && !current.state.isFinal && Date() < deadline {
            try await Task.sleep(for: .milliseconds(250))
            found = try await client.events(after: after, job: job.id)
            current = try await client.job(job.id) ?? current
        }
        current = try await client.job(job.id) ?? current
        let list: [Value] = found.map { .object(["id": .int(Int($0.id)), "at": .string(Stamp.iso($0.at)), "kind": .string($0.kind), "message": .string($0.message)]) }
        return .object(["job": view(current, warnings: nil), "events": .array(list), "last_event_id": .int(Int(found.last?.id ?? after))])
    }

    func request(_ action: RequestAction, _ id: String) async throws -> Value {
        let client = try client()
        let job = try await job(client, id)
        let request = try await client.request(action, job: job.id, by: "mcp (uid \(getuid()))")
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            if let r = try? await client.requests(of: job.id).first(where: { $0.id == request }), let outcome = r.outcome {
                if outcome.hasPrefix("ignored") { throw ToolFailure("job.request_ignored", "\(action.rawValue) \(job.id) (\(job.name)): \(outcome)", field: "id") }
                let now = try await client.job(job.id) ?? job
                return .object(["action": .string(action.rawValue), "outcome": .string(outcome), "job": view(now, warnings: nil)])
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return .object(["action": .string(action.rawValue), "outcome": .string("requested: the daemon applies it when it next runs (is one running on \(state)?)"),
                        "job": view(job, warnings: nil)])
    }

    func outputs(_ id: String) async throws -> Value {
        let client = try client()
        let job = try await job(client, id)
        guard job.state == .done else {
            throw ToolFailure("job.not_done", "\(job.name) (\(job.id)) is \(job.state.rawValue)\(job.error.map { ": \($0.code): \($0.message)" } ?? ""); outputs exist once it is done", field: "id")
        }
        var files: [String: Value] = [:]
        for (role, relative) in job.outputs {
            let path = outbox + "/" + relative
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
            files[role] = .object(["path": .string(path), "bytes": size.map(Value.int) ?? .null, "exists": .bool(size != nil)])
        }
        return .object(["id": .string(job.id.rawValue), "name": .string(job.name), "outputs": .object(files)])
    }

    var daemonRunning: Bool { StateLock.liveHolder(state: state) != nil }

    /// A job as the tools show it (snake_case, like the sidecar and `jobs show --json`); outputs as absolute paths.
    func view(_ j: Job, warnings: [String]?) -> Value {
        var o: [String: Value] = [
            "id": .string(j.id.rawValue), "name": .string(j.name), "state": .string(j.state == .claimed ? "queued" : j.state.rawValue),
            "stage": j.stage.map(Value.string) ?? .null, "progress": .double(j.progress), "attempts": .int(j.attempts),
            "created_at": .string(Stamp.iso(j.createdAt)), "updated_at": .string(Stamp.iso(j.updatedAt)),
            "outputs": .object(j.outputs.mapValues { .string(outbox + "/" + $0) }),
        ]
        o["error"] = j.error.map { .object(["code": .string($0.code), "message": .string($0.message), "field": $0.field.map(Value.string) ?? .null]) } ?? .null
        if let warnings { o["warnings"] = .array(warnings.map(Value.string)) }
        return .object(o)
    }
}
