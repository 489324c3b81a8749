import Foundation
import Testing
@testable import Media

struct ComposerTests {
    @Test func tinyCompositionRoundTrips() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("composer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("t.mp4").path
        let poster = dir.appendingPathComponent("t.jpg").path
        let frames = 25
        let spec = CompositionSpec(outputPath: out, width: 128, height: 72, fps: 25, frameCount: frames,
                                   videoGraph: "color=c=0x336699:s=128x72:r=25:d=2,format=yuv420p[out]", images: [:],
                                   audio: [Float](repeating: 0.1, count: 48_000 * 2), encoder: EncoderSettings(preset: "ultrafast", crf: 30),
                                   posterFrame: 3, posterPath: poster, embeddedCaptions: [Cue(start: 0.1, end: 0.6, text: "hello")])
        let report = try Composer.compose(spec)
        #expect(report.framesWritten == frames)
        let info = try MediaReader.probe(out)
        #expect(info.first(.video)?.frames == frames)
        #expect(abs((info.first(.video)?.duration ?? 0) - 1.0) < 0.001)
        #expect(info.first(.subtitle)?.codec == "mov_text")
        let luma = try MediaReader.lumaFrame(poster)
        #expect(luma.width == 128)
        #expect(abs(luma.mean - 89) < 6, "poster luma \(luma.mean)") // 0x336699 is luma ~89 full range
    }

    @Test func aBrokenGraphIsAClearError() {
        let spec = CompositionSpec(outputPath: "/tmp/never-\(UUID().uuidString).mp4", width: 64, height: 64, fps: 10, frameCount: 5,
                                   videoGraph: "nosuchfilter[out]", images: [:], audio: [], encoder: EncoderSettings(preset: "ultrafast", crf: 30),
                                   posterFrame: 0, posterPath: nil)
        #expect(throws: MediaError.self) { try Composer.compose(spec) }
    }

    @Test func srtRoundTrips() {
        let cues = [Cue(start: 0.25, end: 1.5, text: "Hello"), Cue(start: 61.004, end: 3725.5, text: "Later")]
        let parsed = SRT.parse(SRT.document(cues: cues))
        #expect(parsed.count == 2)
        #expect(parsed[1].start == 61.004 && parsed[1].end == 3725.5 && parsed[1].text == "Later")
    }
}

/// Frames made in Swift, pulled by the graph one at a time.
final class GrayRamp: FrameIterator {
    let width: Int, height: Int, count: Int
    private(set) var served = 0
    init(width: Int, height: Int, count: Int) { self.width = width; self.height = height; self.count = count }
    func next() throws -> [UInt8]? {
        guard served < count else { return nil }
        defer { served += 1 }
        return [UInt8](repeating: UInt8(min(255, 20 + served * 10)), count: width * height * 3)
    }
}

struct FrameStreamTests {
    @Test func computedFramesFlowThroughTheGraphInOrder() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stream-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("s.mp4").path
        // A 32x32 model output scaled up to the 64x64 video, as a video engine's frames would be.
        let stream = FrameStream(width: 32, height: 32) { GrayRamp(width: 32, height: 32, count: 12) }
        let spec = CompositionSpec(outputPath: out, width: 64, height: 64, fps: 10, frameCount: 12,
                                   videoGraph: "[vid]scale=64:64,format=yuv420p[out]", images: [:],
                                   audio: [Float](repeating: 0, count: 48_000 * 2 * 12 / 10), encoder: EncoderSettings(preset: "ultrafast", crf: 1),
                                   posterFrame: 0, posterPath: nil, streams: ["vid": stream])
        let report = try Composer.compose(spec)
        #expect(report.framesFromGraph == 12)
        let first = try MediaReader.lumaFrame(out, index: 0).mean
        let last = try MediaReader.lumaFrame(out, index: 11).mean
        #expect(abs(first - 20) < 4 && abs(last - 130) < 4, "first \(first), last \(last)")
    }
}

extension FrameStreamTests {
    /// A model's frames crossfaded into a filter-drawn scene (a mixed job): the rates must agree.
    @Test func computedFramesCrossfadeWithASourceFilter() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("xfade-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("x.mp4").path
        let stream = FrameStream(width: 32, height: 32) { GrayRamp(width: 32, height: 32, count: 12) }
        let graph = "[vid]scale=64:64,setsar=1,format=yuv420p[a];color=c=white:s=64x64:r=10:d=2,format=yuv420p,setsar=1[b];"
            + "[a][b]xfade=transition=fade:duration=0.4:offset=0.8[out]"
        let spec = CompositionSpec(outputPath: out, width: 64, height: 64, fps: 10, frameCount: 28, videoGraph: graph, images: [:],
                                   audio: [Float](repeating: 0, count: 48_000 * 2 * 28 / 10), encoder: EncoderSettings(preset: "ultrafast", crf: 1),
                                   posterFrame: 0, posterPath: nil, streams: ["vid": stream])
        let report = try Composer.compose(spec)
        #expect(report.framesFromGraph == 28)
        #expect(try MediaReader.lumaFrame(out, index: 27).mean > 230)
    }
}

