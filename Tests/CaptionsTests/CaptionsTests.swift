import Engines
import Foundation
import Manifest
import Media
import Testing
@testable import Captions

/// The corpus of tricky sentences (Fixtures/corpus.txt): voice and text.
enum Corpus {
    static let entries: [(voice: String, text: String)] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/corpus.txt")
        let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            guard !line.hasPrefix("#"), let tab = line.firstIndex(of: "\t") else { return nil }
            return (String(line[..<tab]), String(line[line.index(after: tab)...]))
        }
    }()

    static func voice(_ name: String) -> JobManifest.Voice {
        let json = #"{"engine":"espeak","voice":"\#(name)","rate":1,"pitch":1,"volume":1}"#
        return try! JSONDecoder().decode(JobManifest.Voice.self, from: Data(json.utf8))
    }

    /// White space collapsed to single spaces, ends trimmed.
    static func normalised(_ s: String) -> String { s.split(whereSeparator: \.isWhitespace).joined(separator: " ") }

    /// What the cues show, read as the words say (a space only where the script had one).
    static func shown(_ cues: [Cue]) -> String {
        var out = ""
        for w in cues.flatMap({ $0.lines.flatMap { $0 } }) {
            if !out.isEmpty && w.spaceBefore { out += " " }
            out += w.text
        }
        return out
    }
}

struct ScriptWordsTests {
    @Test func spacedScriptsKeepEveryCharacterWithItsWord() {
        let words = ScriptWords.split("It costs $5.99,  state-of-the-art (www.example.com) « oui » ?")
        #expect(words.map(\.text) == ["It", "costs", "$5.99,", "state-of-the-art", "(www.example.com)", "«", "oui", "»", "?"])
        #expect(words.allSatisfy { $0.spaceBefore || $0.range.lowerBound == 0 })
        #expect(words[2].range == 9..<15)
    }

    @Test func unspacedScriptsAreCutBetweenCharactersWithPunctuationKept() {
        let words = ScriptWords.split("「你好」，我们去北京。iPhone好")
        #expect(words.map(\.text) == ["「你", "好」，", "我", "们", "去", "北", "京。", "iPhone", "好"])
        #expect(words.dropFirst().allSatisfy { !$0.spaceBefore })
    }

    @Test func japaneseIsCutBetweenWordsWithPunctuationKept() {
        let words = ScriptWords.split("「おはよう」と東京は、iPhoneを。")
        #expect(words.map(\.text) == ["「おはよう」", "と", "東京", "は、", "iPhone", "を。"])
        #expect(words.dropFirst().allSatisfy { !$0.spaceBefore })
        #expect(words.map(\.text).joined() == "「おはよう」と東京は、iPhoneを。")
    }

    @Test func wideCharactersCountTwice() {
        #expect(ScriptWords.width("東京") == 4)
        #expect(ScriptWords.width("Tokyo") == 5)
    }
}

struct AlignerTests {
    /// espeak's events as they come for "This one is red.": "This" covers "this one", "one" has no event.
    @Test func wordsTheVoiceMergedGetInterpolatedTimes() {
        let voice = [Narration.Word(text: "This", start: 0, end: 0.378, source: 0), .init(text: "is", start: 0.378, end: 0.549, source: 9),
                     .init(text: "red", start: 0.549, end: 1.1, source: 12)]
        let t = CaptionAligner.align(script: "This one is red.", voice: voice, duration: 1.2)
        #expect(t.map(\.word.text) == ["This", "one", "is", "red."])
        #expect(t.map(\.voiced) == [true, false, true, true])
        #expect(t[1].start > 0 && t[1].start < 0.378)
        #expect(t[2].start == 0.378 && t[3].start == 0.549 && t[3].end == 1.1)
    }

    /// Piper reports words by text only: they are found by reading the script forward.
    @Test func wordsWithoutPlacesAreFoundInTheScript() {
        let voice = [Narration.Word(text: "Well,", start: 0.1, end: 0.4), .init(text: "well.", start: 0.5, end: 0.9), .init(text: "Done", start: 1.2, end: 1.5)]
        let t = CaptionAligner.align(script: "Well, well. Done", voice: voice, duration: 1.6)
        #expect(t.map(\.start) == [0.1, 0.5, 1.2])
    }

    /// Several events inside one word ("2024" is read as four) give that word its first time only.
    @Test func manyEventsInOneWordCountOnce() {
        let voice = [Narration.Word(text: "in", start: 0, end: 0.2, source: 0), .init(text: "2024", start: 0.2, end: 0.4, source: 3),
                     .init(text: "024", start: 0.4, end: 0.6, source: 4), .init(text: "024", start: 0.6, end: 1.0, source: 4)]
        let t = CaptionAligner.align(script: "in 2024.", voice: voice, duration: 1.0)
        #expect(t.map(\.word.text) == ["in", "2024."])
        #expect(t[1].start == 0.2 && t[1].end == 1.0)
    }
}

