import Engines
import Foundation
import Media

/// Broadcast subtitle rules (Netflix Timed Text Style Guide, BBC subtitle guidelines), sized to the frame.
public struct CaptionRules: Sendable, Equatable {
    /// Columns per line; wide (CJK) characters count two.
    public var maxCharacters: Int
    public var maxLines: Int
    public var minDuration: Double = 0.83
    public var maxDuration: Double = 7
    /// Reading speed above which a cue is counted as fast.
    public var maxCharactersPerSecond: Double = 20

    public init(maxCharacters: Int, maxLines: Int = 2) { self.maxCharacters = maxCharacters; self.maxLines = maxLines }

    /// 42 columns at 16:9, fewer as the frame narrows (about 23 for 9:16, 31 for 1:1), and never more than the
    /// font size lets fit between the side margins (a DejaVu Sans character is about 0.55 em wide on average).
    public init(width: Int, height: Int, fontSize: Int, maxLines: Int = 2) {
        let aspect = Double(width) / Double(height)
        let byAspect = 42 * min(1, (aspect / (16.0 / 9)).squareRoot())
        let byFont = 10.0 / 12 * Double(width) / (0.55 * Double(fontSize))
        self.init(maxCharacters: max(8, Int(min(byAspect, byFont))), maxLines: maxLines)
    }
}

/// Lays timed script words out as cues: sentences kept whole where they fit, lines broken at punctuation and
/// never after an article, preposition or conjunction, no flash shorter than the minimum, nothing longer than the
/// maximum, every cue inside its scene.
public enum CaptionLayout {
    /// Words that should not end a line (English, French, German, Spanish, Italian, Portuguese).
    static let functionWords: Set<String> = [
        "a", "an", "the", "and", "or", "but", "nor", "of", "to", "in", "on", "at", "by", "for", "with", "from", "into", "onto",
        "as", "than", "that", "if", "so", "my", "your", "his", "her", "its", "our", "their", "this", "these", "those", "is", "are",
        "over", "under", "about", "after", "before", "between", "through", "during", "without", "within", "while", "when",
        "because", "although", "though", "unless", "until", "since", "who", "which", "whose", "where", "not", "very",
        "le", "la", "les", "un", "une", "des", "de", "du", "au", "aux", "et", "ou", "en", "dans", "sur", "pour", "par", "avec", "à",
        "der", "die", "das", "den", "dem", "des", "ein", "eine", "einen", "und", "oder", "mit", "von", "zu", "im", "auf", "für",
        "el", "los", "las", "una", "y", "o", "del", "con", "por", "para", "al", "il", "lo", "gli", "e", "di", "da", "per", "o", "os", "as",
    ]

    static let abbreviations: Set<String> = ["mr.", "mrs.", "ms.", "dr.", "st.", "vs.", "prof.", "jr.", "sr.", "no.", "mt.", "fig.", "approx."]

    /// "e.g.", "U.S.", "Dr." or an initial: a full stop that does not end the sentence.
    static func isAbbreviation(_ word: String) -> Bool {
        let w = word.lowercased()
        if abbreviations.contains(w) { return true }
        let parts = w.split(separator: ".", omittingEmptySubsequences: false)
        // Single letters between full stops: "e.g.", "u.s.", "j."
        return w.hasSuffix(".") && parts.count >= 2 && parts.dropLast().allSatisfy { $0.count == 1 && $0.first!.isLetter }
    }

    /// Words that stay on one line together: a word and the bare punctuation around it (`« oui »`, `word —`).
    struct Unit {
        var words: [TimedWord]
        var spaceBefore: Bool { words[0].word.spaceBefore }
        var start: Double { words[0].start }
        var end: Double { words[words.count - 1].end }
        var width: Int {
            words.enumerated().reduce(0) { $0 + ScriptWords.width($1.element.word.text) + ($1.offset > 0 && $1.element.word.spaceBefore ? 1 : 0) }
        }
        var lastText: String { words[words.count - 1].word.text }
        var endsSentence: Bool {
            guard let c = lastText.last, ".!?…。！？".contains(c) else { return false }
            return !CaptionLayout.isAbbreviation(lastText)
        }
        var endsClause: Bool { lastText.last.map { ",;:–—、，；：".contains($0) } ?? false }
    }

