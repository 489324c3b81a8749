import Foundation

/// BERT's tokenizer as the Rust `tokenizers` library (what sentence-transformers runs) does it: clean the text
/// (drop NUL, U+FFFD and control/format characters, turn whitespace into spaces), put spaces round CJK
/// ideographs, strip accents (NFD, then drop non-spacing marks), lower-case scalar by scalar, split on
/// whitespace and punctuation, then greedy longest-match WordPiece with "##" continuations.
/// Checked id-for-id against the Python tokenizer on the corpus install-minilm writes (LibraryTests).
public struct WordPieceTokenizer: Sendable {
    public struct Settings: Sendable, Codable, Equatable {
        public var lowercase: Bool
        public var stripAccents: Bool
        public var tokenizeChineseChars: Bool
        public var unkToken: String
        public var clsToken: String
        public var sepToken: String
        public var padToken: String
        public var maxInputCharsPerWord: Int
        /// Added tokens matched in the raw text before normalisation ("[CLS]" typed in a text is [CLS]).
        public var specialTokens: [String]?

        enum CodingKeys: String, CodingKey {
            case lowercase, stripAccents = "strip_accents", tokenizeChineseChars = "tokenize_chinese_chars"
            case unkToken = "unk_token", clsToken = "cls_token", sepToken = "sep_token", padToken = "pad_token"
            case maxInputCharsPerWord = "max_input_chars_per_word", specialTokens = "special_tokens"
        }

        public init(lowercase: Bool = true, stripAccents: Bool = true, tokenizeChineseChars: Bool = true,
                    unkToken: String = "[UNK]", clsToken: String = "[CLS]", sepToken: String = "[SEP]",
                    padToken: String = "[PAD]", maxInputCharsPerWord: Int = 100, specialTokens: [String]? = nil) {
            self.lowercase = lowercase; self.stripAccents = stripAccents; self.tokenizeChineseChars = tokenizeChineseChars
            self.unkToken = unkToken; self.clsToken = clsToken; self.sepToken = sepToken; self.padToken = padToken
            self.maxInputCharsPerWord = maxInputCharsPerWord; self.specialTokens = specialTokens
        }
    }

    public let settings: Settings
    private let vocab: [String: Int32]
    /// The longest vocabulary entry in scalars: no match can be longer, so the search starts there.
    private let longest: Int
    /// Special tokens with their ids, longest first (leftmost-longest matching).
    private let specials: [(text: [Unicode.Scalar], id: Int32)]
    public let unkID: Int32, clsID: Int32, sepID: Int32, padID: Int32
    public var vocabularySize: Int { vocab.count }

    public enum LoadError: Error, CustomStringConvertible {
        case unreadable(file: String, reason: String)
        case missingToken(file: String, token: String)
        public var description: String {
            switch self {
            case .unreadable(let f, let r): "vocabulary \(f) cannot be read (\(r))"
            case .missingToken(let f, let t): "vocabulary \(f) has no \(t) token"
            }
        }
    }

