import Daemon
import Foundation
import Testing
import TestSupport

/// The minilm-l6-v2 pack that scripts/test installs into $PROSTUDIO_TEST_MODELS. Outside CI the suite is skipped,
/// with the reason, when it is absent; with CI=true the suite runs anyway and fails on the reason, never skips.
enum EmbeddingPack {
    static let pack = TestDependency("the minilm-l6-v2 pack") {
        let models = testModelsFolder().path
        guard FileManager.default.fileExists(atPath: models + "/minilm-l6-v2/pack.json") else {
            throw Unavailable("no minilm-l6-v2 pack in \(models): run Tools/export/install-minilm \(models)")
        }
        return models
    }
    static var enabled: Bool { pack.enabled }
}

/// The daemon keeps its footage libraries' indexes up to date between jobs: at start, and after changes it hears
/// about through inotify, by `prostudio library index` in a child process.
@Suite(.serialized, .enabled(if: EmbeddingPack.enabled, "needs the minilm-l6-v2 pack (Tools/export/install-minilm)"))
struct LibraryKeeperTests {
    /// The paths in the daemon's one library index file (state/cache/library/*.json).
    func indexed(_ f: Folders) -> [String]? {
        let dir = f.root + "/state/cache/library"
        guard let name = (try? FileManager.default.contentsOfDirectory(atPath: dir))?.first(where: { $0.hasSuffix(".json") }),
              let data = FileManager.default.contents(atPath: dir + "/" + name),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let entries = json["entries"] as? [[String: Any]] else { return nil }
        return entries.compactMap { ($0["item"] as? [String: Any])?["path"] as? String }.sorted()
    }

    func picture(_ path: String, says text: String) async throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
        p.arguments = ["-loglevel", "error", "-y", "-f", "lavfi", "-i", "color=c=blue:s=32x32", "-frames:v", "1", path]
        let status = try await offPool { try p.run(); p.waitUntilExit(); return p.terminationStatus }
        #expect(status == 0)
        try Data(text.utf8).write(to: URL(fileURLWithPath: (path as NSString).deletingPathExtension + ".txt"))
    }

    @Test func librariesAreIndexedAtStartAndAgainAfterChanges() async throws {
        let models = try EmbeddingPack.pack.get()
        let f = Folders()
        let library = f.root + "/footage"
        try await picture(library + "/harbour/boats.png", says: "fishing boats in a harbour at dawn")
        var c = f.config
        c.models = models
        c.libraryFolders = [library]
        c.librarySettle = .milliseconds(300)
        let daemon = Daemon(config: c)
        let running = Task { try await daemon.run(handleSignals: false) }

        #expect(try await eventually(timeout: .seconds(60)) { indexed(f) == ["harbour/boats.png"] }, "\(indexed(f) ?? [])")
        // A new picture in a new sub-folder, and then a removal: each reaches the index without a job.
        try await picture(library + "/city/night.png", says: "city lights at night")
        #expect(try await eventually(timeout: .seconds(60)) { indexed(f) == ["city/night.png", "harbour/boats.png"] }, "\(indexed(f) ?? [])")
        try FileManager.default.removeItem(atPath: library + "/harbour/boats.png")
        #expect(try await eventually(timeout: .seconds(60)) { indexed(f) == ["city/night.png"] }, "\(indexed(f) ?? [])")

        // Jobs still run (the index runs between them).
        f.drop("afterindex.yaml", tinyManifest)
        #expect(try await waitFor(f, timeout: .seconds(60)) { $0.name == "afterindex" && $0.state.isFinal }?.state == .done)
        daemon.shutdown()
        try await running.value
    }

    @Test func aLibraryThatCannotBeIndexedDoesNotStopTheDaemon() async throws {
        let f = Folders()
        var c = f.config
        c.models = f.root + "/no-packs"  // no embedding pack: the index child fails and says why
        c.libraryFolders = [f.root + "/footage", f.root + "/missing"]
        try await picture(f.root + "/footage/a.png", says: "a blue square")
        let daemon = Daemon(config: c)
        let running = Task { try await daemon.run(handleSignals: false) }
        f.drop("stillruns.yaml", tinyManifest)
        #expect(try await waitFor(f, timeout: .seconds(60)) { $0.name == "stillruns" && $0.state.isFinal }?.state == .done)
        #expect(indexed(f) == nil)
        daemon.shutdown()
        try await running.value
    }

    @Test func theConfigNamesTheFoldersAndTheLibraryDefault() throws {
        let dir = NSTemporaryDirectory() + "prostudio-libcfg-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir + "/stock", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/brand", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/prostudio.yaml"
        try """
            library:
              folders: [stock]
              settle_s: 5
            defaults:
              visuals: {engine: library, folder: \(dir)/brand}
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let c = try DaemonConfig.load(path: path)
        #expect(c.libraryFolders == [dir + "/stock", dir + "/brand"])
        #expect(c.librarySettle == .seconds(5))
    }
}
