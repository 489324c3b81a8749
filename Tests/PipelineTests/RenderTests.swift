import Foundation
import Testing
import TestSupport
import Media
import Manifest
@testable import Pipeline

/// Real renders, read back through libavformat. Small pictures keep the suite quick on 2 cores.
@Suite(.serialized)
struct RenderTests {
    static let manifest = """
    title: Three scenes
    seed: 9
    output: {width: 320, height: 180, fps: 15, quality: draft}
    music: {mood: dramatic, volume: 0.3}
    transitions: {type: crossfade, duration: 0.4}
    scenes:
      - narration: The first scene has a picture. It moves slowly.
        image: pic.png
      - narration: The second one draws a sky.
        prompt: a stormy sky over the sea
      - narration: And the third one ends it.
        prompt: an autumn forest
        pause: 0.5
    """

    func render(_ text: String, in dir: TempDir, name: String = "job", cache: URL? = nil) async throws -> (Sidecar, URL) {
        let pic = dir.url.appendingPathComponent("pic.png").path
        if !FileManager.default.fileExists(atPath: pic) { try FileManager.default.copyItem(atPath: Fixtures.image, toPath: pic) }
        let path = dir.write("\(name).yaml", text)
        let out = dir.url.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let pipeline = Pipeline(options: PipelineOptions(outbox: out, cache: cache ?? dir.url.appendingPathComponent("cache")))
        let sidecar = try await pipeline.run(manifestPath: path, jobID: "test-\(name)")
        return (sidecar, out)
    }

    @Test func multiSceneRenderReadsBackAsSpecified() async throws {
        let dir = TempDir()
        let (sidecar, out) = try await render(Self.manifest, in: dir)
        #expect(sidecar.state == .done)
        let video = out.appendingPathComponent("job.mp4").path
        let info = try MediaReader.probe(video)
        let v = try #require(info.first(.video))
        let a = try #require(info.first(.audio))
        #expect(v.codec == "h264" && v.pixelFormat == "yuv420p")
        #expect(v.width == 320 && v.height == 180)
        #expect(a.codec == "aac" && a.sampleRate == 48_000 && a.channels == 2)
        let frame = 1.0 / 15
        let planned = try #require(sidecar.duration_s)
        #expect(abs(v.duration - planned) <= frame, "video \(v.duration) vs planned \(planned)")
        #expect(abs(a.duration - v.duration) <= frame, "audio \(a.duration) vs video \(v.duration)")
        #expect(v.frames == Int((planned * 15).rounded()))

        // Captions: present, ordered, and each inside its scene's narration span.
        let cues = SRT.parse(try String(contentsOf: out.appendingPathComponent("job.srt"), encoding: .utf8))
        let scenes = try #require(sidecar.scenes)
        #expect(cues.count >= 3)
        for cue in cues {
            #expect(cue.end > cue.start)
            #expect(scenes.contains { cue.start >= $0.narration_start_s - 0.001 && cue.end <= $0.narration_end_s + 0.001 }, "\(cue)")
        }
        #expect(cues.map(\.text).joined(separator: " ").contains("second one draws a sky"))

        // Poster: a real JPEG at the platform's thumbnail size for 16:9 (Tests/PipelineTests/ThumbnailTests).
        let poster = try MediaReader.lumaFrame(out.appendingPathComponent("job.jpg").path)
        #expect(poster.width == 1280 && poster.height == 720)

        // Sidecar on disk, with the contract's fields.
        let onDisk = try Sidecar.read(out.appendingPathComponent("job.json"))
        #expect(onDisk.state == .done && onDisk.progress == 1)
        #expect(onDisk.outputs == .init(video: "job.mp4", captions: "job.srt", poster: "job.jpg", webvtt: "job.vtt"))
        let vtt = try String(contentsOf: out.appendingPathComponent("job.vtt"), encoding: .utf8)
        #expect(vtt.hasPrefix("WEBVTT\n") && vtt.contains("The first scene has a picture."))
        #expect(Set(onDisk.stages.keys) == Set(Stage.allCases.map(\.rawValue)))
        #expect(onDisk.engines["speech"]?.hasPrefix("espeak-ng") == true)
        // No temp files or work folders left behind.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    @Test func loudnessIsNormalisedAndNarrationIsAudible() async throws {
        let dir = TempDir()
        let (_, out) = try await render(Self.manifest, in: dir)
        let samples = try MediaReader.audioSamples(out.appendingPathComponent("job.mp4").path)
        let lufs = AudioMix.integratedLoudness(samples, sampleRate: 48_000)
        #expect(abs(lufs - -16) < 1.0, "integrated loudness \(lufs) LUFS")
        #expect((samples.map(abs).max() ?? 0) < 0.95)
    }

