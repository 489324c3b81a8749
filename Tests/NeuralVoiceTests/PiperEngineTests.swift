import Engines
import Foundation
import Manifest
import Testing
import TestSupport
@testable import NeuralVoice

/// The voice through the Swift libtorch runtime against Python: the same TorchScript file in Python torch, and
/// the upstream ONNX voice in onnxruntime.
@Suite(.serialized, .enabled(if: PiperTestPack.pack.enabled, PiperTestPack.needs))
struct PiperEngineTests {
    static let noiseOff = PiperScales(noiseScale: 0, lengthScale: 1, noiseW: 0)
    static let paragraph = "Hello, world. The quick brown fox jumps over the lazy dog. Wait; there's more: 3.5 percent of 1,200 people said no."

    /// Tolerances: Swift and Python run the same TorchScript on the same libtorch build; onnxruntime computes
    /// the graph its own way (the export's stated tolerance, Docs/piper-voice.md).
    static let torchTolerance: Float = 1e-5
    static let onnxTolerance: Float = 1e-4

    @Test func swiftRuntimeEqualsPythonTorchAndOnnxruntime() async throws {
        let engine = try PiperTestPack.engine()
        let ids = try engine.sentences(Self.paragraph, config: PiperTestPack.config()).map(\.ids)
        #expect(ids.count == 3)
        let swift = try await PiperTestPack.forward(ids, scales: Self.noiseOff)
        let ref = try PythonReference.run(ids: ids, scales: Self.noiseOff)
        for i in ids.indices {
            #expect(swift[i].samples.count == ref.torch[i].count && swift[i].samples.count == ref.onnxruntime[i].count)
            #expect(swift[i].durations == ref.torchDurations[i])
            #expect(Int(swift[i].durations.reduce(0, +)) * 256 == swift[i].samples.count)
            let dTorch = Signal.maxAbsDiff(swift[i].samples, ref.torch[i]), dOnnx = Signal.maxAbsDiff(swift[i].samples, ref.onnxruntime[i])
            print("piper sentence \(i): \(ids[i].count) ids, \(swift[i].samples.count) samples, max|swift - python torch| = \(dTorch), max|swift - onnxruntime| = \(dOnnx)")
            #expect(dTorch <= Self.torchTolerance)
            #expect(dOnnx <= Self.onnxTolerance)
        }
    }

    /// The manifest's `noise_scale` / `noise_w` reach the model: both at 0 give the noise-off narration sample
    /// for sample; the pack's defaults (0.667 / 0.8) do not.
    @Test func manifestNoiseSettingsReachTheModel() async throws {
        let engine = try PiperTestPack.engine()
        let config = try PiperTestPack.config()
        var still = PiperEngine.voice()
        still.noiseScale = 0
        still.noiseW = 0
        let scales = engine.scales(for: still, config: config)
        #expect(scales.noiseScale == 0 && scales.noiseW == 0 && scales.lengthScale == 1)
        let text = "Hello, world. The quick brown fox jumps."
        let fromManifest = try await engine.narrate(text, voice: still)
        let noiseOff = try await engine.narrate(text, voice: PiperEngine.voice(), scales: Self.noiseOff)
        #expect(fromManifest.samples == noiseOff.samples)
        let packDefaults = try await engine.narrate(text, voice: PiperEngine.voice())
        #expect(packDefaults.samples != noiseOff.samples)
    }

