import Foundation
import Testing
import TestSupport
import Contract
import Media
@testable import Pipeline

/// The quality gate: each fault put into a real encoded file is caught by its check, a clean file passes every
/// check, and a job with a black scene nobody planned fails naming the check, the time and the file.
@Suite(.serialized)
struct QualityGateTests {
    static let checkNames = ["streams", "duration", "decodable", "av_offset", "loudness", "true_peak", "black", "frozen", "silence", "caption_speed"]

    /// 4 s at 10 fps, 320x180, of a moving test pattern (or what `graph` draws), with a tone at -16 LUFS (through the
    /// mix's own normaliser and limiter); `edit` changes the sound first.
    func file(_ dir: TempDir, frames: Int = 40, graph: String? = nil, edit: (inout [Float]) -> Void = { _ in }) throws -> String {
        let out = dir.url.appendingPathComponent("\(UUID().uuidString).mp4").path
        // Two tones, so the normaliser reaches its target without the limiter (white noise's crest would make the
        // limiter take 1.7 dB off: a fault of the fixture, not of a file).
        var audio = (0..<(2 * 48_000 * frames / 10)).map { i -> Float in
            let t = Double(i / 2) / 48_000
            return Float(0.1 * sin(2 * .pi * 440 * t) + 0.05 * sin(2 * .pi * 1_000 * t))
        }
        AudioMix.normalize(&audio, sampleRate: 48_000)
        edit(&audio)
        let spec = CompositionSpec(outputPath: out, width: 320, height: 180, fps: 10, frameCount: frames,
                                   videoGraph: graph ?? "testsrc2=s=320x180:r=10,format=yuv420p[out]", images: [:], audio: audio,
                                   encoder: EncoderSettings(preset: "ultrafast", crf: 23), posterFrame: 0, posterPath: nil)
        _ = try Composer.compose(spec)
        return out
    }

    /// What the test files were meant to be: 4 s, narration from 0.25 to 3.5 s, two cues.
    var plan: QualityPlan {
        var p = QualityPlan(width: 320, height: 180, fps: 10, frames: 40, embeddedCaptions: false, soundPlanned: true)
        p.narration = [(QualityPlan.Span(start: 0.25, end: 3.5), 0)]
        p.cues = [(0.25, 30, 1.6), (1.9, 28, 1.6)]
        return p
    }

    func failed(_ path: String, _ plan: QualityPlan) throws -> [Sidecar.QualityCheck] {
        let checks = QualityGate.checks(try MediaScanner.scan(path), plan: plan)
        #expect(checks.map(\.name) == Self.checkNames)
        return checks.filter { !$0.passed }
    }

    @Test func aCleanFilePassesEveryCheck() throws {
        let dir = TempDir()
        let bad = try failed(try file(dir), plan)
        #expect(bad.isEmpty, "\(bad)")
    }

    @Test func anUnplannedBlackStretchIsCaughtAndAPlannedOneIsNot() throws {
        let dir = TempDir()
        let graph = "testsrc2=s=320x180:r=10:d=1.5,format=yuv420p[a];color=c=black:s=320x180:r=10:d=1.5,format=yuv420p[b];"
            + "testsrc2=s=320x180:r=10:d=1,format=yuv420p[c];[a][b][c]concat=n=3:v=1:a=0[out]"
        let path = try file(dir, graph: graph)
        let bad = try failed(path, plan)
        #expect(bad.map(\.name) == ["black"], "\(bad)")
        let black = try #require(bad.first)
        #expect(abs((black.at_s ?? -1) - 1.5) < 0.01 && abs((black.value ?? 0) - 1.5) < 0.01, "\(black)")
        var planned = plan
        planned.mayBeBlack = [.init(start: 1.4, end: 3.1)]
        #expect(try failed(path, planned).isEmpty)
    }

    @Test func silentNarrationIsCaught() throws {
        let dir = TempDir()
        let path = try file(dir) { audio in for i in (2 * 48_000)..<(2 * 48_000 * 3) { audio[i] = 0 } }
        let bad = try failed(path, plan)
        let silence = try #require(bad.first { $0.name == "silence" }, "\(bad)")
        #expect(abs((silence.at_s ?? -1) - 1) < 0.06 && abs((silence.value ?? 0) - 2) < 0.1, "\(silence)")
    }

