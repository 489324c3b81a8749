import Foundation
import Library
import Testing
import TestSupport
import TorchRuntime

/// The minilm-l6-v2 pack, made the way the docs say (`Tools/export/install-minilm DIR`), once per test process, into
/// $PROSTUDIO_TEST_MODELS (else TMPDIR/prostudio-test-models): ~40 s the first time, ~6 s when up to date.
/// Outside CI a machine that cannot make it skips these tests with the reason on stderr; with CI=true they run and
/// fail with that reason instead.
enum MiniLMTestPack {
    static let needs: Comment = "needs the minilm-l6-v2 pack (Tools/export/install-minilm)"
    static let pack = TestDependency("the minilm-l6-v2 pack") {
        let dir = testModelsFolder()
        return try makePack(script: "Tools/export/install-minilm", [dir.path], in: dir, marker: "minilm-l6-v2/reference/tokens.json")
    }

    /// Run the model tests: the pack is there, or this is CI (where its absence must fail, not skip).
    static var enabled: Bool { pack.enabled }

    static func models() throws -> URL { try pack.get() }
    static func packDir() throws -> URL { try models().appendingPathComponent("minilm-l6-v2") }

    /// One encoder and one loaded module for the whole test process: loading costs about a second.
    static let loaded: Result<(SentenceEncoder, TorchModule), any Error> = Result {
        let encoder = try SentenceEncoder(store: ModelStore(root: try models()))
        return (encoder, try encoder.loadModule())
    }
}
