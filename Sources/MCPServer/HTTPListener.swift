import Foundation
import MCP
import Synchronization

/// `prostudio mcp --listen HOST:PORT`: the same tools over MCP's streamable HTTP (the SDK's stateless transport: each
/// POST /mcp answered with its JSON result), behind the daemon API's bearer token. A small HTTP/1.1 server of its own,
/// one thread per connection, each closed after its answer: MCP calls are few and long, and the CLI (which is also
/// every job's worker) stays free of an HTTP framework. Not inside the daemon: the supervisor never links the SDK nor
/// the validation that needs libav.
extension MCPService {
    public struct ListenFailure: Error, CustomStringConvertible { public var description: String }

    /// Serves until the process ends. `token`: required as `Authorization: Bearer TOKEN` when given.
    public func serveHTTP(host: String, port: Int, token: String?, ready: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        let transport = StatelessHTTPServerTransport()
        _ = try await start(transport)
        let fd = try Self.listen(host: host, port: port)
        var addr = sockaddr_in(), len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        ready(Int(UInt16(bigEndian: addr.sin_port)))
        // A thread per connection, so at most this many at once: beyond, 503 at once rather than a thread each.
        let open = Atomic<Int>(0)
        while true {
            let client = accept(fd, nil, nil)
            if client < 0 { if errno == EINTR { continue } else { throw ListenFailure(description: "accept: \(String(cString: strerror(errno)))") } }
            guard open.add(1, ordering: .relaxed).newValue <= 32 else {
                open.subtract(1, ordering: .relaxed)
                Self.write(client, 503, ["Content-Type": "application/json", "Retry-After": "1"],
                           Data("{\"error\":{\"code\":\"busy\",\"message\":\"32 MCP requests are in progress; retry\"}}".utf8))
                close(client)
                continue
            }
            Thread {
                Self.answer(client, transport: transport, token: token)
                open.subtract(1, ordering: .relaxed)
            }.start()
        }
    }

    static func listen(host: String, port: Int) throws -> Int32 {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host, &a.sin_addr) == 1 else {
            throw ListenFailure(description: "--listen \(host):\(port): expected an IPv4 address such as 127.0.0.1")
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard fd >= 0, bound == 0, Glibc.listen(fd, 64) == 0 else {
            throw ListenFailure(description: "--listen \(host):\(port): \(String(cString: strerror(errno)))")
        }
        return fd
    }

    /// One request on one connection, then close.
    static func answer(_ fd: Int32, transport: StatelessHTTPServerTransport, token: String?) {
        defer { close(fd) }
        var tv = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var data: [UInt8] = [], buf = [UInt8](repeating: 0, count: 65536)
        var split: Int?
        while split == nil {
            let n = recv(fd, &buf, buf.count, 0)
            if n <= 0 { return }
            data += buf[0..<n]
            split = HTTPClient.find(data, [13, 10, 13, 10], from: 0)
            if data.count > 1 << 20 && split == nil { return }
        }
        let lines = String(decoding: data[0..<split!], as: UTF8.self).components(separatedBy: "\r\n")
        let parts = lines.first?.split(separator: " ") ?? []
        guard parts.count >= 2 else { return }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let field = { (name: String) in headers.first { $0.key.lowercased() == name }?.value }
        let length = Int(field("content-length") ?? "0") ?? 0
        guard length <= 16 << 20 else { return write(fd, 413, [:], Data("{\"error\":{\"code\":\"body_too_large\",\"message\":\"at most 16 MiB\"}}".utf8)) }
        var body = Array(data[(split! + 4)...])
        while body.count < length {
            let n = recv(fd, &buf, min(buf.count, length - body.count), 0)
            if n <= 0 { return }
            body += buf[0..<n]
        }
        let path = String(parts[1]).split(separator: "?").first.map(String.init) ?? ""
        guard path == "/mcp" else {
            return write(fd, 404, ["Content-Type": "application/json"], Data("{\"error\":{\"code\":\"not_found\",\"message\":\"MCP is served at /mcp\"}}".utf8))
        }
        if let token, field("authorization") != "Bearer " + token {
            return write(fd, 401, ["Content-Type": "application/json", "WWW-Authenticate": "Bearer"],
                         Data("{\"error\":{\"code\":\"unauthorized\",\"message\":\"send Authorization: Bearer TOKEN (the daemon API's token)\"}}".utf8))
        }
        let request = HTTPRequest(method: String(parts[0]), headers: headers, body: Data(body), path: path)
        // The transport is async; this thread waits for its answer.
        let box = Mutex<HTTPResponse?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            let response = await transport.handleRequest(request)
            box.withLock { $0 = response }
            done.signal()
        }
        done.wait()
        guard let response = box.withLock({ $0 }) else { return }
        write(fd, response.statusCode, response.headers, response.bodyData ?? Data())
    }

    static func write(_ fd: Int32, _ status: Int, _ headers: [String: String], _ body: Data) {
        let reason = [200: "OK", 202: "Accepted", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed",
                      406: "Not Acceptable", 413: "Content Too Large", 415: "Unsupported Media Type", 503: "Service Unavailable"][status] ?? "Status"
        var head = "HTTP/1.1 \(status) \(reason)\r\nConnection: close\r\nContent-Length: \(body.count)\r\n"
        for (k, v) in headers where k.lowercased() != "content-length" { head += "\(k): \(v)\r\n" }
        let out = Array((head + "\r\n").utf8) + Array(body)
        var sent = 0
        while sent < out.count {
            let n = out.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, out.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }
            sent += n
        }
    }
}
