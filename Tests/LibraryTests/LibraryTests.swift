import Engines
import Foundation
import Manifest
import Media
import Pipeline
import Testing
import TestSupport
@testable import Library
import TorchRuntime

/// Folder scanning and descriptions: no model needed.
struct ScannerTests {
    @Test func namesBecomeWords() {
        #expect(LibraryScanner.nameWords("harbour/boats_at_dawn_02.mp4") == "harbour boats at dawn")
        #expect(LibraryScanner.nameWords("lab/scientistWithMicroscope.jpg") == "lab scientist With Microscope")
        #expect(LibraryScanner.nameWords("2024/IMG_0042.JPG") == "")
        #expect(LibraryScanner.nameWords("b-roll/city-night (2).mov") == "b roll city night")
    }

    @Test func missingAndEmptyFoldersAreErrorsNamingTheField() throws {
        let dir = TempDir()
        #expect(throws: LibraryError.self) { try LibraryScanner.scan(folder: dir.url.appendingPathComponent("nope"), field: "scenes[1].visuals.folder") }
        do { _ = try LibraryScanner.scan(folder: dir.url.appendingPathComponent("nope"), field: "visuals.folder") } catch {
            #expect(error.code == "visuals.folder_missing" && error.field == "visuals.folder")
            #expect(error.description.contains("nope") && error.description.contains("does not exist"))
        }
        try Data("notes".utf8).write(to: dir.url.appendingPathComponent("notes.md"))
        do { _ = try LibraryScanner.scan(folder: dir.url, field: "visuals.folder"); Issue.record("an empty library was accepted") } catch {
            #expect(error.code == "visuals.folder_empty" && error.description.contains("no readable pictures or clips"))
        }
    }

    @Test func unreadableFilesAreSkippedWithAWarning() throws {
        let dir = TempDir()
        try Data("a red kite".utf8).write(to: dir.url.appendingPathComponent("kite.txt"))
        let (status, out) = runTool("/usr/bin/ffmpeg", ["-loglevel", "error", "-f", "lavfi", "-i", "color=c=red:s=32x32", "-frames:v", "1",
                                                                   dir.url.appendingPathComponent("kite.jpg").path])
        #expect(status == 0, "\(out)")
        let (s2, out2) = runTool("/usr/bin/ffmpeg", ["-loglevel", "error", "-f", "lavfi", "-i", "color=c=red:s=32x32:d=0.2", "-pix_fmt", "yuv420p",
                                                                 "-metadata", "title=Regatta", "-metadata", "description=A red sailboat racing past the lighthouse",
                                                                 dir.url.appendingPathComponent("clip_0007.mp4").path])
        #expect(s2 == 0, "\(out2)")
        try FileManager.default.createSymbolicLink(atPath: dir.url.appendingPathComponent("gone.jpg").path, withDestinationPath: "/nonexistent/x.jpg")
        _ = FileManager.default.createFile(atPath: dir.url.appendingPathComponent("empty.mp4").path, contents: Data())
        let (found, warnings) = try LibraryScanner.scan(folder: dir.url, field: "visuals.folder")
        #expect(found.map(\.path) == ["clip_0007.mp4", "kite.jpg"])
        #expect(found.last?.description == "a red kite" && found.last?.source == .sidecar)
        #expect(found.first?.description == "Regatta. A red sailboat racing past the lighthouse" && found.first?.source == .metadata)
        #expect(warnings.count == 2)
        #expect(warnings.contains { $0.contains("gone.jpg") } && warnings.contains { $0.contains("empty.mp4") })
    }