    static func units(_ words: [TimedWord]) -> [Unit] {
        var units: [Unit] = []
        var pending: [TimedWord] = []
        var openQuotes: Set<String> = []
        var dashes = 0
        for (k, w) in words.enumerated() {
            let text = w.word.text
            if isBare(text) {
                // Opening marks (« ¿ “) go with the word after them; the rest with the word before. A straight
                // quote opens or closes by its count; a dash that begins an aside (the first of a pair, or a
                // lone one with words after it) goes with those words, so no line ends on it.
                var forward = text.allSatisfy(ScriptWords.isOpening)
                if text == "\"" || text == "'" {
                    forward = !openQuotes.contains(text)
                    if forward { openQuotes.insert(text) } else { openQuotes.remove(text) }
                } else if isDash(text) {
                    forward = dashes % 2 == 0 && k + 1 < words.count && !isBare(words[k + 1].word.text)
                    dashes += 1
                }
                if forward || units.isEmpty {
                    pending.append(w)
                } else {
                    units[units.count - 1].words += pending + [w]
                    pending = []
                }
                continue
            }
            units.append(Unit(words: pending + [w]))
            pending = []
            if units[units.count - 1].endsSentence { dashes = 0 }
        }
        if !pending.isEmpty {
            if units.isEmpty { units.append(Unit(words: pending)) } else { units[units.count - 1].words += pending }
        }
        return units
    }

    /// Punctuation or symbols only: nothing a voice would say on its own.
    static func isBare(_ text: String) -> Bool {
        !text.contains { ch in
            ch.isLetter || ch.isNumber || ScriptWords.width(ch) == 2 || (!ch.isASCII && ch.unicodeScalars.contains { $0.properties.isEmoji })
        }
    }

    /// Cost of ending a line (or a cue) after `u` when `next` follows.
    static func breakPenalty(after u: Unit, before next: Unit) -> Double {
        if u.endsSentence { return 0 }
        if u.endsClause { return 0.5 }
        let last = u.lastText.lowercased().trimmingCharacters(in: .punctuationCharacters)
        if functionWords.contains(last) { return 6 }
        if !next.spaceBefore { return 1.5 }
        return 2
    }

    static func lineWidth(_ units: ArraySlice<Unit>) -> Int {
        var w = 0
        for (k, u) in units.enumerated() { w += u.width + (k > 0 && u.spaceBefore ? 1 : 0) }
        return w
    }

    /// The best way to set `units` on at most `rules.maxLines` lines, as the index where each line starts, and
    /// its cost; nil when they do not fit. A single unit wider than a line gets a line to itself.
    static func lines(_ units: ArraySlice<Unit>, rules: CaptionRules) -> (starts: [Int], cost: Double)? {
        let lo = units.startIndex, hi = units.endIndex
        guard lo < hi else { return nil }
        if lineWidth(units) <= rules.maxCharacters { return ([lo], 0) }
        guard rules.maxLines > 1 else { return nil }
        // best[l][i]: cheapest way to set units[i..<hi] on at most l lines.
        var best = [[(cost: Double, next: Int)?]](repeating: [(Double, Int)?](repeating: nil, count: hi - lo + 1), count: rules.maxLines + 1)
        for l in 1...rules.maxLines {
            for i in stride(from: hi - 1, through: lo, by: -1) {
                var choice: (Double, Int)?
                for j in (i + 1)...hi {
                    let width = lineWidth(units[i..<j])
                    if width > rules.maxCharacters && j > i + 1 { break }
                    // Lines of similar length read best; a top line longer than the bottom one slightly less so.
                    let shape = Double(abs(rules.maxCharacters * 3 / 4 - width)) / Double(rules.maxCharacters)
                    // One short word alone on a line ("Oh," above the rest) reads as a stray.
                    let stray = j == i + 1 && j < hi && width * 4 < rules.maxCharacters && !units[i].endsSentence ? 2.0 : 0
                    if j == hi {
                        let c = shape
                        if choice == nil || c < choice!.0 { choice = (c, j) }
                    } else if l > 1, let rest = best[l - 1][j - lo] {
                        let c = shape + stray + breakPenalty(after: units[j - 1], before: units[j]) + rest.cost
                        if choice == nil || c < choice!.0 { choice = (c, j) }
                    }
                }
                best[l][i - lo] = choice.map { (cost: $0.0, next: $0.1) }
            }
        }
        guard let first = best[rules.maxLines][0] else { return nil }
        var starts = [lo]
        var i = lo, l = rules.maxLines
        var step = first
        while step.next < hi {
            starts.append(step.next)
            i = step.next; l -= 1
            guard let s = best[l][i - lo] else { return nil }
            step = s
        }
        return (starts, first.cost)
    }

