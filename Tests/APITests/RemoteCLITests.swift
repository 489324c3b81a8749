import Daemon
import Foundation
import Testing
import TestSupport

/// `prostudio submit` and `prostudio jobs` with `--api URL --token-file FILE`: the real CLI against the real daemon.
@Suite(.serialized) struct RemoteCLITests {
    /// Runs `prostudio ARGS` to its end off the cooperative pool (the CLI waits on the daemon, which the pool serves).
    func run(_ args: [String]) async throws -> (Int32, String) {
        try await offPool { try Self.runBlocking(args) }
    }

    static func runBlocking(_ args: [String]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: prostudioBinary)
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func submitListWatchAndCancelOverTheAPI() async throws {
        let token = NSTemporaryDirectory() + "prostudio-cli-token-" + UUID().uuidString
        try "cli-token-0123456789abcdef".write(toFile: token, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: token) }
        let d = try LiveDaemon(config: "api:\n  token_file: \(token)\n")
        defer { d.stop() }
        try await d.ready()
        let api = ["--api", "http://127.0.0.1:\(d.port)", "--token-file", token]

        // A job folder goes as a tar: its asset arrives with it.
        let folder = d.root + "/remote"
        try FileManager.default.createDirectory(atPath: folder + "/notes", withIntermediateDirectories: true)
        try tinyManifest.write(toFile: folder + "/manifest.yaml", atomically: true, encoding: .utf8)
        try "kept".write(toFile: folder + "/notes/a.txt", atomically: true, encoding: .utf8)
        let (code, out) = try await run(["submit", folder] + api)
        #expect(code == 0, "\(out)")
        let id = String(out.split(separator: " ").first ?? "")
        #expect(out.contains("remote queued"), "\(out)")
        #expect(FileManager.default.fileExists(atPath: d.root + "/state/jobs/\(id)/notes/a.txt"))

        let (watchCode, watched) = try await run(["jobs", "watch", id] + api)
        #expect(watchCode == 0 && watched.contains("state done") && watched.hasSuffix("\(id) done\n"), "\(watched)")
        let (listCode, listed) = try await run(["jobs", "list", "--filter", "done"] + api)
        #expect(listCode == 0 && listed.contains(id) && listed.contains("remote"), "\(listed)")
        let (showCode, shown) = try await run(["jobs", "show", id, "--json"] + api)
        #expect(showCode == 0 && shown.contains("\"state\" : \"done\""), "\(shown)")
        let (cancelCode, cancelled) = try await run(["jobs", "cancel", id] + api)
        #expect(cancelCode == 1 && cancelled.contains("not_cancellable"), "\(cancelled)")

        // An invalid manifest: exit 2 with every problem, as `validate` does.
        let bad = d.root + "/bad.yaml"
        try "scenes: 3\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let (badCode, badOut) = try await run(["submit", bad] + api)
        #expect(badCode == 2 && badOut.contains("invalid_manifest") && badOut.contains("scenes"), "\(badOut)")
        // Without the token: refused with the reason.
        let (noTokenCode, noToken) = try await run(["jobs", "--api", "http://127.0.0.1:\(d.port)"])
        #expect(noTokenCode == 1 && noToken.contains("token_required"), "\(noToken)")
    }

    @Test func theConfigReadsTheAPIKeys() throws {
        let path = NSTemporaryDirectory() + "prostudio-api-config-" + UUID().uuidString + ".yaml"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "api:\n  listen: \"0.0.0.0:9000\"\n  token_file: /etc/t\n  max_body_mb: 2\n  max_assets: 3\n  max_expanded_mb: 4\n  min_free_mb: 5\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        let c = try DaemonConfig.load(path: path)
        #expect(c.api.listen == "0.0.0.0:9000" && c.api.tokenFile == "/etc/t")
        #expect(c.api.maxBodyBytes == 2 << 20 && c.api.maxAssets == 3 && c.api.maxExpandedBytes == 4 << 20 && c.api.minFreeBytes == 5 << 20)
        try "api:\n  max_body_mb: 0\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: DaemonConfig.Failure.self) { try DaemonConfig.load(path: path) }
        #expect(DaemonConfig().api.listen == nil)  // off by default
    }
}