    @Test func sameSeedSameVideoDifferentSeedDifferentPicture() async throws {
        let a = TempDir(), b = TempDir(), c = TempDir()
        let (sa, oa) = try await render(Self.manifest, in: a)
        let (sb, ob) = try await render(Self.manifest, in: b)
        let (sc, oc) = try await render(Self.manifest.replacingOccurrences(of: "seed: 9", with: "seed: 10"), in: c)
        #expect(sa.scenes == sb.scenes && sa.duration_s == sb.duration_s)
        #expect(sa.scenes == sc.scenes) // the seed changes pictures, not timing
        // Frame 40 is in the generated (not the image) scene.
        let fa = try MediaReader.lumaFrame(oa.appendingPathComponent("job.mp4").path, index: 0)
        let fb = try MediaReader.lumaFrame(ob.appendingPathComponent("job.mp4").path, index: 0)
        #expect(fa == fb)
        let ga = try MediaReader.lumaFrame(oa.appendingPathComponent("job.mp4").path, index: 60)
        let gc = try MediaReader.lumaFrame(oc.appendingPathComponent("job.mp4").path, index: 60)
        let diff = zip(ga.pixels, gc.pixels).reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) }
        #expect(diff > ga.pixels.count, "mean difference \(Double(diff) / Double(ga.pixels.count))")
    }

    @Test func secondRunReusesCachedStages() async throws {
        let dir = TempDir()
        let cache = dir.url.appendingPathComponent("shared-cache")
        let (first, _) = try await render(Self.manifest, in: dir, name: "one", cache: cache)
        let (second, _) = try await render(Self.manifest, in: dir, name: "two", cache: cache)
        #expect(first.stages["speech"]?.cached == false && first.stages["music"]?.cached == false)
        #expect(second.stages["speech"]?.cached == true && second.stages["music"]?.cached == true)
    }

    @Test func captionModesSidecarEmbedOff() async throws {
        for mode in ["sidecar", "embed", "off"] {
            let dir = TempDir()
            let text = Self.manifest.replacingOccurrences(of: "seed: 9", with: "seed: 9\ncaptions: \(mode)")
            let (sidecar, out) = try await render(text, in: dir)
            let info = try MediaReader.probe(out.appendingPathComponent("job.mp4").path)
            #expect((info.first(.subtitle)?.codec == "mov_text") == (mode == "embed"), "\(mode)")
            if mode == "embed" { #expect(info.first(.subtitle)?.language == "eng") }
            #expect((sidecar.outputs.captions != nil) == (mode != "off"), "\(mode)")
        }
    }

    /// The title is on the poster (set on its own, `poster.title`) and a heading shows at the lower left of its scene; without them those
    /// parts of the picture are the scene's own.
    @Test func titleCardAndHeadingsAreDrawn() async throws {
        let base = """
        title: Sleep better
        output: {width: 320, height: 180, fps: 15, quality: draft}
        music: none
        captions: off
        seed: 4
        scenes:
          - First scene, with the title over it.
          - narration: Second scene, with a heading.
            heading: Three habits
        """
        let plainDir = TempDir(), dressedDir = TempDir()
        let (plain, plainOut) = try await render(base.replacingOccurrences(of: "    heading: Three habits", with: "") + "\ntitle_card: false\nposter: {title: false}\n", in: plainDir)
        let (dressed, dressedOut) = try await render(base, in: dressedDir)
        #expect(plain.duration_s == dressed.duration_s)
        func region(_ f: LumaImage, _ xs: Range<Int>, _ ys: Range<Int>) -> [UInt8] { ys.flatMap { y in xs.map { f.pixels[y * f.width + $0] } } }
        func differs(_ a: [UInt8], _ b: [UInt8]) -> Double { Double(zip(a, b).reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) }) / Double(a.count) }
        let posterA = try MediaReader.lumaFrame(plainOut.appendingPathComponent("job.jpg").path)
        let posterB = try MediaReader.lumaFrame(dressedOut.appendingPathComponent("job.jpg").path)
        #expect(differs(region(posterA, 320..<960, 520..<640), region(posterB, 320..<960, 520..<640)) > 8, "no title on the poster")
        #expect(differs(region(posterA, 0..<1280, 0..<300), region(posterB, 0..<1280, 0..<300)) < 2, "the poster's picture changed")
        let frame = Int(((dressed.scenes?[1].start_s ?? 0) + 1.5) * 15)
        let a = try MediaReader.lumaFrame(plainOut.appendingPathComponent("job.mp4").path, index: frame)
        let b = try MediaReader.lumaFrame(dressedOut.appendingPathComponent("job.mp4").path, index: frame)
        #expect(differs(region(a, 20..<120, 110..<160), region(b, 20..<120, 110..<160)) > 8, "no heading at the lower left")
        #expect(differs(region(a, 200..<320, 0..<60), region(b, 200..<320, 0..<60)) < 2, "the rest of the picture changed")
    }

    /// Text-only scripts without a seed: another script looks different, the same one looks the same.
    @Test func eachScriptLooksLikeItself() async throws {
        func poster(_ text: String, _ dir: TempDir, _ name: String) async throws -> LumaImage {
            let path = dir.write("\(name).txt", text)
            let out = dir.url.appendingPathComponent("out-\(name)")
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            let defaults = try ManifestDefaults.fromConfig(yaml: "defaults:\n  output: {width: 320, height: 180, fps: 10, quality: draft}\n  music: none\n", file: "t.yaml")
            let pipeline = Pipeline(options: PipelineOptions(outbox: out, cache: dir.url.appendingPathComponent("cache-\(name)"), defaults: defaults))
            _ = try await pipeline.run(manifestPath: path, jobID: "t-\(name)")
            return try MediaReader.lumaFrame(out.appendingPathComponent("\(name).jpg").path)
        }
        let dir = TempDir()
        let a = try await poster("Our harbour wakes before the sun.", dir, "a")
        let again = try await poster("Our harbour wakes before the sun.", dir, "again")
        let b = try await poster("Quarterly revenue grew by four percent.", dir, "b")
        let diff = Double(zip(a.pixels, b.pixels).reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) }) / Double(a.pixels.count)
        #expect(a == again)
        #expect(diff > 4, "two different scripts gave near-identical posters (mean difference \(diff))")
    }

    @Test func userMusicFileIsLoopedToLength() async throws {
        let dir = TempDir()
        let song = dir.url.appendingPathComponent("song.wav").path
        try Fixtures.writeTone(to: song, seconds: 1.5)
        let text = Self.manifest.replacingOccurrences(of: "music: {mood: dramatic, volume: 0.3}", with: "music: {file: song.wav, volume: 0.5}")
        let (sidecar, out) = try await render(text, in: dir)
        #expect(sidecar.engines["music"]?.hasPrefix("file") == true)
        let info = try MediaReader.probe(out.appendingPathComponent("job.mp4").path)
        #expect(abs((info.first(.audio)?.duration ?? 0) - (sidecar.duration_s ?? 0)) <= 1.0 / 15)
    }

    @Test func missingAssetFailsWithExitCode2AndARejectedSidecar() async throws {
        let dir = TempDir()
        let path = dir.write("bad.yaml", "scenes:\n  - narration: hi\n    image: nowhere.png\n")
        let out = dir.url.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let pipeline = Pipeline(options: PipelineOptions(outbox: out, cache: dir.url.appendingPathComponent("cache")))
        do {
            _ = try await pipeline.run(manifestPath: path, jobID: "bad")
            Issue.record("rendered a manifest with a missing image")
        } catch {
            #expect(error.exitCode == 2)
            #expect(error.code == "manifest.missing_asset")
            let sidecar = try Sidecar.read(out.appendingPathComponent("bad.json"))
            #expect(sidecar.state == .rejected)
            #expect(sidecar.error?.field == "scenes[0].image")
            #expect(sidecar.error?.message.contains("nowhere.png") == true)
        }
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("bad.mp4").path))
    }

    @Test func cancellationStopsAndLeavesNoVideo() async throws {
        let dir = TempDir()
        try FileManager.default.copyItem(atPath: Fixtures.image, toPath: dir.url.appendingPathComponent("pic.png").path)
        let path = dir.write("job.yaml", Self.manifest)
        let out = dir.url.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let pipeline = Pipeline(options: PipelineOptions(outbox: out, cache: dir.url.appendingPathComponent("cache")))
        let composing = Flag()
        do {
            _ = try await pipeline.run(manifestPath: path, jobID: "c", progress: { if $0.stage == .compose { composing.set() } },
                                       isCancelled: { composing.isSet })
            Issue.record("finished despite cancellation")
        } catch {
            #expect(error.code == "job.cancelled")
        }
        #expect(try Sidecar.read(out.appendingPathComponent("job.json")).state == .cancelled)
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("job.mp4").path))
    }
}

