import Foundation

/// Text → Piper phoneme ids, sentence by sentence, remembering which ids belong to which written word.
///
/// The same rules as `Tools/export/piper_phonemize.py` (the reference; `Tools/export/tests/fixtures/phonemes.json`
/// records its output), for Debian's espeak-ng 1.51, which lacks `espeak_TextToPhonemesWithTerminator`:
/// split clauses at `. , ; : ! ?` followed by white space, a closing quote/bracket or the end; phonemize each
/// clause with espeak-ng (IPA, the pack's `espeak_voice`); drop language flags like `(fr)`; NFD; put the
/// punctuation back (`, : ;` plus a space; `. ? !` end the sentence); map code points through
/// `phoneme_id_map` (unknown ones dropped); per sentence `[bos, pad, (id, pad)*, eos]`.
public enum PiperText {
    /// One clause: its text without the punctuation run that ended it, that run ("" at the end of the
    /// text), and the mark that counts (the run's last character).
    public struct Clause: Sendable, Equatable {
        public var text: String
        public var punctuation: String
        public var mark: Character? { punctuation.last }
    }

    /// A written word (as captions show it, with trailing clause punctuation) and the ids it spans.
    public struct Word: Sendable, Equatable {
        public var text: String
        /// Indices into the sentence's `ids`: the word's phonemes and the pads after them.
        public var ids: Range<Int>
    }

    public struct Sentence: Sendable, Equatable {
        public var ids: [Int]
        public var phonemes: String
        public var words: [Word]
    }

    public struct IDConvention: Sendable {
        public var idMap: [String: [Int]]
        public var phonemeMap: [String: [String]]
        public var pad: String
        public var bos: String
        public var eos: String
        public init(idMap: [String: [Int]], phonemeMap: [String: [String]] = [:], pad: String = "_", bos: String = "^", eos: String = "$") {
            self.idMap = idMap; self.phonemeMap = phonemeMap; self.pad = pad; self.bos = bos; self.eos = eos
        }
    }

