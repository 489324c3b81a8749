import Engines
import Foundation

/// One written word (as captions show it, with its trailing punctuation) and the Kokoro phonemes that say it,
/// including any punctuation phonemes (`,` `.` `?` ...) after it.
public struct KokoroWord: Sendable, Equatable {
    public var text: String
    public var phonemes: String
    public init(text: String, phonemes: String) { self.text = text; self.phonemes = phonemes }
}

/// Text of one sentence → Kokoro phonemes, word by word. The engine joins the words' phonemes with `separator`.
/// Japanese comes from its own front end (MeCab readings → misaki-style phonemes, Sources/Worker/JapaneseText);
/// the others from espeak-ng (`EspeakKokoroFrontEnd`).
public protocol KokoroFrontEnd: Sendable {
    /// Whether this front end speaks `language` (`ja`, `en-us`, ...).
    func speaks(_ language: String) -> Bool
    func words(for sentence: String, language: String) throws(EngineError) -> [KokoroWord]
    /// What goes between two words' phonemes: a space for espeak's languages, nothing for Japanese.
    var separator: String { get }
}

/// espeak-ng IPA → Kokoro's phoneme set, for the languages misaki reads through espeak (its `EspeakFallback`
/// and `espeak.py` tables, applied to Debian espeak-ng 1.51's IPA, which writes affricates and diphthongs
/// without tie bars). What is mapped:
/// - English diphthongs to Kokoro's capitals: eɪ→A, aɪ→I, aʊ→W, ɔɪ→Y, oʊ→O, əʊ→Q (British);
/// - affricates to one symbol: tʃ→ʧ, dʒ→ʤ (and ts→ʦ, dz→ʣ, tɕ→ʨ, dʑ→ʥ);
/// - r-coloured vowels: ɚ→əɹ, ɝ→ɜɹ; the trill/tap r→ɹ for English (kept as r for other languages);
/// - sounds Kokoro's English set lacks: ɐ→ə, x→k, ç→k, ɬ→l, ʔ→t, g→ɡ (the IPA letter); ʲ dropped for English;
/// - anything left that is not in the pack's vocabulary is dropped when ids are made (the engine logs none).
public struct EspeakKokoroFrontEnd: KokoroFrontEnd {
    public init() {}

    public var separator: String { " " }

    /// Japanese and Chinese have their own readers in misaki; espeak-ng's are unusable (kanji as "Chinese letter").
    public func speaks(_ language: String) -> Bool {
        let base = language.lowercased().split(separator: "-").first.map(String.init) ?? ""
        return !["ja", "zh", "cmn", "yue"].contains(base) && !base.isEmpty
    }

    /// espeak-ng's voice for a Kokoro language code.
    static func espeakVoice(_ language: String) -> String {
        switch language.lowercased() {
        case "en", "en-us", "a": "en-us"
        case "en-gb", "b": "en-gb"
        case "pt", "pt-br": "pt-br"
        default: language.lowercased()
        }
    }

    public func words(for sentence: String, language: String) throws(EngineError) -> [KokoroWord] {
        let clauses = PiperText.splitClauses(sentence)
        guard !clauses.isEmpty else { return [] }
        let lines = try EspeakPhonemizer.ipa(lines: PiperText.phonemizerLines(clauses), voice: Self.espeakVoice(language))
        let english = language.lowercased().hasPrefix("en")
        var out: [KokoroWord] = []
        var wordLine = clauses.count
        for (k, clause) in clauses.enumerated() {
            let ipa = PiperText.cleanIPA(lines[k])
            let textWords = PiperText.splitWords(clause.text)
            let isolated = (0..<textWords.count).map { j in PiperText.cleanIPA(lines[wordLine + j]).split(separator: " ").count }
            wordLine += textWords.count
            let ipaWords = ipa.split(separator: " ").map(String.init)
            let groups = PiperText.group(textWords: textWords, isolated: isolated, ipaWordCount: ipaWords.count)
            for (gi, g) in groups.enumerated() {
                var phonemes = g.ipa.map { Self.map(ipaWords[$0], english: english) }.joined(separator: " ")
                var text = g.text
                if gi == groups.count - 1 {
                    text += clause.punctuation
                    phonemes += clause.punctuation.filter { ",.!?;:".contains($0) }
                }
                out.append(KokoroWord(text: text, phonemes: phonemes))
            }
        }
        return out
    }

    /// Longest match first: the pairs before the single sounds.
    static let pairs: [(String, String)] = [
        ("eɪ", "A"), ("aɪ", "I"), ("aʊ", "W"), ("ɔɪ", "Y"), ("oʊ", "O"), ("əʊ", "Q"),
        ("tʃ", "ʧ"), ("dʒ", "ʤ"), ("ts", "ʦ"), ("dz", "ʣ"), ("tɕ", "ʨ"), ("dʑ", "ʥ"),
    ]
    static let singles: [Character: String] = ["ɚ": "əɹ", "ɝ": "ɜɹ", "ɐ": "ə", "x": "k", "ç": "k", "ɬ": "l", "ʔ": "t", "g": "ɡ"]

    /// One espeak IPA word → Kokoro phonemes.
    public static func map(_ ipa: String, english: Bool) -> String {
        var s = ipa.precomposedStringWithCanonicalMapping
        for (from, to) in pairs where english || !["A", "I", "W", "Y", "O", "Q"].contains(to) {
            s = s.replacingOccurrences(of: from, with: to)
        }
        var out = ""
        for ch in s {
            if english, ch == "r" { out += "ɹ"; continue }
            if english, ch == "ʲ" { continue }
            if ch == "ɚ" || ch == "ɝ" || english || ch == "g" || ch == "ʔ" { if let m = singles[ch] { out += m; continue } }
            out.append(ch)
        }
        return out
    }
}
