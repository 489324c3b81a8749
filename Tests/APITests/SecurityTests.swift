import Foundation
import Journal
import Testing
import ZIPFoundation
@testable import API

/// Bearer token, limits and hostile archives, against the real daemon.
@Suite(.serialized) struct SecurityTests {
    static let token = "s3cret-token-0123456789abcdef"

    func daemon(_ extra: String = "") throws -> LiveDaemon {
        let dir = NSTemporaryDirectory() + "prostudio-token-" + UUID().uuidString
        try Self.token.write(toFile: dir, atomically: true, encoding: .utf8)
        return try LiveDaemon(config: """
            api:
              token_file: \(dir)
              max_body_mb: 1
              max_assets: 2
              max_expanded_mb: 1
            \(extra)
            """)
    }

    var auth: [String: String] { ["Authorization": "Bearer \(Self.token)"] }

    @Test func aTokenIsRequiredAndLimitsAreJSONErrors() async throws {
        let d = try daemon()
        defer { d.stop() }
        try await d.ready()  // /readyz needs no token
        let p = d.port
        let none = try await HTTP.request(port: p, "GET", "/v1/jobs")
        #expect(try none.status == 401 && (try none.json()["error"] as? [String: Any])?["code"] as? String == "token_required")
        #expect(none.headers["www-authenticate"]?.hasPrefix("Bearer") == true)
        let wrong = try await HTTP.request(port: p, "GET", "/v1/jobs", headers: ["Authorization": "Bearer \(Self.token.dropLast())x"])
        #expect(try wrong.status == 401 && (try wrong.json()["error"] as? [String: Any])?["code"] as? String == "token_invalid")
        #expect(try await HTTP.request(port: p, "GET", "/metrics").status == 401)
        #expect(try await HTTP.request(port: p, "GET", "/v1/jobs", headers: auth).status == 200)
        let page = try await HTTP.request(port: p, "GET", "/")
        #expect(page.status == 401 && page.text.contains("<form"))  // the dashboard asks for the token

        func code(_ r: HTTP.Response) -> String? { (try? r.json()["error"] as? [String: Any])?["code"] as? String }
        let big = try await HTTP.request(port: p, "POST", "/v1/jobs", headers: auth.merging(["Content-Type": "application/yaml"]) { a, _ in a },
                                         body: [UInt8](repeating: 0x20, count: 1_100_000))
        #expect(big.status == 413 && code(big) == "body_too_large")

        let manifest = Array("scenes:\n  - narration: Hi.\n".utf8)
        let escape = tar([("job/manifest.yaml", manifest, "0"), ("job/../../evil.txt", [1], "0")])
        let r1 = try await HTTP.request(port: p, "POST", "/v1/jobs", headers: auth.merging(["Content-Type": "application/x-tar"]) { a, _ in a }, body: escape)
        #expect(r1.status == 400 && code(r1) == "unsafe_path", "\(r1.text)")
        let absolute = tar([("/etc/manifest.yaml", manifest, "0")])
        let r2 = try await HTTP.request(port: p, "POST", "/v1/jobs", headers: auth.merging(["Content-Type": "application/x-tar"]) { a, _ in a }, body: absolute)
        #expect(r2.status == 400 && code(r2) == "unsafe_path")
        let link = tar([("job/manifest.yaml", manifest, "0"), ("job/passwd", [], "2")])
        let r3 = try await HTTP.request(port: p, "POST", "/v1/jobs", headers: auth.merging(["Content-Type": "application/x-tar"]) { a, _ in a }, body: link)
        #expect(r3.status == 400 && code(r3) == "archive_link")

        // A zip bomb: 50 MB of zeros in a few KB; the header is honest here, so it stops before inflating.
        let bomb = try Archive(accessMode: .create)
        try bomb.addEntry(with: "manifest.yaml", type: .file, uncompressedSize: Int64(manifest.count), compressionMethod: .deflate) { pos, size in
            Data(manifest[Int(pos)..<Int(pos) + size])
        }
        try bomb.addEntry(with: "zeros.bin", type: .file, uncompressedSize: Int64(50 << 20), compressionMethod: .deflate) { _, size in Data(count: size) }
        let bombData = try #require(bomb.data)
        #expect(bombData.count < 1_000_000)
        let r4 = try await HTTP.request(port: p, "POST", "/v1/jobs", headers: auth.merging(["Content-Type": "application/zip"]) { a, _ in a }, body: Array(bombData))
        #expect(r4.status == 413 && code(r4) == "expansion_too_large", "\(r4.text)")

        let (type, form) = HTTP.multipart([("manifest", "promo.yaml", manifest), ("assets", "a.png", [1]), ("assets", "b.png", [2]), ("assets", "c.png", [3])])
        let r5 = try await HTTP.request(port: p, "POST", "/v1/jobs", headers: auth.merging(["Content-Type": type]) { a, _ in a }, body: form)
        #expect(r5.status == 413 && code(r5) == "too_many_assets")
        let (type2, sneaky) = HTTP.multipart([("manifest", "promo.yaml", manifest), ("assets", "../x.png", [1])])
        let r6 = try await HTTP.request(port: p, "POST", "/v1/jobs", headers: auth.merging(["Content-Type": type2]) { a, _ in a }, body: sneaky)
        #expect(r6.status == 400 && code(r6) == "unsafe_path")
        #expect((try await HTTP.request(port: p, "GET", "/v1/jobs", headers: auth).json()["jobs"] as? [Any])?.count == 0)

        // A good zip of a job folder (top folder stripped, its name the job's) and a good form are taken.
        let good = try Archive(accessMode: .create)
        try good.addEntry(with: "zipped/manifest.yaml", type: .file, uncompressedSize: Int64(manifest.count), compressionMethod: .deflate) { pos, size in
            Data(manifest[Int(pos)..<Int(pos) + size])
        }
        let r7 = try await HTTP.request(port: p, "POST", "/v1/jobs", headers: auth.merging(["Content-Type": "application/zip"]) { a, _ in a }, body: Array(try #require(good.data)))
        #expect(try r7.status == 202 && (try r7.json())["name"] as? String == "zipped", "\(r7.text)")
        let (type3, ok) = HTTP.multipart([("manifest", "formed.yaml", manifest), ("assets", "notes/readme.txt", Array("x".utf8))])
        let r8 = try await HTTP.request(port: p, "POST", "/v1/jobs", headers: auth.merging(["Content-Type": type3]) { a, _ in a }, body: ok)
        #expect(try r8.status == 202 && (try r8.json())["name"] as? String == "formed", "\(r8.text)")
        let id = try #require(try r8.json()["id"] as? String)
        #expect(FileManager.default.fileExists(atPath: d.root + "/state/jobs/\(id)/notes/readme.txt"))
    }

    /// Listening beyond loopback without a token: the daemon refuses to start, and says why.
    @Test func noTokenNoPublicListener() async throws {
        let p = Process()
        let root = NSTemporaryDirectory() + "prostudio-public-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        p.executableURL = URL(fileURLWithPath: daemonBinary)
        p.arguments = ["--inbox", root + "/inbox", "--outbox", root + "/outbox", "--state", root + "/state", "--worker", prostudioBinary,
                       "--api", "0.0.0.0:\(freePort())"]
        let err = Pipe()
        p.standardError = err
        try p.run()
        p.waitUntilExit()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(p.terminationStatus == 1)
        #expect(message.contains("api.token_file"), "\(message)")
    }

    @Test func tokensCompareInConstantTimeShape() {
        #expect(constantTimeEqual(Array("abc".utf8), Array("abc".utf8)))
        #expect(!constantTimeEqual(Array("abc".utf8), Array("abd".utf8)))
        #expect(!constantTimeEqual(Array("abc".utf8), Array("abcd".utf8)))
        #expect(!constantTimeEqual([], Array("a".utf8)))
    }

    @Test func rangesParse() {
        #expect(Downloads.parseRange("bytes=0-9", size: 100) == 0...9)
        #expect(Downloads.parseRange("bytes=90-", size: 100) == 90...99)
        #expect(Downloads.parseRange("bytes=-5", size: 100) == 95...99)
        #expect(Downloads.parseRange("bytes=50-500", size: 100) == 50...99)
        #expect(Downloads.parseRange("bytes=100-", size: 100) == nil)
        #expect(Downloads.parseRange("bytes=0-1,5-6", size: 100) == nil)
        #expect(Downloads.parseRange("items=0-1", size: 100) == nil)
    }

    /// Docs/openapi.yaml is the spec the server serves (PROSTUDIO_WRITE_OPENAPI=1 rewrites it from the source).
    @Test func theSpecInDocsIsTheServedOne() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Docs/openapi.yaml").path
        if ProcessInfo.processInfo.environment["PROSTUDIO_WRITE_OPENAPI"] == "1" { try OpenAPISpec.yaml.write(toFile: path, atomically: true, encoding: .utf8) }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == OpenAPISpec.yaml)
    }
}
