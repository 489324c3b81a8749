// Media's composer alone against the encoder's floor (issue 30), without the pipeline (no voice, no music engine):
// the five-scene job of Benchmarks/compose_floor.py (24.6 s: five 4.9 s scenes, 0.5 s crossfades, burned captions,
// x264 veryfast CRF 23, AAC) composed through the public API, then its MP4 decoded to raw (untimed) and encoded again
// by the ffmpeg CLI with the same settings. Uses only public API, so the same file builds against an earlier Media
// to compare two builds in one run.
//
//     swift build -c release --product ComposeBench && .build/release/ComposeBench [stills|looks] [720p|1080p|1080x1920] [runs]
//
// Prints CPU seconds (all threads: getrusage) and wall seconds of the compose and of the floor, and their ratios.
import Foundation
import Media

@main struct ComposeBench {
    static let stills = ["inbox.example/explainer/portrait.jpg", "inbox.example/storybook/stripes.png",
                         "Docs/frames/explainer-1.png", "Docs/frames/explainer-2.png", "Docs/frames/explainer-3.png"]
    static let looks: [Background.Look] = [.bokeh, .shapes, .flow, .gradient, .bokeh]

    /// CPU seconds (user + system) of this process's threads, or of its children that have been reaped.
    static func cpu(children: Bool = false) -> Double {
        var u = rusage()
        getrusage(__rusage_who_t((children ? RUSAGE_CHILDREN : RUSAGE_SELF).rawValue), &u)
        return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
    }

    /// Runs a command; its wall and CPU seconds (user + system of the child).
    static func run(_ args: [String]) throws -> (wall: Double, cpu: Double) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
        p.arguments = args
        // Foundation reaps the child itself, so its CPU is read as the change in the reaped children's total.
        let start = Date(), before = cpu(children: true)
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw MediaError("ffmpeg", detail: args.joined(separator: " ")) }
        return (Date().timeIntervalSince(start), cpu(children: true) - before)
    }

    static func main() throws {
        let args = CommandLine.arguments
        let kind = args.count > 1 ? args[1] : "stills", size = args.count > 2 ? args[2] : "720p"
        let runs = args.count > 3 ? Int(args[3]) ?? 1 : 1
        let (w, h) = ["720p": (1280, 720), "1080p": (1920, 1080), "1080x1920": (1080, 1920)][size] ?? (1280, 720)
        let fps = 24, scene = 118, fade = 12, total = 5 * scene
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("composebench-\(getpid())")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }
        var scenes: [Composition.Scene] = []
        var cues: [Cue] = []
        for i in 0..<5 {
            let backdrop = Background(look: looks[i], colors: [0x1E3A8A, 0x3B82F6, 0x93C5FD], speed: 0.01, seed: 11 + i)
            let picture: ScenePicture = kind == "looks" ? .background(backdrop)
                : .still(Still(path: stills[i], move: KenBurns(zoomIn: i % 2 == 0, zoom: 0.12 + 0.02 * Double(i),
                                                               panX: 0.3 - 0.15 * Double(i), panY: 0.1), backdrop: backdrop))
            scenes.append(.init(picture: picture, start: i * scene, frames: scene + (i < 4 ? fade : 0)))
            let t = Double(i * scene) / Double(fps)
            cues.append(Cue(start: t + 0.2, end: t + 2.4, text: "Scene \(i + 1): the morning light"))
            cues.append(Cue(start: t + 2.5, end: t + 4.7, text: "moves across the harbour"))
        }
        let seconds = Double(total) / Double(fps)
        let audio = (0..<Int(seconds * 48_000)).flatMap { n -> [Float] in
            let s = Float(0.2 * sin(Double(n) * 2 * .pi * 220 / 48_000))
            return [s, s]
        }
        print("\(kind) \(size): \(total) frames (\(seconds) s), \(runs) run(s)")
        for r in 0..<runs {
            let out = tmp.appendingPathComponent("job\(r).mp4").path
            let c0 = cpu(), t0 = Date()
            _ = try Composer.compose(Composition(outputPath: out, width: w, height: h, fps: fps, frameCount: total, scenes: scenes,
                                                 crossfadeFrames: fade, burnedCaptions: cues, audio: audio, quality: .standard,
                                                 posterFrame: 0, posterPath: nil))
            let wall = Date().timeIntervalSince(t0), used = cpu() - c0
            let y4m = tmp.appendingPathComponent("raw.y4m").path, wav = tmp.appendingPathComponent("raw.wav").path
            _ = try run(["-v", "error", "-y", "-i", out, "-map", "0:v", "-pix_fmt", "yuv420p", "-f", "yuv4mpegpipe", y4m,
                         "-map", "0:a", "-c:a", "pcm_f32le", wav])
            let floor = try run(["-v", "error", "-y", "-i", y4m, "-i", wav, "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset",
                                 "veryfast", "-crf", "23", "-c:a", "aac", "-b:a", "160k", "-movflags", "+faststart",
                                 tmp.appendingPathComponent("floor.mp4").path])
            let md5 = try? String(decoding: {
                let p = Process(), pipe = Pipe()
                p.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
                p.arguments = ["-v", "error", "-i", out, "-map", "0:v", "-c", "copy", "-f", "md5", "-"]
                p.standardOutput = pipe
                try p.run(); p.waitUntilExit()
                return pipe.fileHandleForReading.readDataToEndOfFile()
            }(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            print(String(format: "  run %d: compose %.3f s cpu %.3f s wall | floor %.3f s cpu %.3f s wall | ratio %.3fx cpu %.3fx wall | video %@",
                         r + 1, used, wall, floor.cpu, floor.wall, used / floor.cpu, wall / floor.wall, md5 ?? "?"))
        }
    }
}