    /// EXIF and XMP in a JPEG, text chunks in a PNG: written by hand here (ffmpeg writes none of them).
    @Test func picturesAreDescribedByTheirEmbeddedMetadata() throws {
        let dir = TempDir()
        func picture(_ name: String) throws -> [UInt8] {
            let url = dir.url.appendingPathComponent(name)
            let (s, o) = runTool("/usr/bin/ffmpeg", ["-loglevel", "error", "-f", "lavfi", "-i", "color=c=red:s=16x16", "-frames:v", "1", url.path])
            #expect(s == 0, "\(o)")
            return [UInt8](try Data(contentsOf: url))
        }
        func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
        func le32(_ v: Int) -> [UInt8] { le16(v & 0xFFFF) + le16(v >> 16) }
        func segment(_ payload: [UInt8]) -> [UInt8] { [0xFF, 0xE1, UInt8((payload.count + 2) >> 8), UInt8((payload.count + 2) & 0xFF)] + payload }
        // EXIF: IFD0 with ImageDescription (ASCII) and XPKeywords (UTF-16LE), values after the IFD.
        let desc = Array("A red kite over the dunes\0".utf8)
        let keys = Array("kite;beach\0".utf16).flatMap { le16(Int($0)) }
        let valuesAt = 8 + 2 + 2 * 12 + 4
        var tiff: [UInt8] = Array("II".utf8) + le16(42) + le32(8) + le16(2)
        tiff += le16(0x010E) + le16(2) + le32(desc.count) + le32(valuesAt)
        tiff += le16(0x9C9E) + le16(1) + le32(keys.count) + le32(valuesAt + desc.count)
        tiff += le32(0) + desc + keys
        var jpg = try picture("exif.jpg")
        jpg.insert(contentsOf: segment(Array("Exif\0\0".utf8) + tiff), at: 2)
        try Data(jpg).write(to: dir.url.appendingPathComponent("exif.jpg"))
        // XMP in a JPEG.
        let xmp = #"<x:xmpmeta><rdf:RDF><rdf:Description><dc:title><rdf:Alt><rdf:li xml:lang="x-default">Harbour</rdf:li></rdf:Alt></dc:title>"# +
            #"<dc:subject><rdf:Bag><rdf:li>boats</rdf:li><rdf:li>dawn &amp; mist</rdf:li></rdf:Bag></dc:subject></rdf:Description></rdf:RDF></x:xmpmeta>"#
        var jpg2 = try picture("xmp.jpg")
        jpg2.insert(contentsOf: segment(Array("http://ns.adobe.com/xap/1.0/\0".utf8) + Array(xmp.utf8)), at: 2)
        try Data(jpg2).write(to: dir.url.appendingPathComponent("xmp.jpg"))
        // PNG tEXt chunks after IHDR (8-byte signature + 25-byte IHDR chunk), with real CRCs.
        func crc32(_ bytes: [UInt8]) -> UInt32 {
            var c: UInt32 = 0xFFFF_FFFF
            for b in bytes { c ^= UInt32(b); for _ in 0..<8 { c = c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 } }
            return ~c
        }
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            let body = Array(type.utf8) + data, crc = crc32(body)
            return [UInt8(data.count >> 24), UInt8((data.count >> 16) & 0xFF), UInt8((data.count >> 8) & 0xFF), UInt8(data.count & 0xFF)] + body
                + [UInt8(crc >> 24), UInt8((crc >> 16) & 0xFF), UInt8((crc >> 8) & 0xFF), UInt8(crc & 0xFF)]
        }
        var png = try picture("text.png")
        png.insert(contentsOf: chunk("tEXt", Array("Title\0Beacon".utf8)) + chunk("tEXt", Array("Description\0A lighthouse at night".utf8)), at: 33)
        try Data(png).write(to: dir.url.appendingPathComponent("text.png"))
        _ = try picture("plain_red_square.png")