final class Flag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}

import Synchronization

enum Fixtures {
    /// The example image shipped in inbox.example.
    static let image = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("inbox.example/storybook/stripes.png").path

    /// A 16-bit PCM WAV with a 440 Hz tone, written by hand (no tool needed).
    static func writeTone(to path: String, seconds: Double) throws {
        let rate = 44_100, n = Int(seconds * Double(rate))
        var data = Data()
        func le<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
        data.append(contentsOf: Array("RIFF".utf8)); le(UInt32(36 + n * 2))
        data.append(contentsOf: Array("WAVEfmt ".utf8)); le(UInt32(16)); le(UInt16(1)); le(UInt16(1))
        le(UInt32(rate)); le(UInt32(rate * 2)); le(UInt16(2)); le(UInt16(16))
        data.append(contentsOf: Array("data".utf8)); le(UInt32(n * 2))
        for i in 0..<n { le(Int16(sin(2 * Double.pi * 440 * Double(i) / Double(rate)) * 12000)) }
        try data.write(to: URL(fileURLWithPath: path))
    }
}

/// The user's own footage in a scene: trimmed from its start, looped or held, its sound under the narration.
@Suite(.serialized)
struct ClipTests {
    /// A 1.2 s clip at 25 fps whose frame N has luma 16 + 7N (limited range: 7N x 255/219 as read back), with a 440 Hz tone.
    func clip(in dir: TempDir) throws -> String {
        let path = dir.url.appendingPathComponent("clip.mp4").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
        p.arguments = ["-v", "error", "-y", "-f", "lavfi", "-i", "color=black:s=160x90:r=25:d=1.2,format=yuv420p,geq=lum='16+7*N':cb=128:cr=128",
                       "-f", "lavfi", "-i", "sine=f=440:d=1.2", "-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", path]
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        return path
    }

