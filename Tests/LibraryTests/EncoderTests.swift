import Foundation
import Testing
import TestSupport
@testable import Library
import TorchRuntime

/// The Swift side of the model against sentence-transformers (fixtures written by Tools/export/minilm_reference.py).
@Suite(.serialized, .enabled(if: MiniLMTestPack.enabled, MiniLMTestPack.needs))
struct EncoderTests {
    struct Tokens: Decodable { var tokenizer: String; var strings: [String]; var ids: [[Int32]] }
    struct Embeddings: Decodable { var max_seq_length: Int; var sentences: [String]; var embeddings: [[Float]] }

    @Test func tokenizerMatchesPythonOnTheWholeCorpus() throws {
        let (encoder, _) = try MiniLMTestPack.loaded.get()
        let ref = try JSONDecoder().decode(Tokens.self, from: Data(contentsOf: try MiniLMTestPack.packDir().appendingPathComponent("reference/tokens.json")))
        #expect(ref.strings.count >= 500)
        #expect(ref.strings.contains { $0.unicodeScalars.contains { !$0.isASCII } })
        var mismatches: [String] = []
        for (s, ids) in zip(ref.strings, ref.ids) where encoder.tokenizer.encode(s) != ids {
            mismatches.append("\(s.debugDescription): swift \(encoder.tokenizer.encode(s)) python \(ids)")
        }
        print("tokenizer: \(ref.strings.count - mismatches.count)/\(ref.strings.count) strings identical to Python's \(ref.tokenizer)")
        #expect(mismatches.isEmpty, "\(mismatches.count) strings differ:\n\(mismatches.prefix(20).joined(separator: "\n"))")
    }

    /// Every code point below U+30000 between two letters: normaliser and pre-tokenizer agree with Rust's.
    @Test func everyCodePointPreTokenizesAsInPython() throws {
        let (encoder, _) = try MiniLMTestPack.loaded.get()
        let data = try Data(contentsOf: try MiniLMTestPack.packDir().appendingPathComponent("reference/pretokenized.json"))
        let ref = try JSONDecoder().decode([String: [String]].self, from: data)
        #expect(ref.count > 190_000)
        var bad: [String] = []
        for (key, words) in ref {
            guard let cp = UInt32(key), let s = Unicode.Scalar(cp) else { continue }
            let mine = encoder.tokenizer.preTokenized("a" + String(Character(s)) + "b")
            if mine != words { bad.append(String(format: "U+%04X", cp) + ": swift \(mine) python \(words)") }
        }
        #expect(bad.isEmpty, "\(bad.count) code points differ:\n\(bad.sorted().prefix(20).joined(separator: "\n"))")
    }

    @Test func embeddingsMatchSentenceTransformers() async throws {
        try await offPool { try Self.embeddings() }
    }

    static func embeddings() throws {
        let (encoder, module) = try MiniLMTestPack.loaded.get()
        let ref = try JSONDecoder().decode(Embeddings.self, from: Data(contentsOf: try MiniLMTestPack.packDir().appendingPathComponent("reference/embeddings.json")))
        #expect(ref.sentences.count == 200)
        #expect(ref.max_seq_length == encoder.config.maxTokens)
        let dim = encoder.dimension
        let swift = try encoder.embed(ref.sentences, module: module)
        var worst: Float = 1
        for (i, expected) in ref.embeddings.enumerated() {
            let row = swift[(i * dim)..<((i + 1) * dim)]
            let dot = zip(row, expected).reduce(Float(0)) { $0 + $1.0 * $1.1 }
            let norm = expected.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
            worst = min(worst, dot / norm)
        }
        print("embeddings: 200 sentences, min cosine(swift, sentence-transformers) = \(worst)")
        #expect(worst >= 0.9999)
        // Unit length, and meaning: related sentences score above unrelated ones.
        let e = try encoder.embed(["a dog runs on the beach", "a puppy playing by the sea", "quarterly tax report"], module: module)
        func cos(_ a: Int, _ b: Int) -> Float { (0..<dim).reduce(0) { $0 + e[a * dim + $1] * e[b * dim + $1] } }
        #expect(abs(cos(0, 0) - 1) < 1e-4)
        #expect(cos(0, 1) > cos(0, 2) + 0.2)
    }
}
