import Failures
import Foundation

/// Plain HTTP/1.1 over a socket to the daemon's API (no libcurl in `prostudio`): the one client the CLI's `--api`
/// commands and the MCP server's remote backend share. The async calls run the blocking ones on a thread of their
/// own, off the concurrency pool the MCP server's loop runs on; the CLI calls the blocking ones directly.
public struct HTTPClient: Sendable {
    public let host: String
    public let port: Int
    public let base: String
    public let token: String?

    public init?(url: String, token: String?) {
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

    /// The URL of an API path, as a client with the token fetches it.
    func url(_ path: String) -> String {
        "http://\(host.contains(":") ? "[\(host)]" : host):\(port)\(base)\(path)"
    }

    public struct Response: Sendable {
        public var status: Int
        public var body: [UInt8]
        public var json: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] }

        /// The API's own error (`{error: {code, message, field}, errors: [...]}`) as the tools' error.
        var failure: ToolFailure {
            guard let e = json?["error"] as? [String: Any] else {
                return ToolFailure("api.http_\(status)", "HTTP \(status): \(String(decoding: body.prefix(300), as: UTF8.self))")
            }
            let problems = ((json?["errors"] as? [[String: Any]]) ?? []).map {
                JobFailure.Problem(code: $0["code"] as? String ?? "", field: $0["field"] as? String, line: $0["line"] as? Int, message: $0["message"] as? String ?? "")
            }
            return ToolFailure(e["code"] as? String ?? "api.error", e["message"] as? String ?? "", field: e["field"] as? String, problems: problems)
        }
    }

    func send(_ method: String, _ path: String, headers: [String: String] = [:], body: [UInt8] = [], timeout: Double = 60) async throws -> Response {
        try await Self.offThread { [self] in try sendBlocking(method, path, headers: headers, body: body, timeout: timeout) }
    }

    /// Reads a server-sent event stream until `onEvent` returns false, the stream ends, or `timeout` passes.
    func stream(_ path: String, headers: [String: String], timeout: Double, _ onEvent: @escaping @Sendable (String, String) -> Bool) async throws -> Int {
        try await Self.offThread { [self] in try streamBlocking(path, headers: headers, timeout: timeout, onEvent) }
    }

    static func offThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try work() }) }.start()
        }
    }

    private func connectSocket(timeout: Double) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var info: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, "\(port)", &hints, &info) == 0, let first = info else {
            throw ToolFailure("api.unreachable", "cannot resolve \(host) (--api)")
        }
        defer { freeaddrinfo(info) }
        var ai: UnsafeMutablePointer<addrinfo>? = first
        while let a = ai {
            let fd = socket(a.pointee.ai_family, a.pointee.ai_socktype, a.pointee.ai_protocol)
            if fd >= 0 && connect(fd, a.pointee.ai_addr, a.pointee.ai_addrlen) == 0 {
                var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1e6))
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                return fd
            }
            if fd >= 0 { close(fd) }
            ai = a.pointee.ai_next
        }
        throw ToolFailure("api.unreachable", "cannot connect to the daemon's API at \(host):\(port): \(String(cString: strerror(errno)))")
    }

    private func write(_ fd: Int32, _ method: String, _ path: String, headers: [String: String], body: [UInt8]) {
        var head = "\(method) \(base)\(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\nUser-Agent: prostudio-mcp\r\n"
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

    /// One request, its whole answer (chunked bodies joined); throws `api.unreachable` / `api.no_answer`.
    public func sendBlocking(_ method: String, _ path: String, headers: [String: String], body: [UInt8], timeout: Double) throws -> Response {
        let fd = try connectSocket(timeout: timeout)
        defer { close(fd) }
        write(fd, method, path, headers: headers, body: body)
        var data: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buf, buf.count, 0)
            if n <= 0 { break }
            data += buf[0..<n]
        }
        guard let split = Self.find(data, [13, 10, 13, 10], from: 0) else {
            throw ToolFailure("api.no_answer", "no HTTP answer from \(host):\(port) to \(method) \(path) within \(Int(timeout)) s")
        }
        let (status, fields) = Self.head(data[0..<split])
        var payload = Array(data[(split + 4)...])
        if fields["transfer-encoding"]?.lowercased() == "chunked" { payload = Self.dechunk(payload) }
        return Response(status: status, body: payload)
    }

    /// A server-sent event stream, each event to `onEvent` until it returns false, the stream ends or `timeout`
    /// passes; returns the HTTP status.
    public func streamBlocking(_ path: String, headers: [String: String], timeout: Double, _ onEvent: (String, String) -> Bool) throws -> Int {
        let fd = try connectSocket(timeout: 1)
        defer { close(fd) }
        write(fd, "GET", path, headers: headers.merging(["Accept": "text/event-stream"]) { a, _ in a }, body: [])
        let deadline = Date().addingTimeInterval(timeout)
        var raw: [UInt8] = [], status = 0, chunked = false, inBody = false, text = ""
        var buf = [UInt8](repeating: 0, count: 16384)
        while Date() < deadline {
            let n = recv(fd, &buf, buf.count, 0)
            if n == 0 { break }
            if n < 0 { if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { continue } else { break } }
            raw += buf[0..<n]
            if !inBody {
                guard let split = Self.find(raw, [13, 10, 13, 10], from: 0) else { continue }
                let (s, fields) = Self.head(raw[0..<split])
                status = s
                chunked = fields["transfer-encoding"]?.lowercased() == "chunked"
                raw = Array(raw[(split + 4)...])
                inBody = true
                if status != 200 { return status }
            }
            if chunked {
                while let lineEnd = Self.find(raw, [13, 10], from: 0) {
                    let size = Int(String(decoding: raw[0..<lineEnd], as: UTF8.self).split(separator: ";").first ?? "", radix: 16) ?? 0
                    if size == 0 { raw.removeAll(); break }
                    guard raw.count >= lineEnd + 2 + size + 2 else { break }
                    text += String(decoding: raw[(lineEnd + 2)..<(lineEnd + 2 + size)], as: UTF8.self)
                    raw.removeFirst(lineEnd + 2 + size + 2)
                }
            } else {
                text += String(decoding: raw, as: UTF8.self)
                raw.removeAll()
            }
            while let end = text.range(of: "\n\n") {
                let frame = text[..<end.lowerBound]
                text.removeSubrange(..<end.upperBound)
                var event = "message", data = ""
                for line in frame.split(separator: "\n") {
                    if line.hasPrefix("event: ") { event = String(line.dropFirst(7)) }
                    if line.hasPrefix("data: ") { data += line.dropFirst(6) }
                }
                if !data.isEmpty && !onEvent(event, data) { return status }
            }
        }
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