    /// Cues for one scene. `words` carry absolute times; cues stay inside `window` (the scene's span).
    public static func cues(_ words: [TimedWord], window: ClosedRange<Double>, rules: CaptionRules) -> [Cue] {
        let units = glue(units(words))
        let n = units.count
        guard n > 0 else { return [] }
        // Dynamic programming over cue boundaries: each cue costs 1, plus its break and line costs; a cue under
        // the minimum duration costs more than joining it to a neighbour, a sentence end inside a cue a little.
        var best = [(cost: Double, from: Int)?](repeating: nil, count: n + 1)
        best[0] = (0, 0)
        var layouts: [Int: [Int: [Int]]] = [:]
        let maxSpan = rules.maxCharacters * rules.maxLines
        for i in 0..<n {
            guard let here = best[i] else { continue }
            var width = 0
            for j in (i + 1)...n {
                width += units[j - 1].width + (j - 1 > i && units[j - 1].spaceBefore ? 1 : 0)
                if width > maxSpan && j > i + 1 { break }
                let duration = units[j - 1].end - units[i].start
                if duration > rules.maxDuration && j > i + 1 { break }
                guard let layout = lines(units[i..<j], rules: rules) else { continue }
                var cost = 1 + here.cost + layout.cost
                if j < n { cost += breakPenalty(after: units[j - 1], before: units[j]) * 1.5 }
                if duration < rules.minDuration { cost += 4 }
                cost += Double(units[i..<(j - 1)].filter(\.endsSentence).count) * 1.5
                if best[j] == nil || cost < best[j]!.cost {
                    best[j] = (cost, i)
                    layouts[j, default: [:]][i] = layout.starts
                }
            }
        }
        var spans: [(Range<Int>, [Int])] = []
        var j = n
        while j > 0, let b = best[j] {
            spans.append((b.from..<j, layouts[j]?[b.from] ?? [b.from]))
            j = b.from
        }
        spans.reverse()

        var cues: [Cue] = spans.map { span, starts in
            let bounds = starts + [span.upperBound]
            let lines = (0..<starts.count).map { k in
                units[bounds[k]..<bounds[k + 1]].flatMap(\.words).map { w in
                    Cue.Word(text: w.word.text, spaceBefore: w.word.spaceBefore, start: w.start, end: w.end)
                }
            }
            return Cue(start: units[span.lowerBound].start, end: units[span.upperBound - 1].end, lines: lines)
        }
        // Timing: at least the minimum on screen (longer into the silence after, then earlier into the silence
        // before), no gap too short to see, never outside the scene.
        for k in cues.indices {
            let limit = k + 1 < cues.count ? cues[k + 1].start : window.upperBound
            let floor = k > 0 ? cues[k - 1].end : window.lowerBound
            cues[k].start = max(cues[k].start, window.lowerBound)
            cues[k].end = min(max(cues[k].end, min(cues[k].start + rules.minDuration, limit)), limit)
            if cues[k].end - cues[k].start < rules.minDuration { cues[k].start = max(floor, cues[k].end - rules.minDuration) }
            // Close a gap too short to see, unless that would hold the cue past the maximum.
            if k + 1 < cues.count, cues[k + 1].start - cues[k].end < 0.25, cues[k + 1].start - cues[k].start <= rules.maxDuration {
                cues[k].end = cues[k + 1].start
            }
        }
        return cues.filter { $0.end > $0.start }
    }

    /// Cues whose reading speed exceeds the rules' limit.
    public static func fastCues(_ cues: [Cue], rules: CaptionRules) -> Int {
        cues.filter { Double($0.lineTexts.joined(separator: " ").count) / max(0.001, $0.end - $0.start) > rules.maxCharactersPerSecond }.count
    }
}

/// One scene's part of the caption track.
public struct SceneCaptions: Sendable {
    public var script: String
    public var narration: Narration
    /// Where the narration starts in the video, in seconds.
    public var offset: Double
    /// The scene's span in the video: no cue leaves it.
    public var window: ClosedRange<Double>
    public init(script: String, narration: Narration, offset: Double, window: ClosedRange<Double>) {
        self.script = script; self.narration = narration; self.offset = offset; self.window = window
    }
}

extension CaptionLayout {
    /// The whole video's cues: each scene's script timed by its narration, laid out inside the scene.
    public static func track(_ scenes: [SceneCaptions], rules: CaptionRules) -> [Cue] {
        scenes.flatMap { scene in
            let words = CaptionAligner.align(script: scene.script, voice: scene.narration.words, duration: scene.narration.duration).map {
                var w = $0
                w.start += scene.offset
                w.end += scene.offset
                return w
            }
            return cues(words, window: scene.window, rules: rules)
        }
    }
}