    // ([.,;:!?]+)(?=["'”’)\]]*(\s|$))
    nonisolated(unsafe) private static let clauseEnd = try! NSRegularExpression(pattern: #"([.,;:!?]+)(?=["'”’)\]]*(\s|$))"#)
    nonisolated(unsafe) private static let languageFlag = try! NSRegularExpression(pattern: #"\([a-z\-]+\)"#)

    public static func splitClauses(_ text: String) -> [Clause] {
        let ns = text as NSString
        var out: [Clause] = []
        var pos = 0
        for m in clauseEnd.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
            let clause = ns.substring(with: NSRange(location: pos, length: m.range.location - pos)).trimmingCharacters(in: .whitespacesAndNewlines)
            let run = ns.substring(with: m.range(at: 1))
            if !clause.isEmpty {
                out.append(Clause(text: clause, punctuation: run))
            } else if !out.isEmpty {  // punctuation alone ("...", " ?"): it belongs to the previous clause
                out[out.count - 1].punctuation += run
            }
            pos = m.range.location + m.range.length
        }
        let rest = ns.substring(from: pos).trimmingCharacters(in: .whitespacesAndNewlines)
        if !rest.isEmpty { out.append(Clause(text: rest, punctuation: "")) }
        return out
    }

    static func splitWords(_ clause: String) -> [String] {
        clause.split(whereSeparator: { $0.isWhitespace }).map(String.init)
    }

    /// The lines to phonemize for `clauses`: every clause, then every word of every clause (each word
    /// alone tells how many IPA words espeak makes of it: "3.5" → three, "ProStudio" → two).
    public static func phonemizerLines(_ clauses: [Clause]) -> [String] {
        clauses.map(\.text) + clauses.flatMap { splitWords($0.text) }
    }

    static func cleanIPA(_ ipa: String) -> String {
        let ns = ipa as NSString
        let stripped = languageFlag.stringByReplacingMatches(in: ipa, range: NSRange(location: 0, length: ns.length), withTemplate: "")
        return stripped.decomposedStringWithCanonicalMapping
    }

    /// Builds the sentences from the clauses and the phonemizer's answer to `phonemizerLines(clauses)`.
    public static func sentences(clauses: [Clause], ipa lines: [String], convention c: IDConvention) -> [Sentence] {
        precondition(lines.count == phonemizerLines(clauses).count, "one IPA line per phonemizer line")
        var sentences: [Sentence] = []
        var ids: [Int] = []
        var phonemes = ""
        var words: [Word] = []
        var open = false
        let pad = c.idMap[c.pad] ?? [0]

        func begin() {
            ids = (c.idMap[c.bos] ?? [1]) + pad
            phonemes = ""
            words = []
            open = true
        }
        func end() {
            ids += c.idMap[c.eos] ?? [2]
            sentences.append(Sentence(ids: ids, phonemes: phonemes, words: words))
            open = false
        }
        func emit(_ scalar: Unicode.Scalar) {
            phonemes.unicodeScalars.append(scalar)
            for q in c.phonemeMap[String(scalar)] ?? [String(scalar)] {
                if let mapped = c.idMap[q] { ids += mapped + pad }
            }
        }

        var wordLine = clauses.count
        for (k, clause) in clauses.enumerated() {
            if !open { begin() }
            let ipa = cleanIPA(lines[k])
            let textWords = splitWords(clause.text)
            let isolated = (0..<textWords.count).map { j in
                cleanIPA(lines[wordLine + j]).split(separator: " ").count
            }
            wordLine += textWords.count
            // The clause's IPA words, as scalar lists; emitting them separated by single spaces gives
            // back the clause's IPA exactly.
            let ipaWords = ipa.isEmpty ? [] : ipa.split(separator: " ", omittingEmptySubsequences: false).map { Array($0.unicodeScalars) }
            let groups = group(textWords: textWords, isolated: isolated, ipaWordCount: ipaWords.count)
            var w = 0
            for (gi, g) in groups.enumerated() {
                var lo: Int? = nil
                for i in g.ipa {
                    if w > 0 { emit(" ") }
                    let before = ids.count
                    for s in ipaWords[i] { emit(s) }
                    if ids.count > before, lo == nil { lo = before }
                    w += 1
                }
                var text = g.text
                if gi == groups.count - 1 { text += clause.punctuation }
                let start = lo ?? ids.count
                words.append(Word(text: text, ids: start..<max(start, ids.count)))
            }
            // IPA words no group took (none when the grouping is consistent).
            while w < ipaWords.count {
                if w > 0 { emit(" ") }
                for s in ipaWords[w] { emit(s) }
                w += 1
            }
            if let mark = clause.mark {
                for s in String(mark).unicodeScalars { emit(s) }
                if ".?!".contains(mark) {
                    end()
                } else {
                    emit(" ")
                }
            }
        }
        if open { end() }
        return sentences
    }

    struct Group { var text: String; var ipa: Range<Int> }

    /// Which IPA words belong to which written words. Usually one each; when espeak makes several of one
    /// word (numbers, compounds), the counts from phonemizing each word alone say how many; if those do not
    /// add up, the IPA words are shared out in proportion. Written words left with none join a neighbour.
    static func group(textWords: [String], isolated: [Int], ipaWordCount m: Int) -> [Group] {
        let n = textWords.count
        guard n > 0 else { return m > 0 ? [Group(text: "", ipa: 0..<m)] : [] }
        var counts: [Int]
        if n == m {
            counts = Array(repeating: 1, count: n)
        } else if isolated.reduce(0, +) == m {
            counts = isolated
        } else {
            let weights = isolated.map { max($0, 1) }
            let total = Double(weights.reduce(0, +))
            var acc = 0, previous = 0
            counts = weights.map { wj in
                acc += wj
                let b = Int((Double(acc) * Double(m) / total).rounded())
                defer { previous = b }
                return b - previous
            }
        }
        var groups: [Group] = []
        var pending: [String] = []
        var pos = 0
        for (j, word) in textWords.enumerated() {
            let k = counts[j]
            if k == 0 {
                if groups.isEmpty { pending.append(word) } else { groups[groups.count - 1].text += " " + word }
                continue
            }
            groups.append(Group(text: (pending + [word]).joined(separator: " "), ipa: pos..<(pos + k)))
            pending = []
            pos += k
        }
        if !pending.isEmpty {
            if groups.isEmpty { groups.append(Group(text: pending.joined(separator: " "), ipa: 0..<0)) } else { groups[groups.count - 1].text += " " + pending.joined(separator: " ") }
        }
        return groups
    }
}
