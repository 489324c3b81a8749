import Engines
import Foundation
import JapaneseText
import Media
import Testing
@testable import Captions

/// Japanese and Chinese lines break only where a reader expects (issue 33): between Japanese words, never before a
/// small kana, a prolonged sound mark or a closing mark, never after an opening mark; and no cue over 7 s.
struct KinsokuTests {
    static let small: Set<Character> = Set("ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶー")
    static let closing: Set<Character> = Set("、。，．」』）】〕》〉！？：；…")
    static let opening: Set<Character> = Set("「『（【〔《〈")

    func timed(_ text: String, secondsPerWord: Double = 0.3) -> [TimedWord] {
        ScriptWords.split(text).enumerated().map { i, w in
            TimedWord(word: w, start: Double(i) * secondsPerWord, end: Double(i + 1) * secondsPerWord, voiced: true)
        }
    }

    /// Every place a line (or a cue) starts, after the first, as a Unicode-scalar offset into the text.
    func breaks(_ cues: [Cue], in text: String) -> [Int] {
        var offsets: [Int] = []
        var at = 0
        let chars = Array(text.unicodeScalars)
        var first = true
        for cue in cues {
            for line in cue.lines {
                guard let w = line.first else { continue }
                // Find the line's first word in the text from where the last one ended.
                let target = Array(w.text.unicodeScalars)
                while at < chars.count && Array(chars[at..<min(chars.count, at + target.count)]) != target { at += 1 }
                if !first { offsets.append(at) }
                first = false
                at += target.count
            }
        }
        return offsets
    }

    static let japanese = "東京の今日の天気は、とうきょうタワーの上から見ると、ちょっとしたショーのようでした。「きっと、また行きましょう！」と彼女は言った。ジャッキーはキャッチボールをしていた。"

    @Test func japaneseLinesBreakOnlyBetweenWords() throws {
        let text = Self.japanese
        let words = try JapanesePhonemizer().words(in: text)
        let scalars = text.unicodeScalars
        let wordStarts = Set(words.map { scalars.distance(from: scalars.startIndex, to: $0.surface.lowerBound) })
        // Narrow lines force many breaks.
        for width in [8, 10, 12, 16] {
            let cues = CaptionLayout.cues(timed(text), window: 0...60, rules: CaptionRules(maxCharacters: width))
            #expect(cues.flatMap { $0.lineTexts }.joined() == text, "captions must carry the script exactly")
            let chars = Array(scalars)
            for b in breaks(cues, in: text) {
                let before = Character(chars[b - 1]), after = Character(chars[b])
                #expect(!Self.small.contains(after) && !Self.closing.contains(after), "width \(width): a line starts with \(after)")
                #expect(!Self.opening.contains(before), "width \(width): a line ends with \(before)")
                // A break inside a word is allowed only where punctuation closes it.
                #expect(wordStarts.contains(b) || Self.closing.contains(before), "width \(width): break inside a word at \(b): …\(before)|\(after)…")
            }
        }
    }

    @Test func tokyoIsNeverCutBeforeItsSmallKana() {
        // Today's cut, one character a word: "とうき / ょうを".
        let words = ScriptWords.split("とうきょうをあるく。")
        #expect(!words.contains { $0.text.first.map { Self.small.contains($0) } ?? false }, "\(words.map(\.text))")
        let chinese = ScriptWords.split("「我们」，北京！")
        #expect(chinese.allSatisfy { w in !(w.text.first.map { Self.closing.contains($0) } ?? false) && !(w.text.last.map { Self.opening.contains($0) } ?? false) })
    }

    @Test func chineseBreaksKeepKinsoku() {
        let text = "「我们今天去北京，」他说。「好的！」我回答：“明天见。”天气很好（非常好）。"
        for width in [6, 8, 10] {
            let cues = CaptionLayout.cues(timed(text), window: 0...60, rules: CaptionRules(maxCharacters: width))
            #expect(cues.flatMap { $0.lineTexts }.joined() == text)
            let chars = Array(text.unicodeScalars)
            for b in breaks(cues, in: text) {
                #expect(!Self.closing.contains(Character(chars[b])), "width \(width): a line starts with \(chars[b])")
                #expect(!Self.opening.contains(Character(chars[b - 1])), "width \(width): a line ends with \(chars[b - 1])")
            }
        }
    }

    @Test func noCueLastsOverSevenSeconds() {
        // A 6.9 s sentence, a 0.2 s pause, then the next: closing the short gap used to make a 7.1 s cue.
        var words = timed("Hello there. Next words.")
        let times: [(Double, Double)] = [(0, 3.45), (3.45, 6.9), (7.1, 8), (8, 9)]
        for (i, t) in times.enumerated() { words[i].start = t.0; words[i].end = t.1 }
        let rules = CaptionRules(maxCharacters: 42)
        let cues = CaptionLayout.cues(words, window: 0...10, rules: rules)
        #expect(cues.count == 2)
        #expect(cues.allSatisfy { $0.end - $0.start <= rules.maxDuration }, "\(cues.map { $0.end - $0.start })")
        #expect(zip(cues, cues.dropFirst()).allSatisfy { $0.end <= $1.start })
        // Japanese at a slow pace: every cue stays under the maximum.
        let slow = CaptionLayout.cues(timed(Self.japanese, secondsPerWord: 0.9), window: 0...200, rules: rules)
        #expect(slow.allSatisfy { $0.end - $0.start <= rules.maxDuration }, "\(slow.map { $0.end - $0.start })")
    }
}
