import Engines
import Explainer
import Foundation
import Manifest
import Media
import Pipeline

/// The explainer engine's cost per second of video at 720p, beside the procedural engine's in the same run:
/// 1. drawing only: every frame of five cards pulled from the engine's frame streams (what compose pulls);
/// 2. the whole render (speech, visuals, compose, encode) of the same five-scene script with each engine.
/// Run a release build: `swift build -c release --product ExplainerBench && .build/release/ExplainerBench`.
@main struct ExplainerBench {
    static let narrations = [
        "Last year the city planted 12,500 trees along its rivers.",
        "A good street tree needs three things: deep soil, clean water and patience.",
        "As one forester said, \"Plant trees for the people who come after you.\"",
        "Shade cools the pavement on summer afternoons.",
        "Birds return when the branches grow tall.",
    ]

    static func main() async throws {
        let (w, h, fps, seconds) = (1280, 720, 25, 4.0)
        let frames = Int(seconds * Double(fps))
        let visuals = try JSONDecoder().decode(JobManifest.Visuals.self, from: Data(#"{"engine": "explainer", "style": "soft"}"#.utf8))
        var drawn = 0
        let start = Date()
        for (i, text) in narrations.enumerated() {
            var canvas = SceneCanvas(index: i, width: w, height: h, fps: fps, frames: frames, prompt: nil, image: nil, visuals: visuals,
                                     jobSeed: 7, narration: text)
            canvas.narrationOffset = 0.25
            guard case .frames(let stream) = try ExplainerVisuals().picture(for: canvas, progress: { _ in }) else { fatalError("not frames") }
            let it = try stream.makeIterator()
            while try it.next() != nil { drawn += 1 }
        }
        let drawSeconds = Date().timeIntervalSince(start)
        let videoSeconds = Double(drawn) / Double(fps)
        print(String(format: "drawing: %d frames (%.1f s of 720p video) in %.2f s = %.3f s per s of video", drawn, videoSeconds, drawSeconds, drawSeconds / videoSeconds))

        var results: [String: (wall: Double, video: Double)] = [:]
        for engine in ["procedural", "explainer"] {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("explainer-bench-\(engine)-\(getpid())")
            try? FileManager.default.removeItem(at: dir)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            let script = "---\ntitle: Bench\noutput: {width: \(w), height: \(h), fps: \(fps), quality: standard}\nvisuals: {engine: \(engine)}\nmusic: none\n---\n"
                + narrations.joined(separator: "\n\n") + "\n"
            let path = dir.appendingPathComponent("bench.txt")
            try Data(script.utf8).write(to: path)
            var engines = EngineSet.embedded
            engines.visuals[.explainer] = ExplainerVisuals()
            let pipeline = Pipeline(options: PipelineOptions(outbox: dir, cache: dir.appendingPathComponent("cache")), engines: engines)
            let t0 = Date()
            let sidecar = try await pipeline.run(manifestPath: path.path, jobID: "bench")
            let wall = Date().timeIntervalSince(t0)
            let video = sidecar.duration_s ?? 1
            results[engine] = (wall, video)
            print(String(format: "render with %@: %.1f s of video in %.2f s = %.3f s per s of video", engine, video, wall, wall / video))
        }
        if let p = results["procedural"], let e = results["explainer"] {
            print(String(format: "explainer / procedural, whole render: %.2f", (e.wall / e.video) / (p.wall / p.video)))
        }
    }
}