    /// `vocab.txt`: one token a line, id = line number (0-based).
    public init(vocabFile: URL, settings: Settings) throws(LoadError) {
        let text: String
        do { text = try String(contentsOf: vocabFile, encoding: .utf8) } catch {
            throw .unreadable(file: vocabFile.path, reason: error.localizedDescription)
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { String($0) }
        if lines.last == "" { lines.removeLast() }
        try self.init(tokens: lines, settings: settings, source: vocabFile.path)
    }

    public init(tokens: [String], settings: Settings, source: String = "vocabulary") throws(LoadError) {
        var vocab: [String: Int32] = [:]
        vocab.reserveCapacity(tokens.count)
        var longest = 1
        for (i, raw) in tokens.enumerated() {
            let t = raw.hasSuffix("\r") ? String(raw.dropLast()) : raw
            if vocab[t] == nil { vocab[t] = Int32(i) }
            longest = max(longest, t.unicodeScalars.count)
        }
        func id(_ t: String) throws(LoadError) -> Int32 {
            guard let v = vocab[t] else { throw .missingToken(file: source, token: t) }
            return v
        }
        self.settings = settings
        self.vocab = vocab
        let names = settings.specialTokens ?? [settings.padToken, settings.unkToken, settings.clsToken, settings.sepToken, "[MASK]"]
        specials = names.compactMap { n in vocab[n].map { (Array(n.unicodeScalars), $0) } }
            .sorted { $0.text.count > $1.text.count }
        self.longest = longest
        unkID = try id(settings.unkToken); clsID = try id(settings.clsToken)
        sepID = try id(settings.sepToken); padID = try id(settings.padToken)
    }

    /// [CLS] pieces [SEP], the pieces cut so the whole fits `maxTokens` (sentence-transformers' truncation).
    public func encode(_ text: String, maxTokens: Int? = nil) -> [Int32] {
        var ids = pieces(text)
        if let maxTokens, ids.count > maxTokens - 2 { ids.removeLast(ids.count - max(0, maxTokens - 2)) }
        return [clsID] + ids + [sepID]
    }

    /// The WordPiece ids of `text`, without special tokens.
    public func pieces(_ text: String) -> [Int32] {
        var out: [Int32] = []
        for segment in splitSpecials(text) {
            switch segment {
            case .special(let id): out.append(id)
            case .text(let t): for word in words(normalize(t)) { wordPiece(word, into: &out) }
            }
        }
        return out
    }

    enum Segment { case text(String), special(Int32) }

    /// The text cut round the special tokens it contains, as typed (before any normalisation).
    func splitSpecials(_ text: String) -> [Segment] {
        guard !specials.isEmpty, text.unicodeScalars.contains("[") else { return [.text(text)] }
        let scalars = Array(text.unicodeScalars)
        var out: [Segment] = []
        var start = 0, i = 0
        func flush(_ end: Int) {
            if end > start { out.append(.text(String(String.UnicodeScalarView(scalars[start..<end])))) }
        }
        while i < scalars.count {
            if let m = specials.first(where: { sp in
                i + sp.text.count <= scalars.count && scalars[i..<(i + sp.text.count)].elementsEqual(sp.text)
            }) {
                flush(i)
                out.append(.special(m.id))
                i += m.text.count
                start = i
            } else {
                i += 1
            }
        }
        flush(scalars.count)
        return out
    }

    /// The words the pre-tokenizer sees (normalised, split), as text: for tests and for `library search -v`.
    public func preTokenized(_ text: String) -> [String] {
        words(normalize(text)).map { String(String.UnicodeScalarView($0)) }
    }

    // MARK: - normalisation

    func normalize(_ text: String) -> [Unicode.Scalar] {
        var cleaned: [Unicode.Scalar] = []
        cleaned.reserveCapacity(text.unicodeScalars.count)
        var ascii = true
        for s in text.unicodeScalars {
            if s.value == 0 || s.value == 0xFFFD || Self.isControl(s) { continue }
            if Self.isCleanWhitespace(s) { cleaned.append(" "); continue }
            if settings.tokenizeChineseChars && Self.isChinese(s) {
                cleaned.append(" "); cleaned.append(s); cleaned.append(" ")
            } else {
                cleaned.append(s)
            }
            if !s.isASCII { ascii = false }
        }
        if ascii {
            // Nothing to decompose; ASCII lower-casing is the whole job.
            if settings.lowercase {
                for i in cleaned.indices where cleaned[i].value >= 65 && cleaned[i].value <= 90 {
                    cleaned[i] = Unicode.Scalar(cleaned[i].value + 32)!
                }
            }
            return cleaned
        }
        var scalars = cleaned
        if settings.stripAccents {
            let decomposed = String(String.UnicodeScalarView(cleaned)).decomposedStringWithCanonicalMapping
            scalars = decomposed.unicodeScalars.filter { Self.legacyCategory($0) != .nonspacingMark }
        }
        if settings.lowercase {
            var lowered: [Unicode.Scalar] = []
            lowered.reserveCapacity(scalars.count)
            // Scalar by scalar (no final-sigma context), as Rust's char::to_lowercase.
            for s in scalars {
                if s.isASCII {
                    lowered.append(s.value >= 65 && s.value <= 90 ? Unicode.Scalar(s.value + 32)! : s)
                } else {
                    lowered.append(contentsOf: s.properties.lowercaseMapping.unicodeScalars)
                }
            }
            scalars = lowered
        }
        return scalars
    }

    /// Whitespace removed, punctuation kept as one-scalar words.
    func words(_ scalars: [Unicode.Scalar]) -> [[Unicode.Scalar]] {
        var out: [[Unicode.Scalar]] = []
        var current: [Unicode.Scalar] = []
        for s in scalars {
            if s.properties.isWhitespace {
                if !current.isEmpty { out.append(current); current.removeAll(keepingCapacity: true) }
            } else if Self.isPunctuation(s) {
                if !current.isEmpty { out.append(current); current.removeAll(keepingCapacity: true) }
                out.append([s])
            } else {
                current.append(s)
            }
        }
        if !current.isEmpty { out.append(current) }
        return out
    }

    func wordPiece(_ word: [Unicode.Scalar], into out: inout [Int32]) {
        if word.count > settings.maxInputCharsPerWord { out.append(unkID); return }
        var pieces: [Int32] = []
        var start = 0
        while start < word.count {
            var end = min(word.count, start + longest)
            var found: Int32?
            while end > start {
                var view = String.UnicodeScalarView()
                if start > 0 { view.append(contentsOf: "##".unicodeScalars) }
                view.append(contentsOf: word[start..<end])
                if let id = vocab[String(view)] { found = id; break }
                end -= 1
            }
            guard let id = found else { out.append(unkID); return }
            pieces.append(id)
            start = end
        }
        out.append(contentsOf: pieces)
    }

    // MARK: - character classes (the Rust tokenizers' definitions)

    /// The general category as the Rust `tokenizers` crate sees it: its category tables (controls, marks,
    /// punctuation) are Unicode 8.0's, so a scalar assigned later has no category there (and, unlike a Swift
    /// `.unassigned`, is kept). Found by comparing every code point below U+30000 with the Python tokenizer.
    static func legacyCategory(_ s: Unicode.Scalar) -> Unicode.GeneralCategory? {
        guard s.value >= 0x80 else { return s.properties.generalCategory }
        if let fixed = recategorized[s.value] { return fixed }
        guard let age = s.properties.age, age.major < 8 || (age.major == 8 && age.minor == 0) else { return nil }
        let c = s.properties.generalCategory
        return c == .unassigned ? nil : c
    }

    /// Scalars whose category changed after Unicode 8.0 in a way the tokenizer notices.
    static let recategorized: [UInt32: Unicode.GeneralCategory] = [
        0x1734: .nonspacingMark, 0x1171E: .nonspacingMark, 0x166D: .otherPunctuation, 0x111C9: .otherPunctuation,
        0xA9BD: .spacingMark, 0x1885: .otherLetter, 0x1886: .otherLetter,
    ]

    static func isCleanWhitespace(_ s: Unicode.Scalar) -> Bool {
        s == "\t" || s == "\n" || s == "\r" || s.properties.isWhitespace
    }

    /// Control, format, surrogate, private-use and unassigned characters, except tab and newlines.
    static func isControl(_ s: Unicode.Scalar) -> Bool {
        if s == "\t" || s == "\n" || s == "\r" { return false }
        switch legacyCategory(s) {
        case .control, .format, .surrogate, .privateUse: return true
        default: return false
        }
    }

    /// ASCII punctuation and symbols (BERT treats `$+<=>^`|~` as punctuation), or any Unicode P* category.
    static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) { return true }
        switch legacyCategory(s) {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation: return true
        default: return false
        }
    }

    /// The CJK Unified Ideographs blocks BERT spaces out (not Hiragana, Katakana or Hangul). 0x2B920, not
    /// 0x2B820, as in the Rust tokenizer (Python's BertTokenizer has 0x2B820): matching it is the point.
    static func isChinese(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
             0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F: return true
        default: return false
        }
    }
}