struct ConcurrentComposeTests {
    /// Filtering on its own thread changes when frames are made, not what they are: the same job composed both
    /// ways decodes to the same pictures. Lossless (crf 0), because x264's threaded lookahead picks frame types by
    /// how many frames it holds when it decides, so lossy encodes of the same input differ by a few units
    /// (~60 dB PSNR) when the machine is loaded; lossless pictures are the input whatever the encoder decided.
    @Test func concurrentAndTurnTakingComposeGiveTheSameFrames() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("conc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let graph = "gradients=s=80x45:r=15:d=3:speed=0.01:nb_colors=3:c0=0x336699:c1=0xAA5522:c2=0x22AA55:seed=5,scale=320:180,trim=end_frame=30,setsar=1,format=yuv420p[a];"
            + "color=c=0x808080:s=320x180:r=15:d=3,format=yuv420p,setsar=1[b];[a][b]xfade=transition=fade:duration=0.5:offset=1.5,format=yuv420p[out]"
        var outputs: [String] = []
        for concurrent in [true, false] {
            let out = dir.appendingPathComponent("\(concurrent).mp4").path
            var spec = CompositionSpec(outputPath: out, width: 320, height: 180, fps: 15, frameCount: 45, videoGraph: graph, images: [:],
                                       audio: [Float](repeating: 0, count: 48_000 * 2 * 3), encoder: EncoderSettings(preset: "veryfast", crf: 0),
                                       posterFrame: 10, posterPath: nil)
            spec.concurrent = concurrent
            let report = try Composer.compose(spec)
            #expect(report.framesWritten == 45)
            outputs.append(out)
        }
        for i in 0..<45 {
            #expect(try MediaReader.lumaFrame(outputs[0], index: i) == MediaReader.lumaFrame(outputs[1], index: i), "frame \(i)")
        }
    }

    /// Stopping mid-way ends the filter thread and leaves no file.
    @Test func stoppingEndsTheFilterThreadCleanly() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("stop-\(UUID().uuidString).mp4").path
        let spec = CompositionSpec(outputPath: out, width: 320, height: 180, fps: 15, frameCount: 300,
                                   videoGraph: "color=c=red:s=320x180:r=15:d=20,format=yuv420p[out]", images: [:],
                                   audio: [Float](repeating: 0, count: 48_000 * 2 * 20), encoder: EncoderSettings(preset: "ultrafast", crf: 30),
                                   posterFrame: 0, posterPath: nil)
        var calls = 0
        #expect(throws: MediaError.self) { try Composer.compose(spec, shouldContinue: { calls += 1; return calls < 3 }) }
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}

/// The video drawn scene by scene (one small graph each, crossfades blended between two) against the same
/// composition drawn as one graph with trim, xfade and concat: the same pictures, frame for frame.
struct SceneByScene {
    @Test func sceneBySceneDrawsWhatTheWholeGraphDraws() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("seg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let picture = dir.appendingPathComponent("p.png").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
        p.arguments = ["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=480x270", "-frames:v", "1", picture]
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)

        let (fps, t) = (15, 6)
        let pictures: [ScenePicture] = [
            .background(Background(look: .gradient, colors: [0x1E3A8A, 0x93C5FD], speed: 0.02, seed: 1)),
            .still(Still(path: picture, move: KenBurns(zoomIn: true, zoom: 0.1, panX: 0.2, panY: 0),
                         backdrop: Background(colors: [0x202020, 0x404040], speed: 0.01, seed: 2))),
            .background(Background(look: .bokeh, colors: [0xAA3322, 0xF0C040], speed: 0.02, seed: 3)),
        ]
        let lengths = [20, 24, 18]
        var scenes: [Composition.Scene] = []
        var start = 0
        for (i, picture) in pictures.enumerated() {
            scenes.append(.init(picture: picture, start: start, frames: lengths[i] + (i < 2 ? t : 0)))
            start += lengths[i]
        }
        let total = lengths.reduce(0, +)
        var outputs: [String] = []
        for segmented in [true, false] {
            var c = Composition(outputPath: dir.appendingPathComponent("\(segmented).mp4").path, width: 320, height: 180, fps: fps,
                                frameCount: total, scenes: scenes, crossfadeFrames: t,
                                burnedCaptions: [Cue(start: 0.2, end: 3.5, text: "Scene by scene")],
                                audio: [Float](repeating: 0, count: 48_000 * 2 * total / fps + 4_800), quality: .high, posterFrame: 0, posterPath: nil)
            c.segmented = segmented
            #expect(SceneSequence.fits(c.scenes.map { ($0.start, $0.frames) }, crossfade: t))
            let report = try Composer.compose(c)
            #expect(report.framesWritten == total)
            outputs.append(c.outputPath)
        }
        // Inside scenes, inside both crossfades (their first, middle and last frames) and the last frame. xfade
        // blends in yuv444p with truncation, the sequence in yuv420p with rounding: half a level apart on average
        // (0.3 inside scenes, 0.9 in crossfades, measured), the rest is the encoder's.
        for i in [0, 10, 19, 20, 23, 25, 30, 44, 45, 47, 50, total - 1] {
            let a = try MediaReader.lumaFrame(outputs[0], index: i), b = try MediaReader.lumaFrame(outputs[1], index: i)
            let diff = LooksTests.difference(a, b)
            #expect(diff < 1.5, "frame \(i): mean luma difference \(diff)")
        }
        // The crossfade really blends: its middle frame is neither scene's picture.
        let before = try MediaReader.lumaFrame(outputs[0], index: 19), middle = try MediaReader.lumaFrame(outputs[0], index: 23)
        let after = try MediaReader.lumaFrame(outputs[0], index: 26)
        #expect(LooksTests.difference(before, middle) > 3 && LooksTests.difference(after, middle) > 3)
    }
}
