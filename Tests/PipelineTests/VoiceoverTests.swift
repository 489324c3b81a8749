import Engines
import Foundation
import Manifest
import Media
import Testing
import TestSupport
@testable import Pipeline

/// `narration_audio`: the producer's recording is heard, sets the scene's length, and the captions follow it.
/// The "recording" here is espeak at 0.75 of its normal speed and a lower pitch, whose own word times are the truth.
@Suite(.serialized)
struct VoiceoverTests {
    static let text = "Every morning the baker opens the shop at six. Fresh bread fills the window, and the street slowly wakes up around it."

    static func recording(to path: String, level: Float = 1) throws -> Narration {
        var voice = JobManifest.Voice(engine: .espeak)
        voice.rate = 0.75; voice.pitch = 0.7
        let n = try EspeakEngine().synthesize(text, voice: voice)
        var data = Data()
        func le<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
        let count = n.samples.count
        data.append(contentsOf: Array("RIFF".utf8)); le(UInt32(36 + count * 2))
        data.append(contentsOf: Array("WAVEfmt ".utf8)); le(UInt32(16)); le(UInt16(1)); le(UInt16(1))
        le(UInt32(n.sampleRate)); le(UInt32(n.sampleRate * 2)); le(UInt16(2)); le(UInt16(16))
        data.append(contentsOf: Array("data".utf8)); le(UInt32(count * 2))
        for s in n.samples { le(Int16(max(-1, min(1, s * level)) * 32_000)) }
        try data.write(to: URL(fileURLWithPath: path))
        return n
    }

    @Test func wordsAreAlignedToTheRecording() throws {
        let dir = TempDir()
        let truth = try Self.recording(to: dir.url.appendingPathComponent("take.wav").path)
        let synthetic = try EspeakEngine().synthesize(Self.text, voice: JobManifest.Voice(engine: .espeak))
        let aligned = Voiceover.align(synthetic.words, synthetic: synthetic.samples, recording: truth.samples, sampleRate: truth.sampleRate)
        #expect(aligned.count == truth.words.count)
        let errors = zip(aligned, truth.words).map { abs($0.start - $1.start) }
        // Unaligned (the voice's own times) most words are off by far more than this.
        #expect(errors.max() ?? 1 < 0.15, "onset errors \(errors.map { Int($0 * 1000) }) ms")
    }

    /// A take recorded 26 dB too quietly is heard at the voice's loudness, like a synthetic voice.
    @Test func quietTakeIsBroughtToTheVoicesLoudness() async throws {
        let dir = TempDir()
        let take = dir.url.appendingPathComponent("quiet.wav").path
        _ = try Self.recording(to: take, level: 0.05)
        let manifest = try ManifestLoader.load(path: dir.write("q.yaml", "voice: {engine: espeak}\nscenes:\n  - narration: \(Self.text)\n    narration_audio: quiet.wav\n"))
        let scene = manifest.scenes[0], voice = scene.voice
        let out = dir.url.appendingPathComponent("out.f32")
        let writer = try SampleFile.Writer(url: out)
        let n = try await Voiceover.speak(scene: scene, recording: try #require(scene.narrationAudio), field: "scenes[0].narration_audio", voice: voice, lexicon: [:],
                                    engine: EspeakEngine(), scratch: dir.url.appendingPathComponent("scratch.f32"), into: writer)
        try writer.close()
        let heard = try SampleFile.Reader(url: out).read(0..<n.frames)
        let spoken = try EspeakEngine().synthesize(Self.text, voice: voice)
        func lufs(_ mono: [Float]) -> Double { AudioMix.integratedLoudness(mono.flatMap { [$0, $0] }, sampleRate: n.sampleRate) }
        #expect(abs(lufs(heard) - lufs(spoken.samples)) < 1, "take \(lufs(heard)) LUFS, voice \(lufs(spoken.samples)) LUFS")
        #expect(!FileManager.default.fileExists(atPath: dir.url.appendingPathComponent("scratch.f32").path))
    }

    @Test func recordedSceneRendersWithCaptionsOnTheRecording() async throws {
        let dir = TempDir()
        let truth = try Self.recording(to: dir.url.appendingPathComponent("take.wav").path)
        let path = dir.write("vo.yaml", """
        output: {width: 320, height: 180, fps: 15, quality: draft}
        voice: {engine: espeak}
        music: {engine: none}
        scenes:
          - narration: \(Self.text)
            narration_audio: take.wav
        """)
        let out = dir.url.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let sidecar = try await Pipeline(options: PipelineOptions(outbox: out, cache: dir.url.appendingPathComponent("cache"))).run(manifestPath: path, jobID: "vo")
        #expect(sidecar.state == .done, "\(String(describing: sidecar.error))")
        #expect(sidecar.engines["speech"]?.hasPrefix("narration_audio") == true)
        let scene = try #require(sidecar.scenes?.first)
        let length = Double(truth.samples.count) / Double(truth.sampleRate)
        #expect(abs((scene.narration_end_s - scene.narration_start_s) - length) < 0.02, "narration \(scene.narration_end_s - scene.narration_start_s) s vs recording \(length) s")

        // Each cue starts when its first word is spoken in the recording.
        let cues = SRT.parse(try String(contentsOf: out.appendingPathComponent("vo.srt"), encoding: .utf8))
        #expect(cues.count >= 2)
        var next = 0
        for cue in cues {
            let first = cue.text.split(whereSeparator: \.isWhitespace).first.map(String.init) ?? ""
            let index = try #require(truth.words[next...].firstIndex { $0.text.lowercased().hasPrefix(first.lowercased().trimmingCharacters(in: .punctuationCharacters)) })
            let expected = scene.narration_start_s + truth.words[index].start
            #expect(abs(cue.start - expected) < 0.15, "cue \"\(cue.text)\" at \(cue.start) s, spoken at \(expected) s")
            next = index + 1
        }
    }
}
