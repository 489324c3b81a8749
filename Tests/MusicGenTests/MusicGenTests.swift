import Engines
import Foundation
import Manifest
@testable import MusicGen
import Testing
import TestSupport
import TorchRuntime
import VideoDiffusion

/// The Swift engine against transformers' MusicGen on the same tiny pack (same weights, same ids).
@Suite(.serialized, .enabled(if: MusicTestPack.pack.enabled, MusicTestPack.needs)) struct MusicGenReferenceTests {
    static let ids: [Int64] = [7, 12, 1]  // "calm piano" would tokenize to a few ids; fixed here so the test reads plainly

    func setup() throws -> (MusicGenEngine, MusicGenSettings) {
        let engine = try MusicTestPack.engine()
        let (_, settings) = try engine.pack(named: MusicTestPack.name)
        return (engine, settings)
    }

    /// Greedy tokens equal transformers' generate, token for token; the codec's audio within 1e-4. Without and
    /// with classifier-free guidance (conditional and unconditional rows in one batch).
    @Test(arguments: [1.0, 3.0]) func greedyMatchesTransformers(guidance: Double) async throws {
        let (engine, settings) = try setup()
        let frames = 20  // under the tiny pack's 40-frame window: one window
        let codes = try await engine.generate(pack: MusicTestPack.name, settings: settings, ids: Self.ids, frames: frames,
                                              sampling: .greedy(guidance: guidance))
        let reference = try Reference.run(ids: Self.ids, newTokens: frames + settings.codebooks - 1, guidance: guidance)
        #expect(codes.map(\.count) == [Int](repeating: frames, count: settings.codebooks))
        #expect(codes == reference.codes)
        let audio = try await engine.decodeAll(pack: MusicTestPack.name, settings: settings, codes: codes)
        #expect(audio.count == reference.audio.count)
        let diff = zip(audio, reference.audio).map { abs($0 - $1) }.max() ?? .infinity
        #expect(diff < 1e-4, "max |swift - transformers| = \(diff)")
        #expect(audio.contains { abs($0) > 1e-6 })
    }

    /// Guidance changes the tokens (the unconditional half is really used).
    @Test func guidanceChangesTheTokens() async throws {
        let (engine, settings) = try setup()
        let plain = try await engine.generate(pack: MusicTestPack.name, settings: settings, ids: Self.ids, frames: 16, sampling: .greedy(guidance: 1))
        let guided = try await engine.generate(pack: MusicTestPack.name, settings: settings, ids: Self.ids, frames: 16, sampling: .greedy(guidance: 3))
        #expect(plain != guided)
    }

    /// A window that continues an audio prompt (as every window after the first does) equals transformers'
    /// generate given the same codes as decoder_input_ids.
    @Test func continuationMatchesTransformers() async throws {
        let (engine, settings) = try setup()
        let first = try await engine.generate(pack: MusicTestPack.name, settings: settings, ids: Self.ids, frames: 20, sampling: .greedy(guidance: 3))
        let prompt = first.map { Array($0.suffix(settings.musicgen.promptFrames)) }
        let next = 12
        let codes = try await engine.generate(pack: MusicTestPack.name, settings: settings, ids: Self.ids, frames: next,
                                              sampling: .greedy(guidance: 3), prompt: prompt)
        let reference = try Reference.run(ids: Self.ids, newTokens: next + settings.codebooks - 1, guidance: 3, prompt: prompt)
        // transformers returns the prompt and the continuation.
        #expect(reference.codes.map { Array($0.prefix(prompt[0].count)) } == prompt)
        #expect(codes == reference.codes.map { Array($0.dropFirst(prompt[0].count)) })
    }

    /// Longer than a window: several windows, each continuing the last; the first window's frames are exactly
    /// a one-window run's (same seed), and the bed is exactly the asked length at 48 kHz, stereo, not silent.
    @Test func windowsContinueAndTheBedHasTheExactLength() async throws {
        let (engine, settings) = try setup()
        let window = settings.musicgen.windowFrames
        let frames = window * 2 + 7
        let sampling = MusicSampling(guidance: 3, temperature: 1, topK: 20, topP: 0, seed: 42)
        let long = try await engine.generate(pack: MusicTestPack.name, settings: settings, ids: Self.ids, frames: frames, sampling: sampling)
        #expect(engine.report.windows == 1 + Int((Double(frames - window) / Double(window - settings.musicgen.promptFrames)).rounded(.up)))
        #expect(long.map(\.count) == [Int](repeating: frames, count: settings.codebooks))
        let one = try await engine.generate(pack: MusicTestPack.name, settings: settings, ids: Self.ids, frames: window, sampling: sampling)
        #expect(long.map { Array($0.prefix(window)) } == one)

        let seconds = Double(frames) / Double(settings.frameRate) - 0.1
        let rate = 48000
        let n = Int(seconds * Double(rate))
        let music = try JSONDecoder().decode(JobManifest.Music.self, from: Data(
            #"{"engine":"musicgen","mood":"calm","volume":0.25,"pack":"tiny-musicgen","seed":5,"guidance":3,"temperature":1}"#.utf8))
        let bed = try await engine.bed(frames: n, sampleRate: rate, music: music, seed: 1)
        #expect(bed.count == n * 2)
        #expect(bed.allSatisfy { $0.isFinite })
        let mid = bed[(n / 2 * 2)..<(n / 2 * 2 + 2000)]
        #expect(mid.contains { abs($0) > 1e-6 })
        #expect(zip(stride(from: 0, to: bed.count, by: 2), stride(from: 1, to: bed.count, by: 2)).allSatisfy { bed[$0] == bed[$1] })
        let again = try await engine.bed(frames: n, sampleRate: rate, music: music, seed: 1)
        #expect(again == bed)

        // The bed streams out block by block as the codec decodes; it is the whole-buffer bed of before: all the
        // codes decoded at once, resampled in one piece, doubled to stereo, then faded.
        let (pack, _) = try engine.pack(named: MusicTestPack.name)
        let tokenizer = try Tokenizer(settings: settings.text, packDirectory: pack.directory)
        let ids = MusicGenEngine.textIDs(tokenizer, MusicGenEngine.prompt(for: music), pad: settings.text.padID)
        let codes = try await engine.generate(pack: MusicTestPack.name, settings: settings, ids: ids,
                                               frames: (n * settings.frameRate + rate - 1) / rate,
                                               sampling: MusicGenEngine.sampling(for: music, settings: settings, jobSeed: 1))
        let audio = try await engine.decodeAll(pack: MusicTestPack.name, settings: settings, codes: codes)
        var resampler = StreamingResampler(from: settings.sampleRate, to: rate)
        let mono = resampler.process(audio) + resampler.finish()
        var whole = [Float](repeating: 0, count: n * 2)
        for i in 0..<min(n, mono.count) { whole[2 * i] = mono[i]; whole[2 * i + 1] = mono[i] }
        Fades.apply(&whole, sampleRate: rate, fadeIn: 0.5, fadeOut: 2)
        #expect(bed == whole)

        // A bed exactly one window long is one window (MusicGen's 30 s is 1,500 frames: no second window for a frame).
        _ = try await engine.bed(frames: window * rate / settings.frameRate, sampleRate: rate, music: music, seed: 1)
        #expect(engine.report.windows == 1 && engine.report.frames == window)
    }

    /// The bed, as the pipeline gets it, follows the job's seed: the same seed gives the same samples, another seed
    /// other music (the pack's codec codebooks are random, so other codes are other audio: with EnCodec's all-zero
    /// codebooks seeds 1 and 2 gave byte-identical beds).
    @Test func bedsFollowTheSeed() async throws {
        let (engine, settings) = try setup()
        let rate = 48000
        let n = 3 * rate  // several windows: the continuations too
        let music = try JSONDecoder().decode(JobManifest.Music.self, from: Data(
            #"{"engine":"musicgen","mood":"calm","volume":0.25,"pack":"tiny-musicgen","guidance":3,"temperature":1}"#.utf8))
        let one = try await engine.bed(frames: n, sampleRate: rate, music: music, seed: 1)
        let again = try await engine.bed(frames: n, sampleRate: rate, music: music, seed: 1)
        let two = try await engine.bed(frames: n, sampleRate: rate, music: music, seed: 2)
        #expect(one.count == n * 2 && two.count == n * 2)
        #expect(again == one)
        #expect(n * settings.frameRate / rate > 2 * settings.musicgen.windowFrames)
        // Not a rounding apart: the difference's RMS is over a tenth of the bed's (0.145 with the test pack; 0 with
        // all-zero codebooks). Left channel; both beds have the same fades.
        let body = stride(from: 0, to: n * 2, by: 2)
        let power = body.reduce(0.0) { $0 + Double(one[$1]) * Double(one[$1]) }
        let apart = body.reduce(0.0) { $0 + Double(one[$1] - two[$1]) * Double(one[$1] - two[$1]) }
        #expect(power > 0)
        #expect(apart > 0.01 * power, "seed 2's bed differs from seed 1's by \((apart / max(power, 1e-30)).squareRoot()) of its RMS")
    }

    /// Sampling follows the seed: same seed, same tokens; another seed, other tokens.
    @Test func samplingFollowsTheSeed() async throws {
        let (engine, settings) = try setup()
        func run(_ seed: UInt64) async throws -> [[Int32]] {
            try await engine.generate(pack: MusicTestPack.name, settings: settings, ids: Self.ids, frames: 16,
                                      sampling: MusicSampling(guidance: 3, temperature: 1.2, topK: 30, topP: 0.9, seed: seed))
        }
        let a = try await run(1), b = try await run(1), c = try await run(2)
        #expect(a == b)
        #expect(a != c)
    }
}

@Suite struct MusicGenPackErrorTests {
    func music(pack: String?) -> JobManifest.Music {
        var m = try! JSONDecoder().decode(JobManifest.Music.self, from: Data(#"{"engine":"musicgen","mood":"calm","volume":0.25}"#.utf8))
        m.pack = pack
        return m
    }

    @Test func missingPackNamesItAndSaysHowToMakeOne() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("musicgen-empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let engine = MusicGenEngine(models: dir)
        await #expect {
            _ = try await engine.bed(frames: 4800, sampleRate: 48000, music: music(pack: "musicgen-small"), seed: 1)
        } throws: { error in
            guard let e = error as? EngineError else { return false }
            return e.field == "music.pack" && e.code == "music.pack_missing" && e.message.contains("'musicgen-small'")
                && e.message.contains("export-musicgen")
        }
    }

    @Test(.enabled(if: MusicTestPack.pack.enabled, MusicTestPack.needs)) func aPackTooBigForTheMemoryIsRefusedBeforeLoading() async throws {
        let models = try MusicTestPack.models()
        let engine = MusicGenEngine(models: models, memoryLimitBytes: 1 << 20)
        await #expect {
            _ = try await engine.bed(frames: 4800, sampleRate: 48000, music: music(pack: MusicTestPack.name), seed: 1)
        } throws: { error in
            guard let e = error as? EngineError else { return false }
            return e.code == "music.out_of_memory" && e.message.contains("'\(MusicTestPack.name)'") && e.message.contains("1 MiB")
        }
    }

    @Test(.enabled(if: MusicTestPack.pack.enabled, MusicTestPack.needs)) func wrongKindOfPackIsRefused() async throws {
        let models = try MusicTestPack.models()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("musicgen-wrong-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let copy = dir.appendingPathComponent("not-music")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: models.appendingPathComponent(MusicTestPack.name), to: copy)
        let file = copy.appendingPathComponent("pack.json")
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as! [String: Any]
        json["name"] = "not-music"
        json["kind"] = "speech"
        json["architecture"] = "vits-piper"
        try JSONSerialization.data(withJSONObject: json).write(to: file)
        let engine = MusicGenEngine(models: dir)
        await #expect {
            _ = try await engine.bed(frames: 4800, sampleRate: 48000, music: music(pack: "not-music"), seed: 1)
        } throws: { error in
            guard let e = error as? EngineError else { return false }
            return e.field == "music.pack" && e.code == "music.pack_invalid" && e.message.contains("'not-music' is a speech pack")
        }
    }
}

@Suite struct MusicGenUnitTests {
    /// transformers' build_delay_pattern_mask for 4 codebooks, 8 columns, no prompt (its docstring's example).
    @Test func delayPatternMatchesTransformersDocstring() {
        let p = DelayPattern(prompt: [], newFrames: 4, codebooks: 4, pad: 9)
        #expect(p.length == 8)
        #expect(p.forced == [
            [9, -1, -1, -1, -1, 9, 9, 9],
            [9, 9, -1, -1, -1, -1, 9, 9],
            [9, 9, 9, -1, -1, -1, -1, 9],
            [9, 9, 9, 9, -1, -1, -1, -1],
        ])
        #expect(p.firstPredicted == 1)
    }

    @Test func delayPatternWithAPrompt() {
        let p = DelayPattern(prompt: [[1, 2], [3, 4]], newFrames: 2, codebooks: 2, pad: 9)
        #expect(p.forced == [[9, 1, 2, -1, -1, 9], [9, 9, 3, 4, -1, -1]])
        #expect(p.firstPredicted == 3)
        #expect(p.frames([[9, 1, 2, 5, 6, 9], [9, 9, 3, 4, 7, 8]]) == [[1, 2, 5, 6], [3, 4, 7, 8]])
    }

    /// 32 kHz -> 48 kHz: a 1 kHz tone keeps its amplitude and frequency, and block-by-block equals one block.
    @Test func resamplerKeepsATone() {
        let input = (0..<32000).map { Float(sin(2 * Double.pi * 1000 * Double($0) / 32000)) * 0.5 }
        var whole = StreamingResampler(from: 32000, to: 48000)
        let a = whole.process(input) + whole.finish()
        var parts = StreamingResampler(from: 32000, to: 48000)
        var b: [Float] = []
        for chunk in stride(from: 0, to: input.count, by: 777) { b += parts.process(Array(input[chunk..<min(input.count, chunk + 777)])) }
        b += parts.finish()
        #expect(a == b)
        #expect(abs(a.count - 48000) <= 20)
        // Compare with the ideal tone at 48 kHz away from the edges (the filter's delay is 0: taps are centred).
        var err: Float = 0
        for i in 1000..<47000 { err = max(err, abs(a[i] - Float(sin(2 * Double.pi * 1000 * Double(i) / 48000)) * 0.5)) }
        #expect(err < 0.01, "max error \(err)")
    }

    @Test func samplerGuidanceAndGreedy() {
        var s = TokenSampler(sampling: .greedy(guidance: 3), card: 3)
        // cond [0, 1, 0], uncond [0, 2, 0] -> uncond + 3 (cond - uncond) = [0, -1, 0]: argmax is the first 0.
        #expect(s.choose([0, 1, 0, 0, 2, 0], codebooks: 1) == [0])
        var plain = TokenSampler(sampling: .greedy(guidance: 1), card: 3)
        #expect(plain.choose([0, 1, 0], codebooks: 1) == [1])
    }

    @Test func promptComesFromTheMoodWhenMissing() throws {
        var m = try JSONDecoder().decode(JobManifest.Music.self, from: Data(#"{"engine":"musicgen","mood":"dramatic","volume":0.25}"#.utf8))
        #expect(MusicGenEngine.prompt(for: m).contains("dramatic"))
        m.title = "Tides of the North Sea"
        #expect(MusicGenEngine.prompt(for: m).hasSuffix("for \"Tides of the North Sea\""))
        m.prompt = "  solo cello  "
        #expect(MusicGenEngine.prompt(for: m) == "solo cello")
    }
}

/// The pack's text ids: the Swift unigram segmentation (VideoDiffusion's Tokenizer) against HF tokenizers'
/// Unigram model on the same vocabulary and scores.
@Suite(.enabled(if: MusicTestPack.pack.enabled, MusicTestPack.needs)) struct MusicGenTokenizerTests {
    @Test func swiftSegmentationEqualsHFUnigram() throws {
        let models = try MusicTestPack.models(), engine = try MusicTestPack.engine()
        let (pack, settings) = try engine.pack(named: MusicTestPack.name)
        let tokenizer = try Tokenizer(settings: settings.text, packDirectory: pack.directory)
        let texts = ["Calm piano music", "a warm, gentle synth bed", "xylophone 42", "upbeat lofi jazz with soft drums",
                     "dark cinematic strings"]
        let vocab = models.appendingPathComponent("\(MusicTestPack.name)/tokenizer.vocab").path
        let (status, output) = runTool("/bin/bash", [Repo.path("Tools/export/export-musicgen"), "--tokenize", vocab] + texts)
        try #require(status == 0, "musicgen_tokenize.py failed: \(output)")
        let json = try #require(output.split(separator: "\n").last.map { Data($0.utf8) })
        let expected = try JSONDecoder().decode([[Int64]].self, from: json)
        for (text, want) in zip(texts, expected) {
            var ids = MusicGenEngine.textIDs(tokenizer, text, pad: settings.text.padID)
            #expect(ids.last == Int64(settings.text.eosID ?? -1), "\(text): ends with </s>")
            ids.removeLast()
            #expect(ids == want, "\(text)")
        }
    }
}
