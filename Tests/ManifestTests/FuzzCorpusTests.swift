import Foundation
import Testing
import TestSupport
@testable import Manifest

/// Every manifest in the fuzz corpus (`Tests/Fuzz/corpus/manifest-*`), crashes the fuzzer found included
/// (`crash-*`), loads without a trap and, when refused, with a bounded list of problems. `prostudio-fuzz` replays
/// the same files before it mutates them; this keeps them in the ordinary test run too.
struct FuzzCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/corpus").path

    static func files(_ target: String) -> [String] {
        let folder = corpus + "/" + target
        return ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    @Test(arguments: ["yaml", "json", "md", "txt"])
    func everyCorpusManifestLoadsOrIsRefusedBoundedly(ext: String) throws {
        let names = Self.files("manifest-\(ext)")
        #expect(!names.isEmpty)
        let dir = TempDir()
        for name in names {
            // Saved finds have no extension of their own: the folder says the format.
            let data = try Data(contentsOf: URL(fileURLWithPath: Self.corpus + "/manifest-\(ext)/" + name))
            let path = dir.url.appendingPathComponent("job.\(ext)").path
            try data.write(to: URL(fileURLWithPath: path))
            do { _ = try ManifestLoader.load(path: path) } catch {
                #expect(error.errors.count <= ManifestLimits.listedProblems + 1, "\(name)")
            }
        }
    }
}
