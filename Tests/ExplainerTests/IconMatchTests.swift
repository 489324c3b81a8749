import Foundation
import Library
import Testing
import TestSupport
import TorchRuntime
@testable import Explainer

/// The minilm-l6-v2 pack, made as the library engine's tests make it (Tools/export/install-minilm) into
/// $PROSTUDIO_TEST_MODELS: skipped with the reason outside CI when it cannot be made, failed under CI=true.
enum MiniLM {
    static let pack = TestDependency("the minilm-l6-v2 pack") {
        let dir = testModelsFolder()
        return try makePack(script: "Tools/export/install-minilm", [dir.path], in: dir, marker: "minilm-l6-v2/reference/tokens.json")
    }
    static var enabled: Bool { pack.enabled && IconFontDependency.font.enabled }
}

/// Precision at 1 of the icon chosen for 84 scene sentences (Fixtures/icon-scenes.tsv: each with the icons that fit,
/// written by hand), MiniLM against the keyword baseline.
@Suite(.serialized, .enabled(if: MiniLM.enabled, "needs the minilm-l6-v2 pack and the Material Icons font"))
struct IconMatchTests {
    struct Row { var sentence: String; var fits: Set<String> }

    static func rows() throws -> [Row] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/icon-scenes.tsv")
        return try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map { line in
            let f = line.split(separator: "\t")
            return Row(sentence: String(f[0]), fits: Set(f[1].split(separator: ",").map(String.init)))
        }
    }

    @Test func minilmBeatsKeywordsAtPrecisionOne() throws {
        let names = try IconFont.names(path: try IconFontDependency.font.get())
        let rows = try Self.rows()
        #expect(rows.count >= 80)
        // Every row can be right: at least one of its icons is in the font.
        for r in rows { #expect(!r.fits.isDisjoint(with: names), "no icon of \(r.fits) is in the font: \(r.sentence)") }

        let encoder = try SentenceEncoder(store: ModelStore(root: try MiniLM.pack.get()))
        let module = try encoder.loadModule()
        let cache = TempDir("icon-index")
        let t0 = Date()
        let index = try IconIndex.load(names: names, encoder: encoder, module: module, cache: cache.url)
        let built = Date().timeIntervalSince(t0)
        let t1 = Date()
        let again = try IconIndex.load(names: names, encoder: encoder, module: module, cache: cache.url)
        let reread = Date().timeIntervalSince(t1)
        #expect(again.vectors == index.vectors)
        // Embedded once: the cache folder holds the index, one float per name and dimension.
        let files = try FileManager.default.contentsOfDirectory(atPath: cache.path).filter { $0.hasPrefix("icons-") && $0.hasSuffix(".f32") }
        #expect(files.count == 1)
        let size = try files.first.map { try FileManager.default.attributesOfItem(atPath: cache.url.appendingPathComponent($0).path)[.size] as? Int }
        #expect(size == names.count * encoder.dimension * 4)
        print(String(format: "icon index: %d names embedded in %.1f s, read back from its cache in %.3f s", names.count, built, reread))

        let queries = try encoder.embed(rows.map(\.sentence), module: module)
        var minilmRight = 0, keywordRight = 0
        var scored: [(score: Float, right: Bool)] = []
        for (i, r) in rows.enumerated() {
            let q = Array(queries[(i * index.dimension)..<((i + 1) * index.dimension)])
            let best = try #require(index.best(for: q))
            let right = r.fits.contains(best.name)
            if right { minilmRight += 1 }
            scored.append((best.score, right))
            if let k = IconIndex.keywordMatch(r.sentence, names: names), r.fits.contains(k) { keywordRight += 1 }
            print("\(right ? "ok  " : "miss") \(String(format: "%.2f", best.score)) \(best.name)  <- \(r.sentence)")
        }
        let p1 = Double(minilmRight) / Double(rows.count), pk = Double(keywordRight) / Double(rows.count)
        print(String(format: "precision@1: MiniLM %.3f (%d/%d), keyword baseline %.3f (%d/%d)", p1, minilmRight, rows.count, pk, keywordRight, rows.count))
        for threshold: Float in [0.2, 0.25, 0.3, 0.35, 0.4] {
            let kept = scored.filter { $0.score >= threshold }
            let right = kept.filter(\.right).count
            print(String(format: "threshold %.2f: icon on %d/%d scenes, right on %d (precision %.3f)", threshold, kept.count, rows.count, right,
                         kept.isEmpty ? 0 : Double(right) / Double(kept.count)))
        }
        // Measured on this set: MiniLM 0.655 (55/84; 0.619 before negated icons were left out), keywords 0.476 (40/84).
        // Floors a little under.
        #expect(p1 >= 0.61)
        #expect(p1 >= pk + 0.08)
    }

    /// A crossed-out or switched-off icon is never chosen, whatever the encoder scores it (it contradicts a sentence
    /// that says the thing is there): "music_off" won "Music helps many people focus" before.
    @Test func negatedIconsAreNeverChosen() throws {
        #expect(IconIndex.isNegated("music_off") && IconIndex.isNegated("no_meals") && IconIndex.isNegated("do_not_disturb_on"))
        #expect(!IconIndex.isNegated("music_note") && !IconIndex.isNegated("notifications") && !IconIndex.isNegated("offline_bolt"))
        let names = try IconFont.names(path: try IconFontDependency.font.get())
        let encoder = try SentenceEncoder(store: ModelStore(root: try MiniLM.pack.get()))
        let module = try encoder.loadModule()
        let index = try IconIndex.load(names: names, encoder: encoder, module: module, cache: nil)
        let sentences = ["Music helps many people focus while they work.", "To stay healthy you need sleep, water and exercise.",
                         "Set an alarm so you do not oversleep."]
        let queries = try encoder.embed(sentences, module: module)
        for (i, s) in sentences.enumerated() {
            let best = try #require(index.best(for: Array(queries[(i * index.dimension)..<((i + 1) * index.dimension)])))
            #expect(!IconIndex.isNegated(best.name), "\(best.name) for \(s)")
        }
    }
}
