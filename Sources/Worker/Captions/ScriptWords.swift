import JapaneseText

/// A word of the script exactly as the user wrote it, with where it sits in the narration.
public struct ScriptWord: Sendable, Equatable {
    public var text: String
    /// Unicode-scalar offsets into the narration text.
    public var range: Range<Int>
    /// White space separated it from the word before (false between the characters of Chinese or Japanese).
    public var spaceBefore: Bool

    public init(text: String, range: Range<Int>, spaceBefore: Bool) { self.text = text; self.range = range; self.spaceBefore = spaceBefore }
}

/// Cuts a narration into caption words. Scripts written with spaces are cut at white space, so every
/// character stays with its word (`$5.99`, `state-of-the-art`, `l'église`, `www.example.com`). Japanese is cut
/// between its words (MeCab's, through JapaneseText); other scripts written without spaces (Chinese, Thai, ...)
/// between characters. Either way punctuation stays on the side it belongs to and nothing is cut before a small
/// kana, a prolonged sound mark or a closing mark, nor after an opening one (kinsoku).
public enum ScriptWords {
    /// The Japanese word splitter, opened once. Without Debian's Open JTalk dictionary Japanese falls back to
    /// the cuts Chinese gets (between characters, kinsoku kept): captions still work, with shorter pieces.
    static let japanese: JapanesePhonemizer? = try? JapanesePhonemizer()

    /// Unicode-scalar offsets where a Japanese word starts, or nil when the text has no kana (or no splitter).
    static func japaneseWordStarts(_ text: String) -> Set<Int>? {
        guard text.unicodeScalars.contains(where: { (0x3041...0x30FA).contains($0.value) }),
              let splitter = japanese, let words = try? splitter.words(in: text) else { return nil }
        let starts = Set(words.map(\.surface.lowerBound))
        var offsets = Set<Int>()
        for (k, i) in text.unicodeScalars.indices.enumerated() where starts.contains(i) { offsets.insert(k) }
        return offsets
    }

    public static func split(_ text: String) -> [ScriptWord] {
        let wordStarts = japaneseWordStarts(text)
        var words: [ScriptWord] = []
        var current = ""
        var start = 0
        var offset = 0
        var sawSpace = true
        var currentSpaceBefore = true

        func flush() {
            guard !current.isEmpty else { return }
            words.append(ScriptWord(text: current, range: start..<offset, spaceBefore: currentSpaceBefore && !words.isEmpty))
            current = ""
        }

        for ch in text {
            let count = ch.unicodeScalars.count
            defer { offset += count }
            if ch.isWhitespace {
                flush()
                sawSpace = true
                continue
            }
            if current.isEmpty {
                start = offset
                current = String(ch)
                currentSpaceBefore = sawSpace
                sawSpace = false
                continue
            }
            // Inside a run without spaces: cut before an unspaced character, unless the run so far is only
            // opening punctuation (「 or “ stays with what follows); cut before anything that follows an
            // unspaced character, unless it is closing punctuation (。 or 」 stays with what precedes).
            let last = current.last!
            let cut: Bool
            if (isClosing(ch) || isSmallKana(ch)) && (isUnspaced(last) || isClosing(last)) {
                cut = false
            } else if isUnspaced(ch) {
                // In Japanese only where a word starts (so 2025年 and Tシャツ stay whole too).
                let inWord = wordStarts.map { !$0.contains(offset) } ?? false
                cut = !current.allSatisfy(isOpening) && !inWord
            } else if current.contains(where: isUnspaced) {
                cut = !(isPunctuation(ch) && !isOpening(ch))
            } else {
                cut = false
            }
            if cut {
                flush()
                start = offset
                current = String(ch)
                currentSpaceBefore = false
            } else {
                current.append(ch)
            }
        }
        offset = text.unicodeScalars.count
        flush()
        return words
    }

    /// Characters of scripts that do not separate words with spaces.
    public static func isUnspaced(_ ch: Character) -> Bool {
        guard let v = ch.unicodeScalars.first?.value else { return false }
        switch v {
        case 0x3040...0x30FF, 0x31F0...0x31FF, 0xFF66...0xFF9F: return true   // kana
        case 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xF900...0xFAFF, 0x20000...0x3134F: return true   // Han
        case 0x0E00...0x0EFF, 0x1000...0x109F, 0x1780...0x17FF: return true   // Thai, Lao, Myanmar, Khmer
        default: return false
        }
    }

    /// Columns a character takes in a caption line: East Asian wide characters and emoji count twice.
    public static func width(_ ch: Character) -> Int {
        guard let s = ch.unicodeScalars.first else { return 0 }
        let v = s.value
        switch v {
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
             0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x20000...0x3FFFD:
            return 2
        default:
            return s.properties.isEmojiPresentation ? 2 : 1
        }
    }

    public static func width(_ text: String) -> Int { text.reduce(0) { $0 + width($1) } }

    static func isPunctuation(_ ch: Character) -> Bool { ch.isPunctuation || ch.isSymbol && !ch.isLetter && !ch.isNumber && width(ch) == 1 && !(ch.unicodeScalars.first?.properties.isEmojiPresentation ?? false) }

    static let openingMarks: Set<Character> = ["「", "『", "（", "(", "[", "【", "〔", "《", "〈", "“", "‘", "«", "¿", "¡", "„", "‚", "\"", "'"]
    static let closingMarks: Set<Character> = ["」", "』", "）", ")", "]", "】", "〕", "》", "〉", "”", "’", "»", "、", "。", "，", "．", "！", "？", "：", "；", "…", "ー", "々", "〜"]
    /// Small kana never start a line (kinsoku): ゃ in とうきょう stays with き.
    static let smallKana: Set<Character> = Set("ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿ")
    static func isSmallKana(_ ch: Character) -> Bool { smallKana.contains(ch) }
    static func isOpening(_ ch: Character) -> Bool { openingMarks.contains(ch) }
    static func isClosing(_ ch: Character) -> Bool { closingMarks.contains(ch) }
}
