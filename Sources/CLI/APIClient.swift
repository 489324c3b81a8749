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
    let host: String
    let port: Int
    let base: String
    let token: String?

    init?(url: String, token: String?) {
        guard url.hasPrefix("http://") else { return nil }
        var rest = url.dropFirst(7)
        var base = ""
        if let slash = rest.firstIndex(of: "/") { base = String(rest[slash...]); rest = rest[..<slash] }
        while base.hasSuffix("/") { base.removeLast() }
        var host = String(rest), port = 80
        if let colon = rest.lastIndex(of: ":"), !rest.hasSuffix("]") {
            guard let p = Int(rest[rest.index(after: colon)...]) else { return nil }
            port = p; host = String(rest[..<colon])
        }
        if host.hasPrefix("[") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.host = host; self.port = port; self.base = base; self.token = token
    }

    struct Response {
        var status: Int
        var headers: [String: String]
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

    private func connectSocket() -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var info: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, "\(port)", &hints, &info) == 0, let first = info else { exitWith("prostudio: --api: cannot resolve \(host)", code: 1) }
        defer { freeaddrinfo(info) }
        var ai: UnsafeMutablePointer<addrinfo>? = first
        while let a = ai {
            let fd = socket(a.pointee.ai_family, a.pointee.ai_socktype, a.pointee.ai_protocol)
            if fd >= 0 && connect(fd, a.pointee.ai_addr, a.pointee.ai_addrlen) == 0 { return fd }
            if fd >= 0 { close(fd) }
            ai = a.pointee.ai_next
        }
        exitWith("prostudio: --api: cannot connect to \(host):\(port): \(String(cString: strerror(errno)))", code: 1)
    }

    private func writeRequest(_ fd: Int32, _ method: String, _ path: String, headers: [String: String], body: [UInt8]) {
        var head = "\(method) \(base)\(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\nUser-Agent: prostudio\r\n"
        if let token { head += "Authorization: Bearer \(token)\r\n" }
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        if method == "POST" || !body.isEmpty { head += "Content-Length: \(body.count)\r\n" }
        let out = Array((head + "\r\n").utf8) + body
        var sent = 0
        while sent < out.count {
            let n = out.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, out.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }
            sent += n
        }
    }

    func send(_ method: String, _ path: String, headers: [String: String], body: [UInt8]) -> Response {
        let fd = connectSocket()
        defer { close(fd) }
        writeRequest(fd, method, path, headers: headers, body: body)
        var data: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buf, buf.count, 0)
            if n <= 0 { break }
            data += buf[0..<n]
        }
        guard let split = Self.find(data, [13, 10, 13, 10], from: 0) else { exitWith("prostudio: --api: no HTTP answer from \(host):\(port)", code: 1) }
        let (status, fields) = Self.head(data[0..<split])
        var payload = Array(data[(split + 4)...])
        if fields["transfer-encoding"]?.lowercased() == "chunked" { payload = Self.dechunk(payload) }
        return Response(status: status, headers: fields, body: payload)
    }

    /// Reads a server-sent event stream as it arrives; returns the HTTP status.
    func stream(_ path: String, _ onEvent: (String, String) -> Void) -> Int {
        let fd = connectSocket()
        defer { close(fd) }
        writeRequest(fd, "GET", path, headers: ["Accept": "text/event-stream"], body: [])
        var pending: [UInt8] = []
        var status = 0, chunked = false, inBody = false
        var text = ""
        var buf = [UInt8](repeating: 0, count: 16384)
        func drainEvents() {
            while let end = text.range(of: "\n\n") {
                let frame = text[..<end.lowerBound]
                text.removeSubrange(..<end.upperBound)
                var event = "message", data = ""
                for line in frame.split(separator: "\n") {
                    if line.hasPrefix("event: ") { event = String(line.dropFirst(7)) }
                    if line.hasPrefix("data: ") { data += line.dropFirst(6) }
                }
                if !data.isEmpty { onEvent(event, data) }
            }
        }
        while true {
            let n = recv(fd, &buf, buf.count, 0)
            if n <= 0 { break }
            pending += buf[0..<n]
            if !inBody {
                guard let split = Self.find(pending, [13, 10, 13, 10], from: 0) else { continue }
                let (s, fields) = Self.head(pending[0..<split])
                status = s
                chunked = fields["transfer-encoding"]?.lowercased() == "chunked"
                pending = Array(pending[(split + 4)...])
                inBody = true
                if status != 200 { return status }
            }
            if chunked {
                // Take whole chunks only; keep a partial one for the next read.
                while let lineEnd = Self.find(pending, [13, 10], from: 0) {
                    let size = Int(String(decoding: pending[0..<lineEnd], as: UTF8.self).split(separator: ";").first ?? "", radix: 16) ?? 0
                    if size == 0 { drainEvents(); return status }
                    guard pending.count >= lineEnd + 2 + size + 2 else { break }
                    text += String(decoding: pending[(lineEnd + 2)..<(lineEnd + 2 + size)], as: UTF8.self)
                    pending.removeFirst(lineEnd + 2 + size + 2)
                }
            } else {
                text += String(decoding: pending, as: UTF8.self)
                pending.removeAll()
            }
            drainEvents()
        }
        drainEvents()
        return status
    }

    static func head(_ bytes: ArraySlice<UInt8>) -> (Int, [String: String]) {
        let lines = String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n")
        let status = lines.first.flatMap { $0.split(separator: " ").dropFirst().first }.flatMap { Int($0) } ?? 0
        var fields: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return (status, fields)
    }

    static func find(_ hay: [UInt8], _ needle: [UInt8], from: Int) -> Int? {
        guard hay.count >= needle.count, from <= hay.count - needle.count else { return nil }
        for i in from...(hay.count - needle.count) where hay[i] == needle[0] && hay[i..<i + needle.count].elementsEqual(needle) { return i }
        return nil
    }

    static func dechunk(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [], at = 0
        while let end = find(data, [13, 10], from: at) {
            guard let size = Int(String(decoding: data[at..<end], as: UTF8.self).split(separator: ";").first ?? "", radix: 16), size > 0 else { break }
            let start = end + 2
            out += data[start..<min(data.count, start + size)]
            at = start + size + 2
        }
        return out
    }
}
