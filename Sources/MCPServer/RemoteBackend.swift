import Foundation
import Journal
import MCP
import Synchronization

/// A daemon on another machine through its HTTP API: the same tools, jobs posted as the CLI's `--api` posts them
/// (a lone manifest as its text, a job folder as a tar), outputs answered as URLs (fetched with the same token).
struct RemoteBackend: JobBackend {
    let http: HTTPClient

    func submit(_ input: JobInput, assets: [String], wait: Double) async throws -> Value {
        let body: [UInt8], type: String
        if input.isFolder || !assets.isEmpty {
            let folder = try Self.folder(input, assets: assets)
            defer { if folder != input.path { try? FileManager.default.removeItem(atPath: (folder as NSString).deletingLastPathComponent) } }
            do { body = try TarWriter.folder(folder) } catch { throw ToolFailure("mcp.io", "\(input.displayName): \(error)") }
            type = "application/x-tar"
        } else {
            guard let data = FileManager.default.contents(atPath: input.path) else { throw ToolFailure("mcp.io", "\(input.path) cannot be read") }
            body = Array(data)
            type = switch (input.path as NSString).pathExtension.lowercased() {
            case "json": "application/json"
            case "txt": "text/plain"
            case "md": "text/markdown"
            default: "application/yaml"
            }
        }
        let name = input.name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? input.name
        let r = try await http.send("POST", "/v1/jobs?name=" + name, headers: ["Content-Type": type, "Idempotency-Key": UUID().uuidString],
                                    body: body, timeout: max(30, wait))
        guard r.status == 202, let id = r.json?["id"] as? String else { throw r.failure }
        return try await status(id, wait: 0)
    }