    func render(_ scene: String, in dir: TempDir) async throws -> (Sidecar, String) {
        let path = dir.write("job.yaml", "output: {width: 160, height: 90, fps: 25, quality: high}\nmusic: none\ncaptions: off\nscenes:\n" + scene)
        let out = dir.url.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let sidecar = try await Pipeline(options: PipelineOptions(outbox: out, cache: dir.url.appendingPathComponent("cache"))).run(manifestPath: path, jobID: "clip")
        return (sidecar, out.appendingPathComponent("job.mp4").path)
    }

    @Test func aShortClipLoopsFromItsStartOrHoldsItsLastFrame() async throws {
        let dir = TempDir()
        _ = try clip(in: dir)
        let (looped, loopVideo) = try await render("  - narration: A clip that loops while the voice goes on and on.\n    video: clip.mp4\n    start: 0.4\n", in: dir)
        #expect(looped.state == .done)
        // Scene frame k shows clip frame 10 + (k mod 20): its luma says which.
        for k in [0, 7, 19, 20, 27, 45] {
            let expected = Double(7 * (10 + k % 20)) * 255 / 219
            let mean = try MediaReader.lumaFrame(loopVideo, index: k).mean
            #expect(abs(mean - expected) < 3, "frame \(k): luma \(mean), expected clip frame \(10 + k % 20)")
        }
        let dir2 = TempDir()
        _ = try clip(in: dir2)
        let (_, holdVideo) = try await render("  - narration: A clip that holds its last frame while the voice goes on.\n    video: clip.mp4\n    fill: hold\n", in: dir2)
        for k in [29, 40, 60] {
            let mean = try MediaReader.lumaFrame(holdVideo, index: k).mean
            #expect(abs(mean - Double(7 * 29) * 255 / 219) < 3, "frame \(k): luma \(mean), expected the last clip frame")
        }
    }

