import Engines
import Foundation
import Manifest
import Media
import Testing
import TestSupport
@testable import NeuralVoice
import Pipeline

/// A manifest rendered with `voice: {engine: piper}` through the real pipeline.
@Suite(.serialized, .enabled(if: PiperTestPack.pack.enabled, PiperTestPack.needs))
struct NeuralRenderTests {
    static let scenes = [
        "This voice is a neural network. It runs through libtorch.",
        "Each sentence is spoken separately, then joined.",
    ]
    static let manifest = """
    title: Neural voice
    seed: 3
    output: {width: 160, height: 90, fps: 10, quality: draft}
    voice: {engine: piper, pack: joe-medium, rate: 1.0}
    music: {mood: calm, volume: 0}
    captions: sidecar
    scenes:
      - narration: \(scenes[0])
        prompt: a calm sea
      - narration: \(scenes[1])
        prompt: a forest
    """

    @Test func manifestWithTheNeuralVoiceRenders() async throws {
        let engine = try PiperTestPack.engine()
        let dir = TempDir()
        let path = dir.url.appendingPathComponent("neural.yaml")
        try Data(Self.manifest.utf8).write(to: path)
        let out = dir.url.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        var engines = EngineSet.embedded
        engines.speech[.piper] = engine  // the suite's engine: its model is already loaded
        let pipeline = Pipeline(options: PipelineOptions(outbox: out, cache: dir.url.appendingPathComponent("cache"), models: try PiperTestPack.models()),
                                engines: engines)
        let sidecar = try await pipeline.run(manifestPath: path.path, jobID: "neural")
        #expect(sidecar.state == .done)
        #expect(sidecar.engines["speech"]?.hasPrefix("piper 1 pack:") == true, "\(sidecar.engines)")
        let scenes = try #require(sidecar.scenes)
        #expect(scenes.count == 2)

        // Each narration lasts what the model's phoneme durations say (frames × hop, plus sentence pauses).
        let config = try PiperTestPack.config()
        let voice = PiperEngine.voice()
        for (i, text) in Self.scenes.enumerated() {
            let sentences = try engine.sentences(text, config: config)
            let out = try await PiperTestPack.forward(sentences.map(\.ids), scales: engine.scales(for: voice, config: config))
            let frames = out.reduce(0.0) { $0 + Double($1.durations.reduce(0, +)) }
            let estimate = frames * 256 / Double(config.sampleRate) + Double(sentences.count - 1) * PiperEngine.sentencePause
            let actual = scenes[i].narration_end_s - scenes[i].narration_start_s
            #expect(abs(actual - estimate) <= 0.1 * estimate, "scene \(i): narration \(actual) s, estimate \(estimate) s")
        }

        // Narration is audible where the sidecar puts it (the music is silenced).
        let audio = try MediaReader.audioSamples(out.appendingPathComponent("neural.mp4").path)
        for s in scenes {
            let a = Int(s.narration_start_s * 48_000) * 2, b = min(audio.count, Int(s.narration_end_s * 48_000) * 2)
            #expect(b > a && Signal.rms(audio[a..<b]) > 0.02, "RMS \(b > a ? Signal.rms(audio[a..<b]) : 0)")
        }

        // Captions inside the narrations.
        let cues = SRT.parse(try String(contentsOf: out.appendingPathComponent("neural.srt"), encoding: .utf8))
        #expect(cues.count >= 2)
        for cue in cues {
            #expect(cue.end > cue.start)
            #expect(scenes.contains { cue.start >= $0.narration_start_s - 0.001 && cue.end <= $0.narration_end_s + 0.001 }, "\(cue)")
        }
    }
}
