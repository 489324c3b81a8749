import Engines
import Media

/// Checks a scene's cues against the script, the voice and the rules; one line per problem, none when the
/// captions are right. The tests hold every voice to it; it reads the same way a picky producer would.
public enum CaptionAudit {
    /// Tolerance between when the voice says a word and when its cue shows it.
    public static let timeTolerance = 0.15

    public static func problems(script: String, narration: Narration, offset: Double, window: ClosedRange<Double>,
                                cues: [Cue], rules: CaptionRules) -> [String] {
        var problems: [String] = []
        let words = cues.flatMap { cue in cue.lines.flatMap { $0 }.map { (cue: cue, word: $0) } }
        // The text: every character of the script, in order, once; white space only where the script has it.
        var shown = ""
        for (_, w) in words {
            if !shown.isEmpty && w.spaceBefore { shown += " " }
            shown += w.text
        }
        let expected = script.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        if shown != expected { problems.append("text differs: shown \"\(shown)\", script \"\(expected)\"") }
        let sceneLength = window.upperBound - window.lowerBound
        for cue in cues {
            let length = cue.end - cue.start
            if length < rules.minDuration - 0.001 && sceneLength >= rules.minDuration { problems.append("\"\(cue.text)\" lasts \(length) s") }
            if length > rules.maxDuration + 0.001 { problems.append("\"\(cue.text)\" lasts \(length) s") }
            if cue.lines.count > rules.maxLines { problems.append("\"\(cue.text)\" has \(cue.lines.count) lines") }
            if cue.start < window.lowerBound - 0.001 || cue.end > window.upperBound + 0.001 { problems.append("\"\(cue.text)\" leaves its scene") }
            for (text, line) in zip(cue.lineTexts, cue.lines) where line.count > 1 && ScriptWords.width(text) > rules.maxCharacters {
                problems.append("line \"\(text)\" is wider than \(rules.maxCharacters)")
            }
        }
        // The times: each word the voice placed is on screen when the voice says it.
        let timed = CaptionAligner.align(script: script, voice: narration.words, duration: narration.duration)
        if timed.count != words.count { problems.append("\(words.count) words shown for \(timed.count) in the script") }
        for (t, (cue, w)) in zip(timed, words) where t.voiced {
            let said = t.start + offset
            if said < cue.start - timeTolerance || said > cue.end + timeTolerance {
                problems.append("\"\(w.text)\" is said at \(said) s but shown \(cue.start)...\(cue.end) s")
            }
        }
        return problems
    }
}