        let (found, warnings) = try LibraryScanner.scan(folder: dir.url, field: "visuals.folder")
        #expect(warnings.isEmpty)
        let byPath = Dictionary(uniqueKeysWithValues: found.map { ($0.path, ($0.description, $0.source)) })
        // The embedded text, then the file name's words it does not already hold (issue 27: both count).
        #expect(byPath["exif.jpg"]?.0 == "A red kite over the dunes. kite, beach. exif" && byPath["exif.jpg"]?.1 == .metadata)
        #expect(byPath["xmp.jpg"]?.0 == "Harbour. boats, dawn & mist. xmp" && byPath["xmp.jpg"]?.1 == .metadata)
        #expect(byPath["text.png"]?.0 == "Beacon. A lighthouse at night. text" && byPath["text.png"]?.1 == .metadata)
        #expect(byPath["plain_red_square.png"]?.0 == "plain red square" && byPath["plain_red_square.png"]?.1 == .name)
        // The edited files still decode (ffmpeg reads past the inserted segments and chunks).
        for name in ["exif.jpg", "xmp.jpg", "text.png"] {
            #expect((try? MediaReader.probe(dir.url.appendingPathComponent(name).path).first(.video)?.width) == 16, "\(name)")
        }
    }

    @Test func manifestFieldsAreCheckedAtPlanTime() throws {
        let dir = TempDir()
        let lib = dir.url.appendingPathComponent("footage")
        try FileManager.default.createDirectory(at: lib, withIntermediateDirectories: true)
        func load(_ visuals: String) throws(ManifestErrors) -> JobManifest {
            let path = dir.url.appendingPathComponent("job.yaml")
            try! Data("visuals: \(visuals)\nscenes:\n  - narration: Hello.\n".utf8).write(to: path)
            return try ManifestLoader.load(path: path.path)
        }
        let ok = try load("{engine: library, folder: footage, min_score: 0.4}")
        #expect(ok.visuals.engine == .library && ok.visuals.folder == lib.standardizedFileURL.path && ok.visuals.minScore == 0.4)
        #expect(ok.scenes[0].visuals.folder == ok.visuals.folder)
        #expect(try load("{engine: library, folder: \(lib.path)}").visuals.folder == lib.standardizedFileURL.path)
        for (bad, field) in [("{engine: library}", "visuals.folder"), ("{engine: library, folder: missing}", "visuals.folder"),
                             ("{engine: library, folder: footage, min_score: 3}", "visuals.min_score")] {
            do { _ = try load(bad); Issue.record("\(bad) was accepted") } catch {
                #expect(error.errors.contains { $0.field == field }, "\(bad): \(error)")
            }
        }
    }
}

extension ScannerTests {
    /// The daemon config's `defaults:` can make the library the site's engine; a manifest's own visuals still win.
    @Test func libraryAsASiteDefault() throws {
        let dir = TempDir()
        let lib = dir.url.appendingPathComponent("footage")
        try FileManager.default.createDirectory(at: lib, withIntermediateDirectories: true)
        let defaults = try #require(try ManifestDefaults.fromConfig(yaml: "defaults:\n  visuals: {engine: library, folder: \(lib.path), min_score: 0.3}\n",
                                                                   file: dir.url.appendingPathComponent("prostudio.yaml").path))
        let job = dir.url.appendingPathComponent("job.yaml")
        try Data("scenes:\n  - narration: Hello.\n  - narration: Bye.\n    visuals: {engine: procedural}\n".utf8).write(to: job)
        let m = try ManifestLoader.load(path: job.path, defaults: defaults)
        #expect(m.scenes[0].visuals.engine == .library && m.scenes[0].visuals.folder == lib.standardizedFileURL.path && m.scenes[0].visuals.minScore == 0.3)
        #expect(m.scenes[1].visuals.engine == .procedural)
        #expect(throws: ManifestErrors.self) {
            try ManifestDefaults.fromConfig(yaml: "defaults:\n  visuals: {engine: library, folder: /nonexistent/footage}\n", file: "/etc/prostudio.yaml")
        }
    }
}

