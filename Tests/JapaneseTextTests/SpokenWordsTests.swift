import Foundation
import Testing
@testable import JapaneseText

/// `spokenWords(in:)` cuts the text where Kokoro's phoneme string has its spaces (the caption timings hang on it):
/// on every corpus sentence the pieces are in order, cover every non-space character once, and joined with spaces
/// equal the phoneme string misaki's own spacing rules give (written here as the string-level rules it replaced).
@Suite struct SpokenWordsTests {
    /// misaki's _romaji_tokens spacing on the joined string, then its glottal-stop rule: the reference.
    static func stringLevel(_ p: JapanesePhonemizer, _ text: String) throws -> String {
        func pyIn(_ a: String, _ b: String) -> Bool { a.isEmpty || b.contains(a) }
        var out: [(text: String, space: Bool)] = []
        for t in try p.groups(text) {
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
            out.append((roma.replacingOccurrences(of: "っ", with: ""), space))
        }
        let c = Array(out.map { $0.text + ($0.space ? " " : "") }.joined().split(whereSeparator: \.isWhitespace).joined(separator: " ")
            .replacingOccurrences(of: "(", with: "«").replacingOccurrences(of: ")", with: "»"))
        var s = ""
        for (i, ch) in c.enumerated() {
            if ch == " " {
                let prev = i > 0 ? c[i - 1] : nil, next = i + 1 < c.count ? c[i + 1] : nil
                if next == "ʔ", let p = prev, !"!\",.:;?»—…”".contains(p) { continue }
                if next == "ʔ", prev == nil { continue }
                if prev == "ʔ", !(next.map { "\"«“".contains($0) } ?? false) { continue }
            }
            s.append(ch)
        }
        return s
    }

    @Test func piecesCoverTheTextAndJoinToThePhonemeString() throws {
        let p = try JapaneseTextTests.phonemizer.get()
        let sentences = try AgreementTests.corpus().map(\.sentence) + ["「こんにちは」と彼は言った。", "（笑）それで、3匹の猫が…"]
        var mismatches: [String] = []
        for text in sentences {
            let words = try p.spokenWords(in: text)
            let joined = words.map(\.phonemes).joined(separator: " ")
            let reference = try Self.stringLevel(p, text)
            if joined != reference { mismatches.append("\(text)\n  pieces: \(joined)\n  string: \(reference)") }
            #expect(words.allSatisfy { !$0.phonemes.isEmpty && !$0.phonemes.contains(" ") }, "\(text): \(words.map(\.phonemes))")
            var cursor = text.startIndex
            var covered = ""
            for w in words {
                #expect(w.surface.lowerBound >= cursor, "\(text): pieces out of order")
                covered += text[w.surface]
                cursor = w.surface.upperBound
            }
            #expect(covered.filter { !$0.isWhitespace } == text.filter { !$0.isWhitespace }, "\(text): pieces cover \(covered)")
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) of \(sentences.count):\n\(mismatches.prefix(5).joined(separator: "\n"))")
    }
}
