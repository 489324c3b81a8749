import Engines
import Foundation
import Library
import TorchRuntime

/// Icon names embedded once with the sentence encoder (MiniLM), kept on disk, and the scene's narration matched to
/// them by cosine similarity. A name is read as words ("local_cafe" -> "local cafe").
public struct IconIndex: Sendable {
    /// The lowest similarity at which a scene shows its icon; below it the card is type only. Measured on the 84
    /// labelled scenes (Docs/explainer.md): at 0.35 an icon shows on 75 of them and is right on 69% of those.
    public static let defaultMinScore: Float = 0.35

    public let names: [String]
    /// Unit-length rows, `names.count` x `dimension`.
    public let vectors: [Float]
    public let dimension: Int
    private let negated: [Bool]

    init(names: [String], vectors: [Float], dimension: Int) {
        self.names = names; self.vectors = vectors; self.dimension = dimension
        negated = names.map(Self.isNegated)
    }

    public static func words(_ name: String) -> String { name.replacingOccurrences(of: "_", with: " ") }

    /// The index of `names`, from `cache` (a folder) when it holds one made from the same names and pack, else
    /// embedded now and written there.
    public static func load(names: [String], encoder: SentenceEncoder, module: TorchModule, cache: URL?) throws -> IconIndex {
        let key = SeededRandom.hash(names.joined(separator: "\n") + "|" + encoder.pack.name + "|" + encoder.pack.identity)
        let file = cache?.appendingPathComponent(String(format: "icons-%016llx.f32", key))
        let dim = encoder.dimension
        if let file, let data = FileManager.default.contents(atPath: file.path), data.count == names.count * dim * 4 {
            let vectors = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            return IconIndex(names: names, vectors: vectors, dimension: dim)
        }
        let vectors = try encoder.embed(names.map(words), module: module)
        if let file, let cache {
            try? FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true)
            // Written whole then renamed: a reader never sees half an index.
            let temp = cache.appendingPathComponent(".\(file.lastPathComponent).\(getpid())")
            if (try? vectors.withUnsafeBytes { Data($0) }.write(to: temp)) != nil {
                _ = temp.path.withCString { from in file.path.withCString { to in rename(from, to) } }
            }
        }
        return IconIndex(names: names, vectors: vectors, dimension: dim)
    }

    /// Icons that show a thing crossed out or switched off ("music_off", "no_meals", "do_not_disturb_on", "block").
    /// The encoder reads "music off" as close to "music", so they won sentences that say the thing is there: on the
    /// labelled set they were 4 of the 32 misses. They are never chosen; a crossed-out picture beside words that do
    /// not cross anything out contradicts them.
    public static func isNegated(_ name: String) -> Bool {
        let parts = name.split(separator: "_")
        return parts.contains { ["no", "not", "off", "disabled", "block"].contains($0) }
    }

    /// The closest icon to a unit-length query and its cosine similarity, negated icons left out.
    public func best(for query: [Float]) -> (name: String, score: Float)? {
        guard query.count == dimension, !names.isEmpty else { return nil }
        var bestIndex = 0
        var bestScore = -Float.infinity
        vectors.withUnsafeBufferPointer { v in
            for i in 0..<names.count where !negated[i] {
                var dot: Float = 0
                for k in 0..<dimension { dot += v[i * dimension + k] * query[k] }
                if dot > bestScore { bestScore = dot; bestIndex = i }
            }
        }
        return (names[bestIndex], bestScore)
    }

    /// The baseline the matching is measured against: the icon whose name shares the most words with the sentence
    /// (a plural "s" dropped on both sides), fewer extra words breaking ties; nil when no name word is in the sentence.
    public static func keywordMatch(_ sentence: String, names: [String]) -> String? {
        func stem(_ w: Substring) -> String { let l = w.lowercased(); return l.count > 3 && l.hasSuffix("s") ? String(l.dropLast()) : l }
        let said = Set(sentence.split { !$0.isLetter }.map(stem))
        var best: (name: String, hits: Int, extra: Int)?
        for name in names where !isNegated(name) {
            let parts = name.split(separator: "_").map(stem)
            let hits = parts.filter { $0.count > 2 && said.contains($0) }.count
            guard hits > 0 else { continue }
            let extra = parts.count - hits
            if best == nil || hits > best!.hits || (hits == best!.hits && extra < best!.extra) { best = (name, hits, extra) }
        }
        return best?.name
    }
}