    /// A lone manifest with assets as a job folder beside copies of them (in a temporary folder), as the inbox takes it.
    static func folder(_ input: JobInput, assets: [String]) throws -> String {
        if input.isFolder { return input.path }
        let scratch = NSTemporaryDirectory() + "prostudio-mcp-" + UUID().uuidString
        let folder = scratch + "/" + input.name
        let base = (input.path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: input.path, toPath: folder + "/" + input.displayName)
            for asset in assets {
                let full = (asset as NSString).standardizingPath
                guard full.hasPrefix(base + "/") else {
                    throw ToolFailure("mcp.asset_outside", "\(asset) is outside the manifest's folder \(base): pass the manifest's text with `assets` instead")
                }
                try JobInput.place(asset: full, at: String(full.dropFirst(base.count + 1)), in: folder)
            }
        } catch {
            try? FileManager.default.removeItem(atPath: scratch)
            if let failure = error as? ToolFailure { throw failure }
            throw ToolFailure("mcp.io", "cannot lay out the job in \(scratch): \(error.localizedDescription)")
        }
        return folder
    }

    func list(states: [String]?, limit: Int?) async throws -> Value {
        var query = ["limit=\(limit ?? 50)"]
        if let set = try States.parse(states) { query.append("state=" + set.map(\.rawValue).sorted().joined(separator: ",")) }
        let r = try await http.send("GET", "/v1/jobs?" + query.joined(separator: "&"))
        guard r.status == 200, let jobs = r.json?["jobs"] as? [[String: Any]] else { throw r.failure }
        return .object(["jobs": .array(jobs.map(view))])
    }

    func status(_ id: String, wait: Double) async throws -> Value {
        let deadline = Date().addingTimeInterval(min(max(0, wait), 600))
        while true {
            let r = try await http.send("GET", "/v1/jobs/" + Self.escape(id))
            guard r.status == 200, let j = r.json else { throw r.failure }
            let state = j["state"] as? String ?? ""
            if ["done", "failed", "cancelled", "rejected"].contains(state) || Date() >= deadline { return view(j) }
            try await Task.sleep(for: .milliseconds(500))
        }
    }

    func events(_ id: String, after: Int64, wait: Double) async throws -> Value {
        let found = Collected()
        // The stream sends the events after Last-Event-ID, then the job's state; it ends with the job. Without a wait,
        // stop at that first state frame; with one, at the first new event once the backlog is read.
        let status = try await http.stream("/v1/jobs/\(Self.escape(id))/events", headers: ["Last-Event-ID": "\(after)"], timeout: max(2, min(wait, 600))) { event, data in
            guard let j = try? JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any] else { return true }
            if event == "log" {
                found.add(.object(["id": .int(j["id"] as? Int ?? 0), "at": .string(j["at"] as? String ?? ""), "kind": .string(j["kind"] as? String ?? ""),
                                   "message": .string(j["message"] as? String ?? "")]), id: Int64(j["id"] as? Int ?? 0))
                return true
            }
            return event == "state" ? (wait > 0 && found.isEmpty) : true
        }
        if status != 200 {
            let r = try await http.send("GET", "/v1/jobs/" + Self.escape(id))
            throw r.failure
        }
        let job = try await self.status(id, wait: 0)
        return .object(["job": job, "events": .array(found.events), "last_event_id": .int(Int(found.last ?? after))])
    }

    func request(_ action: RequestAction, _ id: String) async throws -> Value {
        let r = try await http.send("POST", "/v1/jobs/\(Self.escape(id))/\(action.rawValue)")
        guard r.status == 202 else { throw r.failure }
        return .object(["action": .string(action.rawValue), "outcome": .string(r.json?["state"] as? String ?? "requested"),
                        "job": try await status(id, wait: 0)])
    }

    func outputs(_ id: String) async throws -> Value {
        let r = try await http.send("GET", "/v1/jobs/" + Self.escape(id))
        guard r.status == 200, let j = r.json else { throw r.failure }
        let state = j["state"] as? String ?? ""
        guard state == "done" else {
            throw ToolFailure("job.not_done", "\(j["name"] as? String ?? id) (\(id)) is \(state); outputs exist once it is done", field: "id")
        }
        var files: [String: Value] = [:]
        for role in ((j["outputs"] as? [String: Any]) ?? [:]).keys {
            files[role] = .object(["url": .string(http.url("/v1/jobs/\(Self.escape(id))/\(role)"))])
        }
        return .object(["id": .string(id), "name": .string(j["name"] as? String ?? ""), "outputs": .object(files),
                        "note": .string("GET each URL with the header Authorization: Bearer TOKEN (the API's token).")])
    }

    /// The API's job as the tools show it: outputs as URLs instead of the server's file names.
    func view(_ j: [String: Any]) -> Value {
        let id = j["id"] as? String ?? ""
        var o: [String: Value] = ["id": .string(id), "name": .string(j["name"] as? String ?? ""), "state": .string(j["state"] as? String ?? ""),
                                  "stage": (j["stage"] as? String).map(Value.string) ?? .null, "progress": .double(j["progress"] as? Double ?? 0),
                                  "attempts": .int(j["attempts"] as? Int ?? 0), "created_at": .string(j["created_at"] as? String ?? ""),
                                  "updated_at": .string(j["updated_at"] as? String ?? "")]
        if let e = j["error"] as? [String: Any] {
            o["error"] = .object(["code": .string(e["code"] as? String ?? ""), "message": .string(e["message"] as? String ?? ""),
                                  "field": (e["field"] as? String).map(Value.string) ?? .null])
        } else { o["error"] = .null }
        if let w = j["warnings"] as? [String] { o["warnings"] = .array(w.map(Value.string)) }
        let roles = ((j["outputs"] as? [String: Any]) ?? [:]).keys
        o["outputs"] = .object(Dictionary(uniqueKeysWithValues: roles.map { ($0, Value.string(http.url("/v1/jobs/\(Self.escape(id))/\($0)"))) }))
        return .object(o)
    }

    static func escape(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-_."))) ?? s }
}

/// Events gathered by the stream's callback, which runs on the reading thread.
final class Collected: Sendable {
    private let state = Mutex<(events: [Value], last: Int64?)>(([], nil))
    func add(_ v: Value, id: Int64) { state.withLock { $0.events.append(v); $0.last = id } }
    var events: [Value] { state.withLock { $0.events } }
    var last: Int64? { state.withLock { $0.last } }
    var isEmpty: Bool { state.withLock { $0.events.isEmpty } }
}