struct LayoutTests {
    func timed(_ text: String, secondsPerWord: Double = 0.3) -> [TimedWord] {
        ScriptWords.split(text).enumerated().map { i, w in
            TimedWord(word: w, start: Double(i) * secondsPerWord, end: Double(i + 1) * secondsPerWord, voiced: true)
        }
    }

    @Test func aShortSentenceJoinsItsNeighbourInsteadOfFlashing() {
        let cues = CaptionLayout.cues(timed("Hi. Welcome to the show, everyone."), window: 0...10, rules: CaptionRules(maxCharacters: 42))
        #expect(cues.count == 1)
        #expect(cues[0].text == "Hi. Welcome to the show, everyone.")
    }

    @Test func linesFitAndNeverEndOnAnArticleOrPreposition() {
        let text = "The quick brown fox jumps over the lazy dog while the cat watches from the top of a very tall bookshelf in the corner of the room."
        let rules = CaptionRules(maxCharacters: 30)
        let cues = CaptionLayout.cues(timed(text), window: 0...60, rules: rules)
        #expect(Corpus.shown(cues) == text)
        for cue in cues {
            #expect(cue.lines.count <= 2)
            for line in cue.lineTexts {
                #expect(line.count <= 30, "\(line)")
                let last = line.split(separator: " ").last.map { $0.lowercased() } ?? ""
                #expect(!["the", "a", "of", "in", "from", "over", "and", "while"].contains(last), "line ends on \"\(last)\": \(cue.lineTexts)")
            }
        }
    }

    @Test func cuesLastBetweenTheMinimumAndMaximumAndStayInTheirScene() {
        let text = Array(repeating: "word", count: 60).joined(separator: " ") + "."
        let cues = CaptionLayout.cues(timed(text, secondsPerWord: 0.5), window: 0...31, rules: CaptionRules(maxCharacters: 42))
        #expect(cues.allSatisfy { $0.end - $0.start <= 7.0001 && $0.end - $0.start >= 0.83 })
        #expect(cues.allSatisfy { $0.start >= 0 && $0.end <= 31 })
        #expect(zip(cues, cues.dropFirst()).allSatisfy { $0.end <= $1.start })
        // A one-word scene shorter than the minimum keeps the whole scene, no more.
        let short = CaptionLayout.cues(timed("Out."), window: 0...0.6, rules: CaptionRules(maxCharacters: 42))
        #expect(short.count == 1 && short[0].start == 0 && short[0].end == 0.6)
    }

    @Test func frameAspectSetsTheLineLength() {
        #expect(CaptionRules(width: 1920, height: 1080, fontSize: 67).maxCharacters == 42)
        #expect((22...26).contains(CaptionRules(width: 1080, height: 1920, fontSize: 67).maxCharacters))
        #expect(CaptionRules(width: 1280, height: 720, fontSize: 90).maxCharacters < 30)
    }
}

/// Every corpus sentence spoken by espeak-ng and captioned: the text is the script's, the layout within the
/// rules, every word's cue where the voice says it.
struct EspeakCorpusTests {
    @Test(arguments: Corpus.entries.indices)
    func captionsCarryTheScriptExactly(_ index: Int) throws {
        let (voiceName, text) = Corpus.entries[index]
        let narration = try EspeakEngine().synthesize(text, voice: Corpus.voice(voiceName))
        try CaptionCheck.verify(text: text, narration: narration)
    }

    @Test func theCorpusIsBigEnough() { #expect(Corpus.entries.count >= 80) }
}

/// The checks the issue names: the audit finds nothing, and what a player shows (the SRT) reads as the script.
enum CaptionCheck {
    static func verify(text: String, narration: Narration, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let offset = 0.25
        let window = 0...(offset + narration.duration + 0.45)
        let rules = CaptionRules(maxCharacters: 42)
        let cues = CaptionLayout.track([SceneCaptions(script: text, narration: narration, offset: offset, window: window)], rules: rules)
        #expect(!cues.isEmpty, sourceLocation: sourceLocation)
        let problems = CaptionAudit.problems(script: text, narration: narration, offset: offset, window: window, cues: cues, rules: rules)
        #expect(problems.isEmpty, "\(problems)", sourceLocation: sourceLocation)
        let srt = SRT.parse(SRT.document(cues: cues))
        #expect(srt.count == cues.count, sourceLocation: sourceLocation)
        if !text.contains(where: ScriptWords.isUnspaced) {
            #expect(srt.map { $0.text.replacingOccurrences(of: "\n", with: " ") }.joined(separator: " ") == Corpus.normalised(text), sourceLocation: sourceLocation)
        } else {
            #expect(srt.map(\.text).joined().filter { !$0.isWhitespace } == text.filter { !$0.isWhitespace }, sourceLocation: sourceLocation)
        }
        // Karaoke times are the voice's own.
        let timed = CaptionAligner.align(script: text, voice: narration.words, duration: narration.duration)
        for (t, w) in zip(timed, cues.flatMap { $0.lines.flatMap { $0 } }) where t.voiced {
            #expect(abs(w.start - (t.start + offset)) < 0.001, sourceLocation: sourceLocation)
        }
    }
}
