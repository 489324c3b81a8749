import Captions
import Engines
import Foundation
import Media
import Testing
import TestSupport
@testable import NeuralVoice

/// The caption corpus's English sentences spoken by the Piper voice: its words come back by text only, so
/// this holds the forward reading of the script (CaptionAligner) to the same audit as espeak's offsets.
@Suite(.serialized, .enabled(if: PiperTestPack.pack.enabled, PiperTestPack.needs))
struct PiperCaptionTests {
    static let sentences: [String] = {
        let url = Repo.root.appendingPathComponent("Tests/CaptionsTests/Fixtures/corpus.txt")
        let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("en-us\t") else { return nil }
            return String(line.dropFirst(6))
        }
    }()

    @Test func englishCorpusCaptionsCarryTheScriptExactly() async throws {
        let engine = try PiperTestPack.engine()
        #expect(Self.sentences.count >= 40)
        let rules = CaptionRules(maxCharacters: 42)
        var voicedWords = 0, words = 0
        for text in Self.sentences {
            let narration = try await engine.narrate(text, voice: PiperEngine.voice())
            let window = 0...(0.25 + narration.duration + 0.45)
            let cues = CaptionLayout.track([SceneCaptions(script: text, narration: narration, offset: 0.25, window: window)], rules: rules)
            let problems = CaptionAudit.problems(script: text, narration: narration, offset: 0.25, window: window, cues: cues, rules: rules)
            #expect(problems.isEmpty, "\(text): \(problems)")
            let timed = CaptionAligner.align(script: text, voice: narration.words, duration: narration.duration)
            voicedWords += timed.filter(\.voiced).count
            words += timed.count
        }
        // Piper names most words itself; only the ones its phonemizer merged are interpolated.
        #expect(Double(voicedWords) > 0.8 * Double(words), "\(voicedWords) of \(words) words timed by the voice")
    }
}