/// The engine with the real model: the labelled library, the index cache, a missing pack, a render.
@Suite(.serialized, .enabled(if: MiniLMTestPack.enabled, MiniLMTestPack.needs))
struct LibraryEngineTests {
    static func engine(cache: URL) throws -> LibraryVisuals {
        let store = ModelStore(root: try MiniLMTestPack.models())
        return LibraryVisuals(store: store, manager: ModelManager(store: store, device: .cpu), cacheRoot: cache)
    }

    static func canvas(_ i: Int, _ text: String, folder: URL, minScore: Double? = nil) -> SceneCanvas {
        // Visuals has no public memberwise init: decode it, as a manifest would give it.
        let json = #"{"engine": "library", "style": "soft"}"#
        var v = try! JSONDecoder().decode(JobManifest.Visuals.self, from: Data(json.utf8))
        v.folder = folder.path
        v.minScore = minScore
        return SceneCanvas(index: i, width: 64, height: 36, fps: 10, frames: 10, prompt: nil, image: nil, visuals: v, jobSeed: 1, narration: text)
    }

    @Test func labelledLibraryPicksTheIntendedItem() async throws {
        try await Self.labelledLibrary()
    }

    static func labelledLibrary() async throws {
        let dir = TempDir()
        let lib = dir.url.appendingPathComponent("library")
        try LabelledLibrary.make(in: lib)
        let engine = try engine(cache: dir.url.appendingPathComponent("cache"))
        let entries = LabelledLibrary.entries
        #expect(entries.count >= 40)
        #expect(entries.contains { $0.path.hasSuffix(".mp4") } && entries.contains { $0.sidecar == nil } && entries.contains { $0.sidecar != nil })
        // Off-topic scenes first and last: they must not take an item, and the others must still find theirs.
        let texts = [LabelledLibrary.offTopic[0], LabelledLibrary.offTopic[1]] + entries.map(\.scene) + Array(LabelledLibrary.offTopic[2...])
        let scenes = texts.enumerated().map { canvas($0.offset, $0.element, folder: lib) }
        await engine.prepare(scenes)
        var correct = 0, fellBack = 0, picked = 0
        var wrong: [String] = []
        var scores: [Float] = []
        var offTopicBest: [Float] = []
        for scene in scenes {
            let choice = try await engine.choice(for: scene)
            if case .item = choice { picked += 1 }
            let k = scene.index - 2
            if k >= 0 && k < entries.count {
                if case .item(let item, _, let score) = choice, item.path == entries[k].path {
                    correct += 1; scores.append(score)
                } else {
                    wrong.append("\(scene.narration!) -> \(choice)")
                }
            } else if case .fallback(let best, _) = choice {
                fellBack += 1; offTopicBest.append(best ?? -1)
            } else {
                wrong.append("off-topic \(scene.narration!) -> \(choice)")
            }
        }
        let accuracy = Double(correct) / Double(entries.count)
        print("labelled library: \(correct)/\(entries.count) scenes got their intended item (\(String(format: "%.1f", accuracy * 100)) %); " +
              "scores of correct matches \(scores.min() ?? 0)...\(scores.max() ?? 0); off-topic best scores \(offTopicBest); " +
              "min_score \(SceneMatcher.defaultMinScore)")
        for w in wrong { print("  miss: \(w)") }
        // Precision: of the items the engine showed, how many were the intended one; recall: of the scenes with an
        // intended item, how many got it (off-topic scenes that take an item count against precision).
        let precision = picked == 0 ? 0 : Double(correct) / Double(picked), recall = accuracy
        print(String(format: "labelled library: precision %.3f (%d/%d picks), recall %.3f (%d/%d scenes)", precision, correct, picked, recall, correct, entries.count))
        #expect(precision >= 0.9)
        #expect(accuracy >= 0.9)
        #expect(fellBack == LabelledLibrary.offTopic.count)

        // The threshold sweep the default min_score was chosen from (no re-embedding: the matcher on the index).
        let encoder = try engine.encoder()
        let indexer = engine.indexer(encoder: encoder)
        let index = try await indexer.index(folder: lib)
        let queries = try await engine.embed(texts, encoder: encoder)
        for t: Float in [-1, 0.2, 0.22, 0.25, 0.28, 0.3] {
            let m = SceneMatcher.assign(queries: queries, index: index, minScores: Array(repeating: t, count: texts.count))
            let hits = entries.indices.filter { k in m[k + 2].match.map { index.items[$0.item].path } == entries[k].path }.count
            let falls = (Array(0..<2) + Array((texts.count - LabelledLibrary.offTopic.count + 2)..<texts.count)).filter { m[$0].match == nil }.count
            print("min_score \(t): \(hits)/\(entries.count) intended items, \(falls)/\(LabelledLibrary.offTopic.count) off-topic scenes fall back")
        }

        // The same library again: every embedding comes from the index; then one edit, one removal, one addition.
        let again = try await indexer.index(folder: lib)
        let files = entries.count + LabelledLibrary.unlabelled.count
        #expect(again.update == { var u = LibraryIndex.Update(); u.reused = files; return u }())
        try Data("A kite surfer jumping over the waves".utf8).write(to: lib.appendingPathComponent("misc/IMG_0101.txt"))
        try FileManager.default.removeItem(at: lib.appendingPathComponent("misc/clip_24.mp4"))
        try FileManager.default.copyItem(at: lib.appendingPathComponent("misc/IMG_0102.jpg"), to: lib.appendingPathComponent("misc/red_tractor.jpg"))
        let third = try await indexer.index(folder: lib)
        #expect(third.update.embedded == 2 && third.update.removed == 1 && third.update.reused == files - 2)
        let hit = try #require(third.search(try await engine.embed(["someone kitesurfing at sea"], encoder: encoder), top: 1).first)
        #expect(third.items[hit.index].path == "misc/IMG_0101.jpg")
    }

