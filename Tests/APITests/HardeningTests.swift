import Contract
import Foundation
import Journal
import Testing
import TestSupport
import Daemon
import Manifest
import ZIPFoundation
@testable import API

/// Issue 23: hostile archives and bodies, what a caller may read, and the server's connection limits, against the
/// real daemon; memory is the supervisor's own peak (VmHWM), read from /proc.
@Suite(.serialized) struct HardeningTests {
    func code(_ r: HTTP.Response) -> String? { (try? r.json()["error"] as? [String: Any])?["code"] as? String }

    /// The supervisor's peak resident memory so far, in bytes.
    static func peakRSS(_ pid: Int32) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
    }

    // MARK: ZIP64

    /// A zip whose entries' ZIP64 fields say `uncompressed` (and `compressed`) bytes, with no data at all.
    static func zip64(_ names: [String], uncompressed: UInt64, compressed: UInt64 = 1, method: UInt16 = 8) -> [UInt8] {
        func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xff), UInt8(v >> 8)] }
        func le32(_ v: UInt32) -> [UInt8] { le16(UInt16(v & 0xffff)) + le16(UInt16(v >> 16)) }
        func le64(_ v: UInt64) -> [UInt8] { le32(UInt32(v & 0xffff_ffff)) + le32(UInt32(v >> 32)) }
        let extra = le16(1) + le16(16) + le64(uncompressed) + le64(compressed)
        var out: [UInt8] = [], directory: [UInt8] = []
        for name in names {
            let offset = UInt32(out.count)
            let n = Array(name.utf8)
            out += le32(0x0403_4b50) + le16(45) + le16(0) + le16(method) + le32(0) + le32(0) + le32(0xFFFF_FFFF) + le32(0xFFFF_FFFF)
                + le16(UInt16(n.count)) + le16(UInt16(extra.count)) + n + extra
            directory += le32(0x0201_4b50) + le16(0x031e) + le16(45) + le16(0) + le16(method) + le32(0) + le32(0)
                + le32(0xFFFF_FFFF) + le32(0xFFFF_FFFF) + le16(UInt16(n.count)) + le16(UInt16(extra.count)) + le16(0) + le16(0) + le16(0)
                + le32(0o100644 << 16) + le32(offset) + n + extra
        }
        let start = UInt32(out.count)
        out += directory
        out += le32(0x0605_4b50) + le16(0) + le16(0) + le16(UInt16(names.count)) + le16(UInt16(names.count))
            + le32(UInt32(directory.count)) + le32(start) + le16(0)
        return out
    }

    func files(_ limits: Upload.Limits = .init(maxBodyBytes: 1 << 20, maxAssets: 10, maxExpandedBytes: 1 << 30, maxExpansionRatio: 100)) throws -> FileSet {
        let root = NSTemporaryDirectory() + "prostudio-zip-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        return FileSet(root: root, limits: limits)
    }

    func unzip(_ bytes: [UInt8]) throws -> APIError? {
        let set = try files()
        defer { try? FileManager.default.removeItem(atPath: set.root) }
        let path = set.root + ".zip"
        defer { unlink(path) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        do throws(APIError) { try Archive.unzip(path: path, length: bytes.count, into: set); return nil } catch { return error }
    }

    /// Two entries of 2^63 bytes each once expanded: the sum overflowed and trapped the daemon. Each size, and each
    /// offset, is now checked: refused naming the entry.
    @Test func zip64SizesAreCheckedNotTrapped() throws {
        let huge = Self.zip64(["big-one", "big-two"], uncompressed: 1 << 63)
        #expect(huge.count < 300)
        let e1 = try #require(try unzip(huge))
        #expect(e1.status == .contentTooLarge && e1.code == "expansion_too_large" && e1.message.contains("\"big-one\""), "\(e1.message)")
        // Stored (method 0): its data would be 2^63 bytes read from a 258-byte file.
        let e2 = try #require(try unzip(Self.zip64(["stored"], uncompressed: 1 << 63, compressed: 1 << 63, method: 0)))
        #expect(e2.code == "bad_archive" && e2.message.contains("\"stored\""), "\(e2.message)")
        // Compressed size near 2^64: offset + size overflows.
        let e3 = try #require(try unzip(Self.zip64(["wrap"], uncompressed: 10, compressed: UInt64.max - 10)))
        #expect(e3.code == "bad_archive" && e3.message.contains("\"wrap\""), "\(e3.message)")
        // An honest bomb past the ratio: 1 KiB said to expand to 200 MiB.
        let e4 = try #require(try unzip(Self.zip64(["bomb"], uncompressed: 200 << 20, compressed: 1024)))
        #expect(e4.code == "expansion_ratio" || e4.code == "bad_archive", "\(e4.message)")
    }

    /// Over HTTP: the daemon answers, stays up, and the next job still renders.
    @Test func aZip64BombIsRefusedAndTheDaemonKeepsWorking() async throws {
        let d = try LiveDaemon()
        defer { d.stop() }
        try await d.ready()
        let zip = Self.zip64(["a/big-one", "a/big-two"], uncompressed: 1 << 63)
        for _ in 0..<3 {
            let r = try await HTTP.request(port: d.port, "POST", "/v1/jobs", headers: ["Content-Type": "application/zip"], body: zip)
            #expect(r.status == 413 && code(r) == "expansion_too_large" && r.text.contains("big-one"), "\(r.text)")
        }
        #expect(d.process.isRunning)
        let post = try await HTTP.request(port: d.port, "POST", "/v1/jobs?name=after", headers: ["Content-Type": "application/yaml"], body: Array(tinyManifest.utf8))
        #expect(post.status == 202, "\(post.text)")
        let id = try #require(try post.json()["id"] as? String)
        let done = try await eventually(timeout: .seconds(180)) {
            (try? await HTTP.request(port: d.port, "GET", "/v1/jobs/\(id)").json()["state"] as? String) == "done"
        }
        #expect(done, "\(d.log)")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: d.root + "/state/api-uploads")) ?? []).isEmpty)
    }

    // MARK: Memory

    /// A 1,000 MB zip bomb (about 1 MB deflated), honest and lying about its size, and a 1 GB chunked upload: refused
    /// with the supervisor's peak under 100 MB (it went to 2 GB holding the expansion, 261 MiB reading the body).
    @Test func bombsAndEndlessBodiesStayOnDisk() async throws {
        let d = try LiveDaemon()
        defer { d.stop() }
        try await d.ready()
        let bomb = try ZIPFoundation.Archive(accessMode: .create)
        let manifest = Array("scenes:\n  - narration: Hi.\n".utf8)
        try bomb.addEntry(with: "job/manifest.yaml", type: .file, uncompressedSize: Int64(manifest.count), compressionMethod: .deflate) { pos, size in
            Data(manifest[Int(pos)..<Int(pos) + size])
        }
        try bomb.addEntry(with: "job/zeros.bin", type: .file, uncompressedSize: Int64(1000 << 20), compressionMethod: .deflate) { _, size in Data(count: size) }
        var honest = Array(try #require(bomb.data))
        #expect(honest.count < 2 << 20)
        let r1 = try await HTTP.request(port: d.port, "POST", "/v1/jobs", headers: ["Content-Type": "application/zip"], body: honest)
        #expect(r1.status == 413 && code(r1) == "expansion_ratio" && r1.text.contains("zeros.bin"), "\(r1.text)")
        // The same zip claiming 50 MB in its directory (inside the ratio): refused once it inflates past that.
        let directory = try #require(HTTP.find(Array(honest.reversed()), Array([0x50, 0x4b, 0x01, 0x02].reversed())))
        let record = honest.count - directory - 4
        honest.replaceSubrange((record + 24)..<(record + 28), with: withUnsafeBytes(of: UInt32(50 << 20).littleEndian, Array.init))
        let r2 = try await HTTP.request(port: d.port, "POST", "/v1/jobs", headers: ["Content-Type": "application/zip"], body: honest)
        #expect(r2.status == 413 && r2.text.contains("zeros.bin"), "\(r2.text)")
        // A 50 MB manifest (under api.max_body_mb): refused by its size, never read whole.
        let huge = try await HTTP.request(port: d.port, "POST", "/v1/jobs", headers: ["Content-Type": "application/yaml"],
                                          body: Array("scenes: [hi]\n".utf8) + [UInt8](repeating: UInt8(ascii: "#"), count: 50 << 20))
        #expect(huge.status == 413 && code(huge) == "manifest_too_large", "\(huge.text)")
        let afterZip = Self.peakRSS(d.process.processIdentifier)

        let (status, sent) = try await offPool { try Self.chunkedUpload(port: d.port, total: 1 << 30) }
        #expect(status == 413 || sent < 1 << 30, "the whole 1 GB was read")
        let afterChunked = Self.peakRSS(d.process.processIdentifier)
        print("supervisor VmHWM: after the 1,000 MB zips and a 50 MB manifest \(afterZip >> 20) MiB, after the 1 GB chunked upload \(afterChunked >> 20) MiB (sent \(sent >> 20) MiB, status \(status))")
        #expect(afterZip < 100 << 20 && afterChunked < 100 << 20)
        #expect(d.process.isRunning)
        #expect(try await HTTP.request(port: d.port, "GET", "/healthz").status == 200)
        let left = try await eventually(timeout: .seconds(10)) {
            ((try? FileManager.default.contentsOfDirectory(atPath: d.root + "/state/api-uploads")) ?? []).isEmpty
        }
        #expect(left, "uploads left behind")
    }

    /// Sends a chunked body of `total` bytes (64 KiB chunks) until the server answers or closes; the status (0: none)
    /// and the bytes sent.
    static func chunkedUpload(port: Int, total: Int) throws -> (Int, Int) {
        let fd = try connectLoopback(port)
        defer { close(fd) }
        let head = "POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/yaml\r\nTransfer-Encoding: chunked\r\n\r\n"
        guard sendAll(fd, Array(head.utf8)) else { return (0, 0) }
        let chunk = Array("10000\r\n".utf8) + [UInt8](repeating: UInt8(ascii: "#"), count: 65_536) + Array("\r\n".utf8)
        var sent = 0
        while sent < total {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&p, 1, 0) > 0 { break }  // an answer (or a close) came
            guard sendAll(fd, chunk) else { break }
            sent += 65_536
        }
        if sent >= total { _ = sendAll(fd, Array("0\r\n\r\n".utf8)) }
        var buf = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buf, buf.count, 0)
        guard n > 12 else { return (0, sent) }
        let line = String(decoding: buf[0..<n], as: UTF8.self)
        return (Int(line.split(separator: " ")[1]) ?? 0, sent)
    }

    /// Parts come out whole whatever the read sizes: a boundary split across reads, CR LF inside a part.
    @Test func multipartStreamsAcrossReads() throws {
        var rng = SystemRandomNumberGenerator()
        let payload = (0..<200_000).map { i in i % 997 == 0 ? UInt8(13) : i % 991 == 0 ? 10 : UInt8.random(in: 0...255, using: &rng) }
        let (type, body) = HTTP.multipart([("manifest", "m.yaml", Array("scenes: [hi]\n".utf8)), ("f", "big.bin", payload), ("name", nil, Array("n".utf8))])
        let boundary = try #require(Multipart.boundary(type))
        for _ in 0..<20 {
            var at = 0
            var parts: [(Multipart.Part, [UInt8])] = []
            try Multipart.stream(boundary: boundary, read: { out in
                let n = min(out.count, body.count - at, Int.random(in: 1...300, using: &rng))
                body.withUnsafeBytes { out.baseAddress!.copyMemory(from: $0.baseAddress! + at, byteCount: n) }
                at += n
                return n
            }, begin: { parts.append(($0, [])) }, data: { parts[parts.count - 1].1 += $0 }, end: {})
            #expect(parts.map { $0.0.name } == ["manifest", "f", "name"])
            #expect(parts[1].1 == payload && parts[0].1 == Array("scenes: [hi]\n".utf8) && parts[2].1 == Array("n".utf8))
        }
    }

    // MARK: What a caller may read

    @Test func aLibraryFolderOutsideTheAllowedOnesIsRefused() async throws {
        let allowed = NSTemporaryDirectory() + "prostudio-lib-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: allowed + "/pics", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: allowed + "/etc-link", withDestinationPath: "/etc")
        defer { try? FileManager.default.removeItem(atPath: allowed) }
        let d = try LiveDaemon(config: "library:\n  folders: [\(allowed)]\n")
        defer { d.stop() }
        try await d.ready()
        func post(_ visuals: String, scene: String = "") async throws -> HTTP.Response {
            let m = "visuals: \(visuals)\nscenes:\n  - narration: Hello.\(scene)\n"
            return try await HTTP.request(port: d.port, "POST", "/v1/jobs", headers: ["Content-Type": "application/yaml"], body: Array(m.utf8))
        }
        func escape(_ r: HTTP.Response) throws -> Bool {
            let problems = try r.json()["errors"] as? [[String: Any]] ?? []
            return r.status == 400 && problems.first?["code"] as? String == "manifest.path_escape"
        }
        for folder in ["/etc", "/", "../..", "/nonexistent-\(UUID())", "\(allowed)/etc-link", "\(allowed)/../"] {
            let r = try await post("{engine: library, folder: \"\(folder)\"}")
            #expect(try escape(r), "\(folder): \(r.text)")
            #expect(!r.text.contains(d.root), "a server path in \(r.text)")
        }
        let perScene = try await post("{engine: procedural}", scene: "\n    visuals: {engine: library, folder: /etc}")
        #expect(try escape(perScene), "\(perScene.text)")
        // Inside library.folders: taken (rendering it needs the MiniLM pack; acceptance is what is checked here).
        let ok = try await post("{engine: library, folder: \"\(allowed)/pics\"}")
        #expect(ok.status == 202, "\(ok.text)")
        // A missing asset is named as written, not by its path on the server.
        let missing = try await HTTP.request(port: d.port, "POST", "/v1/jobs", headers: ["Content-Type": "application/yaml"],
                                             body: Array("music: {engine: file, file: song.mp3}\nscenes: [Hi.]\n".utf8))
        #expect(missing.status == 400 && !missing.text.contains(d.root), "\(missing.text)")

        // A header check that fails names the file as sent, not where the upload is kept.
        let (type, form) = HTTP.multipart([("manifest", "m.yaml", Array("scenes:\n  - narration: Hi.\n    image: a.png\n".utf8)),
                                           ("assets", "a.png", Array("not a picture".utf8))])
        let fake = try await HTTP.request(port: d.port, "POST", "/v1/jobs", headers: ["Content-Type": type], body: form)
        #expect(fake.status == 400 && fake.text.contains("a.png") && !fake.text.contains("api-uploads") && !fake.text.contains(d.root), "\(fake.text)")

        // The inbox, by default, the same: `folder: /` is rejected with the same code.
        try "visuals: {engine: library, folder: /}\nscenes: [Hi.]\n".write(toFile: d.root + "/inbox/root.yaml", atomically: true, encoding: .utf8)
        let rejected = try await eventually(timeout: .seconds(30)) {
            let jobs = try? await HTTP.request(port: d.port, "GET", "/v1/jobs?state=rejected").json()["jobs"] as? [[String: Any]]
            return jobs?.contains { ($0["error"] as? [String: Any])?["code"] as? String == "manifest.path_escape" } == true
        }
        #expect(rejected, "\(d.log)")
    }

    /// Links and `..` are resolved before the check; the inbox may be opened up by config.
    @Test func folderAccessResolvesLinks() throws {
        let root = NSTemporaryDirectory() + "prostudio-access-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root + "/lib/pics", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/job", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root + "/lib/out", withDestinationPath: "/etc")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let access = FolderAccess(allowed: [root + "/lib"])
        #expect(access.permits(root + "/lib/pics", base: root + "/job"))
        #expect(access.permits(root + "/lib/not-yet/there", base: root + "/job"))
        #expect(access.permits(root + "/job/own", base: root + "/job"))
        #expect(!access.permits(root + "/lib/out", base: root + "/job"))
        #expect(!access.permits(root + "/lib/out/ssl", base: root + "/job"))
        #expect(!access.permits(root + "/libx", base: root + "/job"))
        #expect(!access.permits("/", base: root + "/job"))
        try "library:\n  folders: [\(root)/lib]\n  inbox_any_folder: true\n".write(toFile: root + "/c.yaml", atomically: true, encoding: .utf8)
        let open = try DaemonConfig.load(path: root + "/c.yaml")
        #expect(open.inboxFolderAccess == nil && open.apiFolderAccess.allowed == [root + "/lib"])
        #expect(DaemonConfig().inboxFolderAccess == FolderAccess(allowed: []))
    }

    @Test func answersNameTheServersFoldersAsTheCallerKnowsThem() {
        var config = DaemonConfig()
        config.state = "/srv/ps/state"; config.inbox = "/srv/ps/inbox"; config.outbox = "/srv/ps/outbox"; config.models = "/srv/models"
        config.libraryFolders = ["/srv/footage"]
        let paths = ServerPaths(config: config)
        #expect(paths.scrub("cannot decode /srv/ps/state/jobs/06h4b1xdpzbqtfz7/pics/a.png: bad") == "cannot decode pics/a.png: bad")
        #expect(paths.scrub("state/x /srv/ps/state/api-uploads/b87b59fa/m/manifest.yaml: scenes[0]") == "state/x m/manifest.yaml: scenes[0]")
        #expect(paths.scrub("/srv/footage/harbour/a.jpg, /srv/ps/state/cache/x and /srv/models/p") == "<library>/harbour/a.jpg, <state>/cache/x and <models>/p")
        var raw = Sidecar(name: "a", jobID: "j", state: .failed)
        raw.error = .init(code: "x", message: "in /srv/ps/inbox/a.yaml", field: nil)
        raw.warnings = ["/srv/ps/outbox/n.mp4"]
        let sidecar = paths.scrub(sidecar: raw)
        #expect(sidecar.error?.message == "in <inbox>/a.yaml" && sidecar.warnings == ["<outbox>/n.mp4"])
    }

    // MARK: Connections

    @Test func connectionsAreLimitedAndSlowHeadersClosed() async throws {
        let d = try LiveDaemon(config: "api:\n  max_connections: 20\n  header_timeout_s: 2\n  idle_timeout_s: 30\n")
        defer { d.stop() }
        try await d.ready()
        try await Task.sleep(for: .milliseconds(300))  // ready()'s own connections close
        let held = try (0..<20).map { _ in try Self.connectLoopback(d.port) }
        try await Task.sleep(for: .milliseconds(300))
        let extra = try Self.connectLoopback(d.port)
        let closed = try await offPool { Self.waitClosed(extra, seconds: 1.5) }
        #expect(closed, "a connection past api.max_connections stayed open")
        close(extra)
        #expect(held.filter { !Self.waitClosed($0, seconds: 0) }.count == 20, "connections under the limit were closed")
        for fd in held { close(fd) }
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await HTTP.request(port: d.port, "GET", "/healthz").status == 200)

        // A header never finished: closed after api.header_timeout_s.
        let slow = try Self.connectLoopback(d.port)
        #expect(Self.sendAll(slow, Array("GET /healthz HTTP/1.1\r\nHost: x\r\n".utf8)))
        let started = ContinuousClock.now
        let slowClosed = try await offPool { Self.waitClosed(slow, seconds: 10) }
        close(slow)
        #expect(slowClosed, "a partial header was waited on for 10 s")
        #expect(ContinuousClock.now - started >= .seconds(1), "closed before the time-out")
        #expect(try await HTTP.request(port: d.port, "GET", "/healthz").status == 200)
        #expect(d.process.isRunning)
    }

    @Test func theConnectionLimitStaysBelowTheFileLimit() {
        var rl = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &rl)
        let limit = GuardedHTTP1Channel.limit(configured: nil)
        #expect(limit < Int(clamping: rl.rlim_cur) && limit > 0)
        #expect(GuardedHTTP1Channel.limit(configured: Int.max) == limit)
        #expect(GuardedHTTP1Channel.limit(configured: 5) == 5)
    }

    // MARK: Sockets

    static func connectLoopback(_ port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard rc == 0 else { close(fd); throw HTTP.Failure(description: "connect: errno \(errno)") }
        return fd
    }

    static func sendAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            sent += n
        }
        return true
    }

    /// Whether the server closes `fd` within `seconds` (reads what it sends until the end).
    static func waitClosed(_ fd: Int32, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        var buf = [UInt8](repeating: 0, count: 4096)
        repeat {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let wait = max(0, Int32(deadline.timeIntervalSinceNow * 1000))
            if poll(&p, 1, wait) > 0 {
                let n = recv(fd, &buf, buf.count, Int32(MSG_DONTWAIT))
                if n == 0 || (n < 0 && errno != EAGAIN) { return true }
            }
        } while Date() < deadline
        return false
    }
}
