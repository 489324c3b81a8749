import Engines
import Foundation
import Testing
import TestSupport
@testable import NeuralVoice

/// Text → phonemes → ids, against the reference phonemizer's fixture (Tools/export/piper_phonemize.py).
struct PhonemizerTests {
    struct Fixture: Decodable {
        struct Case: Decodable {
            struct Clause: Decodable { var text: String; var punctuation: String }
            struct Sentence: Decodable { var phonemes: String; var ids: [Int] }
            var text: String
            var clauses: [Clause]
            var sentences: [Sentence]
        }
        var cases: [Case]
    }

    static let fixture: Fixture = try! JSONDecoder().decode(
        Fixture.self, from: Data(contentsOf: URL(fileURLWithPath: Repo.path("Tools/export/tests/fixtures/phonemes.json"))))

    /// An id map that knows every code point of `ipa` (and the punctuation), for tests without a pack.
    static func everyScalar(_ ipa: [String]) -> [String: [Int]] {
        var map: [String: [Int]] = ["_": [0], "^": [1], "$": [2]]
        for line in ipa + [" ,.;:!?"] {
            for s in line.decomposedStringWithCanonicalMapping.unicodeScalars where map[String(s)] == nil { map[String(s)] = [map.count] }
        }
        return map
    }

    @Test func clausesSplitLikeTheReference() {
        for c in Self.fixture.cases {
            let clauses = PiperText.splitClauses(c.text)
            #expect(clauses.map(\.text) == c.clauses.map(\.text), "\(c.text)")
            #expect(clauses.map { $0.mark.map(String.init) ?? "" } == c.clauses.map(\.punctuation), "\(c.text)")
        }
        #expect(PiperText.splitClauses("It costs 3.5 dollars... Really?!").map(\.punctuation) == ["...", "?!"])
    }

    /// Phoneme strings need no pack: the espeak helper's PHONEMES mode against the fixture.
    @Test func phonemesMatchTheFixture() throws {
        for c in Self.fixture.cases {
            let clauses = PiperText.splitClauses(c.text)
            let ipa = try EspeakPhonemizer.ipa(lines: PiperText.phonemizerLines(clauses), voice: "en-us")
            let sentences = PiperText.sentences(clauses: clauses, ipa: ipa, convention: .init(idMap: Self.everyScalar(ipa)))
            #expect(sentences.map(\.phonemes) == c.sentences.map(\.phonemes), "\(c.text)")
        }
    }

    @Test(.enabled(if: PiperTestPack.pack.enabled, PiperTestPack.needs))
    func idsMatchTheFixture() throws {
        let engine = try PiperTestPack.engine()
        let config = try PiperTestPack.config()
        for c in Self.fixture.cases {
            let sentences = try engine.sentences(c.text, config: config)
            #expect(sentences.map(\.ids) == c.sentences.map(\.ids), "\(c.text)")
        }
    }

    /// Every written word gets the ids of its phonemes, in order, including words espeak splits or expands.
    @Test func wordsCoverTheirPhonemes() throws {
        for text in ["3.5 percent of 1,200 people said no.", "ProStudio turns written scripts into finished, narrated videos",
                     "Hello, world. Is this it?"] {
            let clauses = PiperText.splitClauses(text)
            let ipa = try EspeakPhonemizer.ipa(lines: PiperText.phonemizerLines(clauses), voice: "en-us")
            let sentences = PiperText.sentences(clauses: clauses, ipa: ipa, convention: .init(idMap: Self.everyScalar(ipa)))
            let words = sentences.flatMap(\.words).map(\.text)
            #expect(words.joined(separator: " ") == text, "\(words)")
            for s in sentences {
                var last = 0
                for w in s.words {
                    #expect(!w.ids.isEmpty && w.ids.lowerBound >= last && w.ids.upperBound <= s.ids.count - 1, "\(w)")
                    last = w.ids.upperBound
                }
            }
        }
    }

    @Test func groupingSharesIPAWordsOut() {
        // espeak made three IPA words of "3.5": the isolated counts say so.
        let g = PiperText.group(textWords: ["3.5", "percent"], isolated: [3, 1], ipaWordCount: 4)
        #expect(g.map(\.ipa) == [0..<3, 3..<4])
        // Counts that do not add up: shared in proportion; a word left with none joins its neighbour.
        let h = PiperText.group(textWords: ["a", "b", "c"], isolated: [1, 1, 1], ipaWordCount: 2)
        #expect(h.map(\.ipa).reduce(0) { $0 + $1.count } == 2)
        #expect(h.map(\.text).joined(separator: " ") == "a b c")
    }
}