    @Test func anUnwritableIndexIsAWarningNotAFailure() async throws {
        let dir = TempDir()
        let lib = dir.url.appendingPathComponent("lib")
        try FileManager.default.createDirectory(at: lib, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: lib.appendingPathComponent("red_kite.jpg"))
        let blocker = dir.url.appendingPathComponent("cache")  // a file where the cache folder should be
        try Data("not a folder".utf8).write(to: blocker)
        let engine = try Self.engine(cache: blocker)
        let index = try await engine.indexer(encoder: try engine.encoder()).index(folder: lib)
        #expect(index.items.map(\.description) == ["red kite"])
        #expect(index.warnings.contains { $0.contains("not saved") }, "\(index.warnings)")
    }

    @Test func missingPackIsAClearError() async throws {
        let dir = TempDir()
        let store = ModelStore(root: dir.url)
        let engine = LibraryVisuals(store: store, manager: ModelManager(store: store, device: .cpu), cacheRoot: dir.url)
        let lib = dir.url.appendingPathComponent("lib")
        try FileManager.default.createDirectory(at: lib, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: lib.appendingPathComponent("a.jpg"))
        do throws(EngineError) {
            _ = try await engine.picture(for: Self.canvas(0, "hello", folder: lib), progress: { _ in })
            Issue.record("a missing pack was accepted")
        } catch {
            #expect(error.code == "visuals.pack_missing")
            #expect(error.message.contains("minilm-l6-v2") && error.message.contains("prostudio models install minilm-l6-v2"), "\(error.message)")
        }
    }

