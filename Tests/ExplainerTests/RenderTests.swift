import Engines
import Explainer
import Foundation
import Manifest
import Media
import Pipeline
import Testing
import TestSupport

/// tesseract (Debian's tesseract-ocr), which reads the rendered cards back.
enum OCR {
    static let tool = TestDependency("tesseract (apt-get install tesseract-ocr; scripts/setup --tests)") { () throws -> String in
        for p in ["/usr/bin/tesseract", "/usr/local/bin/tesseract"] where FileManager.default.isExecutableFile(atPath: p) { return p }
        throw Unavailable("no tesseract executable in /usr/bin or /usr/local/bin")
    }
    static let ffmpeg = TestDependency("the ffmpeg CLI (scripts/setup)") { () throws -> String in
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/ffmpeg") else { throw Unavailable("no /usr/bin/ffmpeg") }
        return "/usr/bin/ffmpeg"
    }
    static var enabled: Bool { tool.enabled && ffmpeg.enabled }
}

/// A five-scene plain-text script (a number, a list, a quote, two ideas) through the whole pipeline with engine
/// explainer at 720p: one frame per scene read back by OCR must show that scene's key words, and consecutive scenes
/// must differ in shape (their edges), not only in colour.
@Suite(.serialized, .enabled(if: OCR.enabled, "needs tesseract and ffmpeg"))
struct RenderTests {
    static let script = """
    ---
    title: Cities and trees
    output: {width: 1280, height: 720, fps: 25, quality: draft}
    visuals: {engine: explainer}
    music: none
    captions: sidecar
    ---
    Last year the city planted 12,500 trees along its rivers.

    A good street tree needs three things: deep soil, clean water and patience.

    As one forester said, "Plant trees for the people who come after you."

    Shade cools the pavement on summer afternoons.

    Birds return when the branches grow tall.
    """
    /// Words each scene's frame must show (lower-cased, as OCR reads them).
    static let keyWords: [[String]] = [["12,500", "trees"], ["deep", "soil", "clean", "water", "patience"],
                                       ["plant", "trees", "people"], ["shade"], ["birds"]]

    @Test func fiveScenesReadBackByOCR() async throws {
        let tesseract = try OCR.tool.get(), ffmpeg = try OCR.ffmpeg.get()
        let dir = TempDir("explainer-render")
        let path = dir.write("cities.txt", Self.script)
        let out = dir.url.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        var engines = EngineSet.embedded
        engines.visuals[.explainer] = ExplainerVisuals()
        let pipeline = Pipeline(options: PipelineOptions(outbox: out, cache: dir.url.appendingPathComponent("cache")), engines: engines)
        let sidecar = try await pipeline.run(manifestPath: path, jobID: "cities")
        #expect(sidecar.state == .done)
        #expect(sidecar.engines["visuals"] == "explainer 2")
        let scenes = try #require(sidecar.scenes)
        #expect(scenes.count == 5)
        let video = out.appendingPathComponent("cities.mp4").path
        var edges: [[Bool]] = []
        for (i, scene) in scenes.enumerated() {
            // After the narration has ended (everything revealed), before the crossfade into the next scene.
            let t = min(scene.narration_end_s + 0.3, scene.start_s + scene.duration_s - 0.6)
            let png = dir.url.appendingPathComponent("scene-\(i + 1).png").path
            let grab = try await offPool { runTool(ffmpeg, ["-v", "error", "-ss", String(format: "%.2f", t), "-i", video, "-frames:v", "1", "-y", png]) }
            #expect(grab.status == 0, "\(grab.output)")
            let ocr = try await offPool { runTool(tesseract, [png, "stdout", "--psm", "11"]) }
            // OCR sometimes reads a thousands comma with a space after it ("12, 500").
            let read = ocr.output.lowercased().replacingOccurrences(of: ", ", with: ",")
            print("scene \(i + 1) at \(String(format: "%.2f", t)) s reads: \(read.split(whereSeparator: \.isNewline).joined(separator: " | "))")
            for word in Self.keyWords[i] {
                #expect(read.contains(word), "scene \(i + 1): OCR does not find \"\(word)\" in: \(read)")
            }
            let luma = try MediaReader.lumaFrame(video, index: Int(t * 25))
            edges.append(Self.edges(luma))
        }
        // Shapes, not colours: the share of edge pixels two frames do not have in common.
        for i in 1..<edges.count {
            let both = zip(edges[i - 1], edges[i]).filter { $0 && $1 }.count
            let either = zip(edges[i - 1], edges[i]).filter { $0 || $1 }.count
            let overlap = Double(both) / Double(max(1, either))
            print("scenes \(i) and \(i + 1): edge overlap \(String(format: "%.2f", overlap))")
            #expect(overlap < 0.5, "scenes \(i) and \(i + 1) share \(Int(overlap * 100))% of their edges")
        }
        // The frames are kept for a person to look at when EXPLAINER_FRAMES names a folder.
        if let keep = ProcessInfo.processInfo.environment["EXPLAINER_FRAMES"] {
            try? FileManager.default.createDirectory(atPath: keep, withIntermediateDirectories: true)
            for i in 1...5 {
                let name = "scene-\(i).png"
                try? FileManager.default.removeItem(atPath: keep + "/" + name)
                try? FileManager.default.copyItem(atPath: dir.url.appendingPathComponent(name).path, toPath: keep + "/" + name)
            }
        }
    }

    /// Pixels where the luma changes sharply to the right or below: what text and shapes make, whatever their colour.
    static func edges(_ l: LumaImage) -> [Bool] {
        var e = [Bool](repeating: false, count: l.width * l.height)
        for y in 0..<(l.height - 1) {
            for x in 0..<(l.width - 1) {
                let p = Int(l.pixels[y * l.width + x])
                e[y * l.width + x] = abs(p - Int(l.pixels[y * l.width + x + 1])) > 24 || abs(p - Int(l.pixels[(y + 1) * l.width + x])) > 24
            }
        }
        return e
    }
}
