import ArgumentParser
import Foundation
import MCPServer

/// `--api URL` and `--token-file FILE`: the same `submit` and `jobs` commands against a daemon's HTTP API on
/// another machine instead of the local folders. Plain HTTP/1.1 over a socket (no libcurl in every `prostudio`
/// start, which is also the worker): for another network, put a TLS proxy or an SSH tunnel in front.
struct RemoteOptions: ParsableArguments {
    @Option(name: .customLong("api"), help: "Use the daemon's HTTP API at this URL (http://HOST:PORT) instead of the local folders.")
    var url: String?
    @Option(name: .customLong("token-file"), help: "A file holding the API's bearer token (with --api).")
    var tokenFile: String?

    /// The client when `--api` is given (exits on a bad URL or an unreadable token file).
    var client: APIClient? {
        guard let url else {
            if tokenFile != nil { exitWith("prostudio: --token-file goes with --api URL", code: 1) }
            return nil
        }
        var token: String?
        if let tokenFile {
            guard let data = FileManager.default.contents(atPath: tokenFile) else { exitWith("prostudio: --token-file \(tokenFile): cannot be read", code: 1) }
            token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard let client = APIClient(url: url, token: token) else {
            exitWith("prostudio: --api \(url): expected http://HOST:PORT (https: put a TLS proxy or an SSH tunnel in front)", code: 1)
        }
        return client
    }
}

struct APIClient: Sendable {
    let http: HTTPClient

    init?(url: String, token: String?) {
        guard let http = HTTPClient(url: url, token: token) else { return nil }
        self.http = http
    }

