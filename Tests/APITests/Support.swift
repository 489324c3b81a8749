import Foundation
import Journal
import Synchronization
import Testing

/// The test products sit beside the test bundle's runner.
let productsDir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
let prostudioBinary = productsDir + "/prostudio"
let daemonBinary = productsDir + "/prostudio-daemon"

let tinyManifest = """
    title: Tiny
    seed: 3
    output: {aspect: "16:9", height: 240, fps: 15, quality: draft}
    voice: {engine: espeak, voice: en-us}
    visuals: {engine: procedural}
    music: {engine: procedural, mood: calm}
    scenes:
      - narration: Hello from the API test.
    """

let slowManifest = tinyManifest + (0..<8).map { n in """

      - narration: Scene \(n + 2) repeats itself at some length, so that speech and compose both have seconds of work to interrupt.
    """ }.joined()

/// A free loopback port (bound, read, closed: the daemon binds it a moment later).
func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    return Int(UInt16(bigEndian: addr.sin_port))
}

/// A real `prostudio-daemon` process with the API on a loopback port, in its own temp folders.
final class LiveDaemon: Sendable {
    let root: String
    let port: Int
    private let current = Mutex<Process?>(nil)
    var process: Process { current.withLock { $0! } }
    let stderrPath: String
    let extraArgs: [String]

    init(config: String? = nil, args: [String] = [], port: Int? = nil) throws {
        root = NSTemporaryDirectory() + "prostudio-api-" + UUID().uuidString
        for dir in ["inbox", "outbox", "state"] { try FileManager.default.createDirectory(atPath: root + "/" + dir, withIntermediateDirectories: true) }
        self.port = port ?? freePort()
        stderrPath = root + "/daemon.log"
        var a = args
        if let config {
            try config.write(toFile: root + "/config.yaml", atomically: true, encoding: .utf8)
            a += ["--config", root + "/config.yaml"]
        }
        extraArgs = a
        try start()
    }

    var url: String { "127.0.0.1:\(port)" }
    var journal: String { root + "/state/journal.sqlite3" }

    func start() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: daemonBinary)
        p.arguments = ["--inbox", root + "/inbox", "--outbox", root + "/outbox", "--state", root + "/state",
                       "--worker", prostudioBinary, "--api", "127.0.0.1:\(port)"] + extraArgs
        FileManager.default.createFile(atPath: stderrPath, contents: nil)
        let log = FileHandle(forWritingAtPath: stderrPath)!
        log.seekToEndOfFile()
        p.standardError = log
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        current.withLock { $0 = p }
    }

    var log: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// Waits for `/readyz` to answer 200.
    func ready(timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if !process.isRunning { Issue.record("the daemon exited \(process.terminationStatus): \(log)"); return }
            if let r = try? await HTTP.request(port: port, "GET", "/readyz"), r.status == 200 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("the API never became ready: \(log)")
    }

    func stop() {
        if process.isRunning { process.terminate(); process.waitUntilExit() }
    }

    func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        // Its worker dies with it (PR_SET_PDEATHSIG); give it a moment.
        usleep(200_000)
    }

    deinit {
        let process = current.withLock { $0 }
        if let process, process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        try? FileManager.default.removeItem(atPath: root)
    }
}

/// A small HTTP/1.1 client over a plain socket (`Connection: close`): every header and byte under the test's control.
enum HTTP {
    struct Response: Sendable {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
        func json() throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any], "not a JSON object: \(text)")
        }
    }

    static func request(port: Int, _ method: String, _ path: String, headers: [String: String] = [:], body: [UInt8] = []) async throws -> Response {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try blocking(port: port, method, path, headers: headers, body: body) })
            }
        }
    }

    struct Failure: Error, CustomStringConvertible { var description: String }

    static func blocking(port: Int, _ method: String, _ path: String, headers: [String: String], body: [UInt8]) throws -> Response {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(errno)") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard rc == 0 else { throw Failure(description: "connect 127.0.0.1:\(port): errno \(errno)") }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        var h = headers
        if !body.isEmpty || method == "POST" || method == "PUT" { h["Content-Length"] = "\(body.count)" }
        for (k, v) in h { head += "\(k): \(v)\r\n" }
        head += "\r\n"
        let out = Array(head.utf8) + body
        var sent = 0
        while sent < out.count {
            let n = out.withUnsafeBytes { send(fd, $0.baseAddress! + sent, out.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }  // the server may answer (413) and close before reading everything
            sent += n
        }
        var data: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buf, buf.count, 0)
            if n <= 0 { break }
            data += buf[0..<n]
        }
        guard let split = find(data, [13, 10, 13, 10]) else { throw Failure(description: "no HTTP response (\(data.count) bytes)") }
        let lines = String(decoding: data[0..<split], as: UTF8.self).components(separatedBy: "\r\n")
        let status = Int(lines[0].split(separator: " ")[1]) ?? 0
        var fields: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var payload = Array(data[(split + 4)...])
        if fields["transfer-encoding"]?.lowercased() == "chunked" { payload = dechunk(payload) }
        return Response(status: status, headers: fields, body: payload)
    }

    static func find(_ hay: [UInt8], _ needle: [UInt8]) -> Int? {
        guard hay.count >= needle.count else { return nil }
        for i in 0...(hay.count - needle.count) where hay[i] == needle[0] && Array(hay[i..<i + needle.count]) == needle { return i }
        return nil
    }

    static func dechunk(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var at = 0
        while at < data.count, let end = find(Array(data[at...]), [13, 10]) {
            let sizeLine = String(decoding: data[at..<at + end], as: UTF8.self).split(separator: ";")[0]
            guard let size = Int(sizeLine, radix: 16), size > 0 else { break }
            let start = at + end + 2
            out += data[start..<min(data.count, start + size)]
            at = start + size + 2
        }
        return out
    }

    /// multipart/form-data: (field, filename, bytes).
    static func multipart(_ parts: [(String, String?, [UInt8])]) -> (String, [UInt8]) {
        let boundary = "b" + UUID().uuidString
        var body: [UInt8] = []
        for (name, filename, data) in parts {
            var head = "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\""
            if let filename { head += "; filename=\"\(filename)\"" }
            head += "\r\n\r\n"
            body += Array(head.utf8) + data + Array("\r\n".utf8)
        }
        body += Array("--\(boundary)--\r\n".utf8)
        return ("multipart/form-data; boundary=\(boundary)", body)
    }
}

/// A ustar archive from (path, bytes, type) entries; type "0" file, "2" symlink.
func tar(_ entries: [(String, [UInt8], Character)]) -> [UInt8] {
    var out: [UInt8] = []
    for (path, data, type) in entries {
        var h = [UInt8](repeating: 0, count: 512)
        func put(_ s: String, _ at: Int, _ len: Int) { for (i, b) in s.utf8.prefix(len).enumerated() { h[at + i] = b } }
        put(path, 0, 100)
        put("0000644\0", 100, 8); put("0000000\0", 108, 8); put("0000000\0", 116, 8)
        put(String(format: "%011o\0", data.count), 124, 12)
        put("00000000000\0", 136, 12)
        put("        ", 148, 8)
        h[156] = UInt8(ascii: type.unicodeScalars.first!)
        if type == "2" { put("/etc/passwd", 157, 100) }
        put("ustar\0", 257, 6); put("00", 263, 2)
        let sum = h.reduce(0) { $0 + Int($1) }
        put(String(format: "%06o\0 ", sum), 148, 8)
        out += h + data
        out += [UInt8](repeating: 0, count: (512 - data.count % 512) % 512)
    }
    return out + [UInt8](repeating: 0, count: 1024)
}