    @Test func theClipsSoundIsMutedUnlessAsked() async throws {
        func level(_ volume: Double) async throws -> Float {
            let dir = TempDir()
            _ = try clip(in: dir)
            let (_, video) = try await render("  - narration: Sound.\n    video: clip.mp4\n    clip_volume: \(volume)\n", in: dir)
            // The lead-in before the narration: only the clip can sound there.
            let samples = try MediaReader.audioSamples(video)
            let lead = samples[0..<(2 * 48_000 / 5)]
            return (lead.reduce(0) { $0 + $1 * $1 } / Float(lead.count)).squareRoot()
        }
        let muted = try await level(0), heard = try await level(1)
        #expect(muted < 0.001 && heard > 0.01, "muted \(muted), heard \(heard)")
    }

    @Test func anUnreadableClipIsRefusedAtPlan() throws {
        let dir = TempDir()
        dir.write("bad.mp4", "not a video")
        let path = dir.write("a.yaml", "scenes:\n  - narration: Hi.\n    video: bad.mp4\n")
        #expect { try Pipeline.validate(manifestPath: path) } throws: { ($0 as? PipelineError)?.field == "scenes[0].video" }
    }
}

/// Renders `inbox.example/explainer` and writes four of its frames to `Docs/frames/`, the pictures the README
/// shows: they are made by this test on every run, so they cannot go stale.
struct ReadmeFramesTests {
    @Test func theExplainerRendersAndItsFramesAreWritten() async throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let example = repo.appendingPathComponent("inbox.example/explainer")
        let dir = TempDir()
        let job = dir.url.appendingPathComponent("explainer")
        try FileManager.default.copyItem(at: example, to: job)
        // Smaller than the example's 720p, so the test stays quick; everything else as a user gets it.
        let manifest = job.appendingPathComponent("manifest.yaml")
        let text = try String(contentsOf: manifest, encoding: .utf8).replacingOccurrences(of: "output: {height: 720}", with: "output: {height: 360, quality: draft}")
        try text.write(to: manifest, atomically: true, encoding: .utf8)
        let out = dir.url.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let sidecar = try await Pipeline(options: PipelineOptions(outbox: out, cache: dir.url.appendingPathComponent("cache"))).run(manifestPath: job.path, jobID: "explainer")
        #expect(sidecar.state == .done && sidecar.warnings == nil, "\(String(describing: sidecar.warnings))")
        let scenes = try #require(sidecar.scenes)
        let frames = repo.appendingPathComponent("Docs/frames")
        try FileManager.default.createDirectory(at: frames, withIntermediateDirectories: true)
        for (i, scene) in scenes.enumerated() {
            let png = frames.appendingPathComponent("explainer-\(i + 1).png").path
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
            p.arguments = ["-v", "error", "-y", "-ss", String(format: "%.2f", scene.start_s + min(scene.duration_s / 2, 2.2)),
                           "-i", out.appendingPathComponent("explainer.mp4").path, "-frames:v", "1", png]
            try p.run()
            p.waitUntilExit()
            #expect(p.terminationStatus == 0)
            let frame = try MediaReader.lumaFrame(png)
            #expect(frame.width == 640 && Set(frame.pixels).count > 50, "frame \(i + 1) looks empty")
        }
    }
}