    /// The whole narration (phonemize, sentences, join) against onnxruntime's sentences joined the same way.
    @Test func narrationLengthAndEnvelopeMatchOnnxruntime() async throws {
        let engine = try PiperTestPack.engine()
        let config = try PiperTestPack.config()
        let voice = PiperEngine.voice()
        let sentences = try engine.sentences(Self.paragraph, config: config)
        let ids = sentences.map(\.ids)

        // Noise off: the same samples, so the same length and envelope.
        let ours = try await engine.narrate(Self.paragraph, voice: voice, scales: Self.noiseOff)
        let ref = try PythonReference.run(ids: ids, scales: Self.noiseOff, torch: false)
        let joined = PiperEngine.join(sentences: sentences, audio: ref.onnxruntime.map { .init(samples: $0, durations: []) },
                                      sampleRate: config.sampleRate, hop: 256, gain: 1)
        #expect(ours.samples.count == joined.samples.count)
        let window = config.sampleRate / 50  // 20 ms
        let e1 = Signal.envelope(ours.samples, window: window), e2 = Signal.envelope(joined.samples, window: window)
        let envDiff = zip(e1, e2).reduce(0.0) { max($0, abs($1.0 - $1.1)) }
        let corr = Signal.correlation(e1, e2)
        print("piper narration, noise off: \(ours.samples.count) samples (onnxruntime \(joined.samples.count)), envelope max diff \(envDiff), correlation \(corr)")
        #expect(envDiff < 1e-3 && corr > 0.9999)

        // The voice's own noise: random numbers differ between torch and onnxruntime, so the timing differs a
        // little; the length and the loudness stay close.
        let noisy = try await engine.narrate(Self.paragraph, voice: voice)
        let scales = engine.scales(for: voice, config: config)
        let refNoisy = try PythonReference.run(ids: ids, scales: scales, torch: false)
        let joinedNoisy = PiperEngine.join(sentences: sentences, audio: refNoisy.onnxruntime.map { .init(samples: $0, durations: []) },
                                           sampleRate: config.sampleRate, hop: 256, gain: 1)
        let lengthRatio = Double(noisy.samples.count) / Double(joinedNoisy.samples.count)
        let rmsRatio = Signal.rms(noisy.samples) / Signal.rms(joinedNoisy.samples)
        print("piper narration, voice noise: length ratio swift/onnxruntime \(lengthRatio), RMS ratio \(rmsRatio)")
        #expect(abs(lengthRatio - 1) < 0.15)
        #expect(rmsRatio > 0.75 && rmsRatio < 1.33)
    }

    @Test func sameTextGivesTheSameSamples() async throws {
        let engine = try PiperTestPack.engine()
        let a = try await engine.narrate(Self.paragraph, voice: PiperEngine.voice())
        let b = try await engine.narrate(Self.paragraph, voice: PiperEngine.voice())
        #expect(a == b)
        // Through the SpeechEngine entry the pipeline uses.
        let c = try await (engine as any SpeechEngine).synthesize(Self.paragraph, voice: PiperEngine.voice())
        #expect(a == c)
    }

    @Test func wordTimingsFollowTheDurations() async throws {
        let engine = try PiperTestPack.engine()
        let n = try await engine.narrate(Self.paragraph, voice: PiperEngine.voice())
        #expect(n.sampleRate == 22_050)
        #expect(n.words.map(\.text).joined(separator: " ") == Self.paragraph)
        var last = 0.0
        for w in n.words {
            #expect(w.start >= last - 1e-9 && w.end > w.start && w.end <= n.duration + 1e-9, "\(w)")
            last = w.end
        }
        // Speech fills most of the narration; sentence pauses sit between words, not inside them.
        let spoken = n.words.reduce(0) { $0 + $1.end - $1.start }
        #expect(spoken > 0.6 * n.duration)
        #expect((n.samples.map(abs).max() ?? 0) > 0.1)
    }

    @Test func rateShortensTheNarration() async throws {
        let engine = try PiperTestPack.engine()
        let normal = try await engine.narrate(Self.paragraph, voice: PiperEngine.voice(rate: 1))
        let fast = try await engine.narrate(Self.paragraph, voice: PiperEngine.voice(rate: 2))
        let ratio = fast.duration / normal.duration
        #expect(ratio > 0.45 && ratio < 0.7, "\(ratio)")
    }
}

struct PiperEngineErrorTests {
    @Test func missingPackNamesTheInstallCommand() async throws {
        let dir = TempDir()
        let engine = PiperEngine(models: dir.url)
        do {
            _ = try await engine.synthesize("Hello.", voice: PiperEngine.voice())
            Issue.record("expected an error")
        } catch {
            #expect(error.code == "speech.pack_missing" && error.field == "voice.pack")
            #expect(error.message.contains("prostudio models install joe-medium --models \(dir.url.path)"), "\(error.message)")
        }
        #expect(engine.identity(for: PiperEngine.voice()).packHash == nil)
    }

    @Test func packOfAnotherKindIsRefused() throws {
        let dir = TempDir()
        let pack = dir.url.appendingPathComponent("joe-medium")
        try FileManager.default.createDirectory(at: pack, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: pack.appendingPathComponent("m.ts"))
        let json = #"{"format":1,"name":"joe-medium","kind":"speech","architecture":"hifigan-vocoder","dtype":"float32","memory_estimate_bytes":1,"licence":"x","source":"x","sample_rate":16000,"components":{"synthesizer":{"file":"m.ts","sha256":"2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"}}}"#
        try Data(json.utf8).write(to: pack.appendingPathComponent("pack.json"))
        do {
            _ = try PiperEngine(models: dir.url).pack(named: "joe-medium")
            Issue.record("expected an error")
        } catch {
            #expect(error.code == "speech.pack_invalid" && error.message.contains("vits-piper"), "\(error.message)")
        }
    }
}