    @Test func aManifestRendersWithLibraryPicturesAndTheSidecarSaysWhich() async throws {
        let dir = TempDir()
        let lib = dir.url.appendingPathComponent("footage")
        try FileManager.default.createDirectory(at: lib.appendingPathComponent("harbour"), withIntermediateDirectories: true)
        // A 4:3 clip (shown whole over a blurred fill in 16:9) fading from black to white over 4 s, whose name needs
        // libavfilter escaping.
        let clipName = "pets, mine/golden retriever puppy [Ben's].mp4"
        try FileManager.default.createDirectory(at: lib.appendingPathComponent("pets, mine"), withIntermediateDirectories: true)
        for (name, input) in [("harbour/boats_at_dawn.jpg", "color=c=blue:s=96x54"), (clipName, "color=c=white:s=120x90:d=4:r=25,fade=in:st=0:d=4")] {
            let video = name.hasSuffix(".mp4")
            let (s, o) = runTool("/usr/bin/ffmpeg", ["-loglevel", "error", "-f", "lavfi", "-i", input]
                                           + (video ? ["-pix_fmt", "yuv420p", "-c:v", "libx264"] : ["-frames:v", "1"]) + [lib.appendingPathComponent(name).path])
            #expect(s == 0, "\(o)")
        }
        let manifest = """
        title: Library
        output: {width: 160, height: 90, fps: 10, quality: draft}
        visuals: {engine: library, folder: \(lib.path)}
        music: none
        captions: sidecar
        scenes:
          - narration: Fishing boats leave the port at sunrise.
          - narration: A young dog plays happily.
          - narration: Quarterly tax filing deadlines.
        """
        let path = dir.url.appendingPathComponent("job.yaml")
        try Data(manifest.utf8).write(to: path)
        let out = dir.url.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        var engines = EngineSet.embedded
        engines.visuals[.library] = try Self.engine(cache: dir.url.appendingPathComponent("cache"))
        let pipeline = Pipeline(options: PipelineOptions(outbox: out, cache: dir.url.appendingPathComponent("cache"), models: try MiniLMTestPack.models()),
                                engines: engines)
        let sidecar = try await pipeline.run(manifestPath: path.path, jobID: "library")
        #expect(sidecar.state == .done)
        #expect(sidecar.engines["visuals"]?.hasPrefix("library 1 pack:") == true, "\(sidecar.engines)")
        let media = try #require(sidecar.scenes).map(\.media)
        // Relative to the library folder: the sidecar shows no server path.
        #expect(media[0]?.file == "harbour/boats_at_dawn.jpg")
        #expect(media[0]?.description == "harbour boats at dawn" && (media[0]?.score ?? 0) >= Double(SceneMatcher.defaultMinScore))
        #expect(media[1]?.file == clipName)
        #expect(media[1]?.note?.hasPrefix("clip, looped") == true, "\(String(describing: media[1]))")
        #expect(media[2]?.file == nil && media[2]?.note?.contains("the designed procedural background (look chosen by the seed, style") == true, "\(String(describing: media[2]))")
        let info = try MediaReader.probe(out.appendingPathComponent("job.mp4").path)
        #expect(info.first(.video)?.width == 160)
        // The clip plays: three quarters into its scene the picture is much brighter than a quarter in (a still of
        // its first frame would be black throughout).
        let timing = try #require(sidecar.scenes)
        let video = out.appendingPathComponent("job.mp4").path
        let f1 = try MediaReader.lumaFrame(video, index: Int((timing[1].start_s + timing[1].duration_s * 0.25) * 10))
        let f2 = try MediaReader.lumaFrame(video, index: Int((timing[1].start_s + timing[1].duration_s * 0.75) * 10))
        print("clip scene: mean luma \(f1.mean) at 25%, \(f2.mean) at 75%")
        #expect(f2.mean >= f1.mean + 20, "the clip scene does not brighten: \(f1.mean) -> \(f2.mean)")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("job.json"))) as? [String: Any]
        let scenes = try #require(json?["scenes"] as? [[String: Any]])
        #expect((scenes[0]["media"] as? [String: Any])?["file"] as? String == media[0]?.file)
        let text = try String(contentsOf: out.appendingPathComponent("job.json"), encoding: .utf8)
        #expect(!text.contains(lib.path) && !text.contains(dir.url.path), "the sidecar shows a server path: \(text)")
    }
}
