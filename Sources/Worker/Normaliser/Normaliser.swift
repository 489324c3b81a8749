/// Text normalisation in front of every voice: numbers, money, percentages, years, dates, clock times, phone-like
/// digit strings, units, abbreviations, Roman numerals after names, URLs, e-mail addresses and symbols are written
/// out as words in the voice's language (English, French, German, Spanish), so the voice reads "$2.50" as "two
/// dollars and fifty cents" and not "dollar two point five zero". The script itself is never changed: captions
/// keep its characters, and `SpokenText` maps each spoken word back to the script word it came from.
public enum Normaliser {
    /// Part of the speech stage's cache key: a change to the readings must re-speak cached narrations.
    public static let version = "1"

    /// The words `voice` (a voice name such as `en-us`, `fr`, `de`, `es-419`) is given for `script`. A word of
    /// `lexicon` (`SQL: sequel`) is said as it says, in any language, before any other rule.
    public static func normalise(_ script: String, voice: String, lexicon: [String: String] = [:]) -> SpokenText {
        let lang = Language(voice: voice)
        guard lang != nil || !lexicon.isEmpty else { return SpokenText(unchanged: script) }
        return Rewriter(script: script, lang: lang ?? .en, rules: lang != nil, lexicon: lexicon).run()
    }

    /// Whether the voice's language has rules (others are spoken as written).
    public static func hasRules(forVoice voice: String) -> Bool { Language(voice: voice) != nil }
}

/// One run of non-space characters of the script: `lead` and `trail` punctuation around the `core` a rule reads.
struct Chunk {
    var text: Substring
    var start: Int  // scalar offset of text in the script
    var lead: Substring
    var core: Substring
    var trail: Substring

    static let leading: Set<Character> = ["(", "[", "{", "\"", "'", "“", "‘", "«", "¿", "¡", "—", "–"]
    static let trailing: Set<Character> = [".", ",", ";", ":", "!", "?", ")", "]", "}", "\"", "'", "”", "’", "»", "…"]

    init(text: Substring, start: Int) {
        self.text = text
        self.start = start
        let afterLead = text.drop { Self.leading.contains($0) }
        lead = text[text.startIndex..<afterLead.startIndex]
        var end = afterLead.endIndex
        while end > afterLead.startIndex, Self.trailing.contains(text[text.index(before: end)]) { end = text.index(before: end) }
        core = text[afterLead.startIndex..<end]
        trail = text[end...]
    }

    var coreStart: Int { start + lead.unicodeScalars.count }
    var coreEnd: Int { coreStart + core.unicodeScalars.count }
    var end: Int { start + text.unicodeScalars.count }
    var isCapitalisedWord: Bool { core.first?.isUppercase == true && core.allSatisfy { $0.isLetter || $0 == "-" } }
}

/// What a rule read: the spoken words and the last chunk it used (`through`), and whether that chunk's trailing
/// punctuation is part of what was read (an abbreviation's dot) rather than copied after it.
struct Reading {
    var spoken: String
    var through: Int
    var keepsTrail = false
    /// The chunk's leading punctuation is read too (the apostrophe of `'90s`).
    var takesLead = false
}

struct Rewriter {
    let script: String
    let lang: Language
    /// False for a language without rules: only the lexicon is read.
    var rules = true
    var lexicon: [String: String] = [:]
    var chunks: [Chunk] = []

    init(script: String, lang: Language, rules: Bool = true, lexicon: [String: String] = [:]) {
        self.script = script
        self.lang = lang
        self.rules = rules
        self.lexicon = lexicon
        var offset = 0
        var start: String.Index?
        var startOffset = 0
        for i in script.indices {
            let c = script[i]
            let isSpace = c == " " || c == "\t" || c == "\n" || c == "\r" || c == "\r\n"
            if isSpace {
                if let s = start { chunks.append(Chunk(text: script[s..<i], start: startOffset)); start = nil }
            } else if start == nil {
                start = i; startOffset = offset
            }
            offset += c.unicodeScalars.count
        }
        if let s = start { chunks.append(Chunk(text: script[s...], start: startOffset)) }
    }

    func run() -> SpokenText {
        var out = SpokenBuilder()
        let scalars = script.unicodeScalars
        func copy(_ from: Int, _ to: Int) {
            guard to > from else { return }
            let a = scalars.index(scalars.startIndex, offsetBy: from), b = scalars.index(a, offsetBy: to - from)
            out.copy(scalars[a..<b], at: from)
        }
        var at = 0  // script offset copied so far
        var i = 0
        while i < chunks.count {
            let c = chunks[i]
            copy(at, c.start)
            if let r = read(i) {
                let last = chunks[r.through]
                let from = r.takesLead ? c.start : c.coreStart
                copy(c.start, from)
                let end = r.keepsTrail ? last.end : last.coreEnd
                out.replace(from..<end, with: r.spoken)
                copy(end, last.end)
                at = last.end
                i = r.through + 1
            } else {
                copy(c.start, c.end)
                at = c.end
                i += 1
            }
        }
        copy(at, scalars.count)
        return out.result
    }

    func chunk(_ i: Int) -> Chunk? { i >= 0 && i < chunks.count ? chunks[i] : nil }

    /// In order: the more particular reading first (`$5` is money before it is a number).
    var numberRules: [(Int) -> Reading?] {
        [money, percent, clock, date, decade, range, phone, ordinal, roman, measure, symbolAlone, plainNumber]
    }

    /// The first rule that reads chunk `i` (and maybe those after it), or nil to speak it as written.
    func read(_ i: Int) -> Reading? {
        let c = chunks[i]
        guard !c.core.isEmpty else { return nil }
        if let said = lexicon[String(c.core)] { return Reading(spoken: said, through: i) }
        guard rules else { return nil }
        if let r = abbreviation(i) ?? email(i) ?? url(i) ?? hashtag(i) { return r }
        guard c.core.contains(where: { $0.isNumber || "&+=%$€£¥".contains($0) }) || romanCandidate(c.core) else { return nil }
        for rule in numberRules {
            if let r = rule(i) { return r }
        }
        return nil
    }
}
