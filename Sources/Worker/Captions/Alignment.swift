import Engines

/// A script word with the time the voice says it, in seconds from the narration's start.
public struct TimedWord: Sendable, Equatable {
    public var word: ScriptWord
    public var start: Double
    public var end: Double
    /// The voice reported this word itself; false when its time was interpolated.
    public var voiced: Bool
}

/// Puts the voice's times on the script's words. The voice never supplies text: each of its word events
/// only says "the word at this place in the script starts now". espeak-ng reports the place (a character
/// offset); for a voice that reports only its words' text (Piper), the place is found by reading the script
/// forward. Words the voice gave no time (espeak merges "in the", skips "one" in "this one") get one by
/// interpolation between their timed neighbours, by character count.
public enum CaptionAligner {
    public static func align(script: String, voice: [Narration.Word], duration: Double) -> [TimedWord] {
        let words = ScriptWords.split(script)
        guard !words.isEmpty else { return [] }
        let scalars = Array(script.unicodeScalars)
        let speechEnd = min(duration, max(voice.map(\.end).max() ?? duration, 0))

        // First voice time per script word, kept only while times run forward.
        var anchor = [Double?](repeating: nil, count: words.count)
        var cursor = 0
        var lastTime = -Double.infinity
        var lastWord = -1
        for v in voice {
            guard let place = v.source ?? locate(v.text, in: scalars, from: cursor) else { continue }
            cursor = max(cursor, place + 1)
            guard let i = wordIndex(containing: place, in: words), i >= lastWord, v.start >= lastTime else { continue }
            if anchor[i] == nil { anchor[i] = v.start }
            lastTime = v.start
            lastWord = i
        }

        // Piecewise-linear in character position between the timed words (and the narration's two ends).
        var points: [(pos: Double, time: Double)] = []
        if anchor[0] == nil { points.append((Double(words[0].range.lowerBound), 0)) }
        for (i, t) in anchor.enumerated() { if let t { points.append((Double(words[i].range.lowerBound), t)) } }
        points.append((Double(words.last!.range.upperBound), max(speechEnd, points.last?.time ?? 0)))
        func time(at pos: Double) -> Double {
            var k = 0
            while k + 1 < points.count && points[k + 1].pos <= pos { k += 1 }
            guard k + 1 < points.count else { return points[k].time }
            let a = points[k], b = points[k + 1]
            return b.pos > a.pos ? a.time + (b.time - a.time) * (pos - a.pos) / (b.pos - a.pos) : a.time
        }
        var timed = words.enumerated().map { i, w in
            TimedWord(word: w, start: anchor[i] ?? time(at: Double(w.range.lowerBound)), end: 0, voiced: anchor[i] != nil)
        }
        for i in timed.indices {
            timed[i].end = i + 1 < timed.count ? max(timed[i].start, timed[i + 1].start) : max(timed[i].start, speechEnd)
        }
        return timed
    }

    /// Where `text`'s first run of letters or digits next appears in the script, from `cursor` on (also how the
    /// pipeline finds a voice's word in the normalised text it was given).
    public static func locate(_ text: String, in scalars: [Unicode.Scalar], from cursor: Int) -> Int? {
        let letters = Array(text.unicodeScalars.drop { !isWordScalar($0) }.prefix { isWordScalar($0) })
        guard !letters.isEmpty, letters.count <= scalars.count else { return nil }
        var i = max(0, cursor)
        while i + letters.count <= scalars.count {
            if scalars[i] == letters[0] && Array(scalars[i..<(i + letters.count)]) == letters { return i }
            i += 1
        }
        return nil
    }

    private static func isWordScalar(_ s: Unicode.Scalar) -> Bool {
        s.properties.isAlphabetic || s.properties.numericType != nil
    }

    /// The word holding `place`, or the first word after it when `place` falls in white space.
    static func wordIndex(containing place: Int, in words: [ScriptWord]) -> Int? {
        var lo = 0, hi = words.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if words[mid].range.upperBound <= place { lo = mid + 1 } else { hi = mid }
        }
        return lo < words.count ? lo : nil
    }
}