    struct Response {
        var status: Int
        var body: [UInt8]
        var json: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] }
        var errorLine: String {
            if let e = json?["error"] as? [String: Any] { return "\(e["code"] as? String ?? "error"): \(e["message"] as? String ?? "")" }
            return "HTTP \(status): \(String(decoding: body.prefix(300), as: UTF8.self))"
        }
    }

    // MARK: Commands

    func submit(path: String, name: String?) -> Never {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { exitWith("prostudio: \(path): no such file or folder", code: 2) }
        let body: [UInt8], type: String
        let jobName = name ?? ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        if isDir.boolValue {
            do { body = try TarWriter.folder(path) } catch { exitWith("prostudio: \(path): \(error)", code: 1) }
            type = "application/x-tar"
        } else {
            guard let data = FileManager.default.contents(atPath: path) else { exitWith("prostudio: \(path): cannot be read", code: 2) }
            body = Array(data)
            type = switch (path as NSString).pathExtension.lowercased() {
            case "json": "application/json"
            case "txt": "text/plain"
            case "md": "text/markdown"
            default: "application/yaml"
            }
        }
        let query = "?name=" + (jobName.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? jobName)
        let r = send("POST", "/v1/jobs" + query, headers: ["Content-Type": type, "Idempotency-Key": UUID().uuidString], body: body)
        if r.status == 202, let j = r.json {
            print("\(j["id"] as? String ?? "?") \(j["name"] as? String ?? "") \(j["state"] as? String ?? "")")
            exit(0)
        }
        var lines = ["prostudio: \(path): \(r.errorLine)"]
        for p in (r.json?["errors"] as? [[String: Any]]) ?? [] { lines.append("prostudio: \(p["message"] as? String ?? "")") }
        exitWith(lines.joined(separator: "\n"), code: r.status == 400 ? 2 : 1)
    }

    func list(filter: String?, limit: Int?, json: Bool) {
        var query: [String] = []
        if let filter { query.append("state=" + filter.replacingOccurrences(of: " ", with: "")) }
        if let limit { query.append("limit=\(limit)") }
        let r = get("/v1/jobs" + (query.isEmpty ? "" : "?" + query.joined(separator: "&")))
        guard let jobs = r.json?["jobs"] as? [[String: Any]] else { exitWith("prostudio: \(r.errorLine)", code: 1) }
        if json { printRaw(jobs); return }
        if jobs.isEmpty { print("no jobs"); return }
        print("ID                STATE      STAGE     PROGRESS  UPDATED                   NAME")
        for j in jobs {
            let state = j["state"] as? String ?? "?"
            let pct = state == "running" ? String(format: "%3.0f%%", ((j["progress"] as? Double) ?? 0) * 100) : ""
            var line = (j["id"] as? String ?? "").padding(toLength: 18, withPad: " ", startingAt: 0)
                + state.padding(toLength: 11, withPad: " ", startingAt: 0)
                + ((j["stage"] as? String) ?? "-").padding(toLength: 10, withPad: " ", startingAt: 0)
                + pct.padding(toLength: 10, withPad: " ", startingAt: 0)
                + (j["updated_at"] as? String ?? "").padding(toLength: 26, withPad: " ", startingAt: 0)
                + (j["name"] as? String ?? "")
            if let e = j["error"] as? [String: Any], state != "done" { line += "  [\(e["code"] as? String ?? "")]" }
            print(line)
        }
    }

    func show(_ id: String, json: Bool) {
        let r = get("/v1/jobs/" + id)
        guard r.status == 200, let j = r.json else { exitWith("prostudio: \(r.errorLine)", code: 1) }
        if json { printRaw(j); return }
        print("job       \(j["id"] as? String ?? id)")
        print("name      \(j["name"] as? String ?? "")")
        print("state     \(j["state"] as? String ?? "")\((j["stage"] as? String).map { ", stage \($0)" } ?? "")")
        print("attempts  \(j["attempts"] as? Int ?? 0)")
        if let e = j["error"] as? [String: Any] { print("error     \(e["code"] as? String ?? ""): \(e["message"] as? String ?? "")") }
        for (k, v) in ((j["outputs"] as? [String: Any]) ?? [:]).sorted(by: { $0.key < $1.key }) { print("output    \(k): \(v)") }
        if let stages = j["stages"] as? [String: Any], !stages.isEmpty {
            print("\nstages")
            for (name, s) in stages.sorted(by: { $0.key < $1.key }) {
                let s = s as? [String: Any] ?? [:]
                print("  \(name.padding(toLength: 9, withPad: " ", startingAt: 0)) \(String(format: "%.2f s", s["seconds"] as? Double ?? 0))  \(s["engine"] as? String ?? "")")
            }
        }
    }

    func request(_ action: String, _ id: String) -> Never {
        let r = send("POST", "/v1/jobs/\(id)/\(action)", headers: [:], body: [])
        guard r.status == 202, let j = r.json else { exitWith("prostudio: \(action) \(id): \(r.errorLine)", code: 1) }
        print("\(action) \(j["id"] as? String ?? id) (\(j["name"] as? String ?? "")): \(j["state"] as? String ?? "")")
        exit(0)
    }

    /// `jobs pause|resume|priority --api`: POST to the queue's route (a JSON body when given), print what it answered.
    func queueRequest(_ path: String, body: [String: Any]?) -> Never {
        let bytes = body.flatMap { try? JSONSerialization.data(withJSONObject: $0) }.map { [UInt8]($0) } ?? []
        let r = send("POST", path, headers: bytes.isEmpty ? [:] : ["Content-Type": "application/json"], body: bytes)
        guard (200..<300).contains(r.status), let j = r.json else { exitWith("prostudio: POST \(path): \(r.errorLine)", code: 1) }
        if let paused = j["paused"] as? Bool {
            print(paused ? "queue paused" : "queue resumed")
        } else {
            print("priority \(j["id"] as? String ?? "") (\(j["name"] as? String ?? "")): \(j["priority"] as? Int ?? 0)")
        }
        exit(0)
    }

    /// Follows `/v1/jobs/ID/events` until the job ends: exit 0 when done, 1 otherwise.
    func watch(_ id: String) -> Never {
        var final = ""
        let status = stream("/v1/jobs/\(id)/events") { event, data in
            guard let j = try? JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any] else { return }
            if event == "log" {
                print("\(j["at"] as? String ?? "")  \(id)  \(j["message"] as? String ?? "")")
            } else if event == "state" {
                final = j["state"] as? String ?? ""
                let pct = String(format: "%.0f%%", ((j["progress"] as? Double) ?? 0) * 100)
                print("state \(final)\((j["stage"] as? String).map { " \($0)" } ?? "") \(pct)")
            }
            fflush(nil)
        }
        if status != 200 { exitWith("prostudio: watch \(id): HTTP \(status)", code: 1) }
        print("\(id) \(final)")
        exit(final == "done" ? 0 : 1)
    }

    // MARK: HTTP

    func get(_ path: String) -> Response { send("GET", path, headers: [:], body: []) }

    private func printRaw(_ value: Any) {
        let data = (try? JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])) ?? Data()
        print(String(decoding: data, as: UTF8.self))
    }

    /// One request through the shared client; a transport failure ends the command with its reason.
    func send(_ method: String, _ path: String, headers: [String: String], body: [UInt8]) -> Response {
        do {
            let r = try http.sendBlocking(method, path, headers: headers, body: body, timeout: 600)
            return Response(status: r.status, body: r.body)
        } catch {
            exitWith("prostudio: --api: \((error as? ToolFailure)?.message ?? "\(error)")", code: 1)
        }
    }

    /// Reads a server-sent event stream as it arrives, until the server ends it; returns the HTTP status.
    func stream(_ path: String, _ onEvent: (String, String) -> Void) -> Int {
        do {
            return try http.streamBlocking(path, headers: [:], timeout: 10 * 365 * 86_400) { event, data in onEvent(event, data); return true }
        } catch {
            exitWith("prostudio: --api: \((error as? ToolFailure)?.message ?? "\(error)")", code: 1)
        }
    }
}