    @Test func aFileCutShortIsCaught() throws {
        let dir = TempDir()
        let short = try failed(try file(dir, frames: 30), plan)
        #expect(Set(short.map(\.name)).isSuperset(of: ["duration", "decodable"]), "\(short)")
        // Cut on disk after it was written: the header still promises 4 s, the frames do not come.
        let path = try file(dir)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: path))
        let cut = try failed(path, plan)
        #expect(cut.contains { $0.name == "decodable" }, "\(cut)")
    }

    @Test func loudnessFarOffTargetIsCaught() throws {
        let dir = TempDir()
        let quiet = try failed(try file(dir) { audio in for i in audio.indices { audio[i] *= 0.05 } }, plan)
        let loudness = try #require(quiet.first { $0.name == "loudness" }, "\(quiet)")
        #expect((loudness.value ?? 0) < -40, "\(loudness)")
        #expect(!quiet.contains { $0.name == "silence" }, "quiet is not silent")
        // Under target only because the limiter holds the peaks at its ceiling (a peaky voice): passes, saying so.
        var scan = try MediaScanner.scan(try file(dir))
        scan.loudness = -17.4; scan.truePeak = -1.3
        let held = QualityGate.checks(scan, plan: plan)
        let heldLoudness = try #require(held.first { $0.name == "loudness" })
        #expect(heldLoudness.passed && heldLoudness.detail.contains("peak limiter"), "\(heldLoudness)")
        scan.truePeak = -6
        #expect(QualityGate.checks(scan, plan: plan).first { $0.name == "loudness" }?.passed == false, "quiet with headroom is a fault")
        // Louder than the limiter allows: loudness and true peak both.
        let loud = try failed(try file(dir) { audio in for i in audio.indices { audio[i] = max(-1, min(1, audio[i] * 4)) } }, plan)
        #expect(Set(loud.map(\.name)).isSuperset(of: ["loudness", "true_peak"]), "\(loud)")
    }

    @Test func captionsTooFastToReadAreCaught() throws {
        let dir = TempDir()
        var p = plan
        p.cues.append((3.0, 40, 1.0))
        let bad = try failed(try file(dir), p)
        let speed = try #require(bad.first { $0.name == "caption_speed" })
        #expect(speed.value == 40 && speed.at_s == 3.0)
    }

    // MARK: whole jobs

    static func manifest(_ extra: String = "") -> String {
        """
        title: Quality
        seed: 5
        output: {width: 320, height: 180, fps: 15, quality: draft}
        transitions: {type: crossfade, duration: 0.4}
        \(extra)
        scenes:
          - narration: The first scene has a picture. It moves slowly.
            image: pic.png
          - narration: The second scene should show something, but its picture is black.
            image: black.png
          - narration: And the third one ends it.
            prompt: an autumn forest
        """
    }

    func job(_ text: String, in dir: TempDir, black: Bool) async throws -> (Sidecar, URL) {
        let pic = dir.url.appendingPathComponent("pic.png").path
        if !FileManager.default.fileExists(atPath: pic) { try FileManager.default.copyItem(atPath: Fixtures.image, toPath: pic) }
        let second = dir.url.appendingPathComponent("black.png").path
        // The "black" scene's picture: black, or the same picture as the first when the job is meant to be clean.
        if black {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
            p.arguments = ["-v", "error", "-y", "-f", "lavfi", "-i", "color=c=black:s=640x360", "-frames:v", "1", second]
            try p.run(); p.waitUntilExit()
            #expect(p.terminationStatus == 0)
        } else {
            try FileManager.default.copyItem(atPath: Fixtures.image, toPath: second)
        }
        let path = dir.write("job.yaml", text)
        let out = dir.url.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let pipeline = Pipeline(options: PipelineOptions(outbox: out, cache: dir.url.appendingPathComponent("cache")))
        do {
            return (try await pipeline.run(manifestPath: path, jobID: "test-quality"), out)
        } catch {
            return (try Sidecar.read(out.appendingPathComponent("job.json")), out)
        }
    }

    @Test func aCleanJobPassesEveryCheck() async throws {
        let dir = TempDir()
        let (sidecar, out) = try await job(Self.manifest(), in: dir, black: false)
        #expect(sidecar.state == .done, "\(String(describing: sidecar.error))")
        let quality = try #require(try Sidecar.read(out.appendingPathComponent("job.json")).quality)
        #expect(quality.status == "passed" && quality.file == "job.mp4" && quality.on_fail == "fail")
        #expect(quality.checks.map(\.name) == Self.checkNames)
        for check in quality.checks { #expect(check.passed, "\(check.name): \(check.detail)") }
        print("quality gate on a clean job:", quality.checks.map { "\($0.name)=\($0.value.map { String(format: "%.3f", $0) } ?? "-")" }.joined(separator: " "),
              "in \(quality.seconds) s")
    }

    @Test func aJobWithAnUnplannedBlackSceneFailsNamingTheCheckTimeAndFile() async throws {
        let dir = TempDir()
        let (sidecar, out) = try await job(Self.manifest(), in: dir, black: true)
        #expect(sidecar.state == .failed)
        let error = try #require(sidecar.error)
        #expect(error.code == "quality.black" && error.stage == "publish", "\(error)")
        let scene = try #require(sidecar.scenes?[1])
        let black = try #require(sidecar.quality?.checks.first { $0.name == "black" })
        // The black starts within the crossfade into the second scene.
        #expect(abs((black.at_s ?? -9) - scene.start_s) < 0.5, "black at \(String(describing: black.at_s)), scene 2 at \(scene.start_s)")
        #expect(error.message.contains("job.mp4") && error.message.contains(String(format: "at %.2f s", black.at_s ?? 0)), "\(error.message)")
        #expect(sidecar.quality?.status == "failed")
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("job.mp4").path), "a failed video was published")
    }

    @Test func flaggedNotFailedWhenTheManifestSaysSo() async throws {
        let dir = TempDir()
        let (sidecar, out) = try await job(Self.manifest("quality: {on_fail: flag}"), in: dir, black: true)
        #expect(sidecar.state == .done, "\(String(describing: sidecar.error))")
        let quality = try #require(try Sidecar.read(out.appendingPathComponent("job.json")).quality)
        #expect(quality.status == "flagged" && quality.on_fail == "flag")
        #expect(quality.checks.contains { $0.name == "black" && !$0.passed })
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("job.mp4").path))
    }
}
