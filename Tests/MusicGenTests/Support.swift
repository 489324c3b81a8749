import Foundation
import Testing
import TestSupport
@testable import MusicGen
import TorchRuntime

/// The tiny MusicGen pack (real architecture, random weights) made the way the docs say:
/// `Tools/export/export-musicgen --tiny --out DIR`, once per test process, into $PROSTUDIO_TEST_MODELS-musicgen
/// (else TMPDIR/prostudio-test-models-musicgen). The first time also makes the export venv (Debian's torch +
/// PyPI transformers, ~30 s); then ~3 s. The pack keeps the random transformers model it came from
/// (reference-checkpoint/) for transformers' own generate. Outside CI, when it cannot be made, the suites that need
/// it are skipped with the reason; under CI=true they fail with it.
enum MusicTestPack {
    static let name = "tiny-musicgen"
    static let needs: Comment = "needs the tiny MusicGen pack (Tools/export/export-musicgen --tiny)"

    // Beside the Piper folder, not in it: a folder of packs is scanned, and this one holds its own packs.
    static let pack = TestDependency("the tiny MusicGen pack") {
        let dir = testModelsFolder(suffix: "-musicgen")
        return try makePack(script: "Tools/export/export-musicgen", ["--tiny", "--out", dir.path], in: dir, marker: "\(name)/pack.json")
    }

    /// The models folder holding the pack; throws (the test fails) with the reason it could not be made.
    static func models() throws -> URL { try pack.get() }

    /// One engine (one manager) for the suites.
    private static let shared: MusicGenEngine? = (try? pack.get()).map { MusicGenEngine(models: $0) }
    static func engine() throws -> MusicGenEngine {
        _ = try models()
        return shared!
    }

    static var checkpoint: String { try! models().appendingPathComponent("\(name)/reference-checkpoint").path }
}

/// transformers' `generate` (greedy) on the pack's reference checkpoint: codes and audio.
struct Reference {
    var codes: [[Int32]]
    var audio: [Float]

    static func run(ids: [Int64], newTokens: Int, guidance: Double, prompt: [[Int32]]? = nil) throws -> Reference {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("musicgen-ref-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var args = [Repo.path("Tools/export/export-musicgen"), "--reference", "--checkpoint", MusicTestPack.checkpoint,
                    "--ids", ids.map(String.init).joined(separator: ","), "--max-new-tokens", "\(newTokens)",
                    "--guidance", "\(guidance)", "--out", dir.path]
        if let prompt {
            let file = dir.appendingPathComponent("prompt.i64")
            let flat = prompt.flatMap { $0.map(Int64.init) }
            try flat.withUnsafeBytes { Data($0) }.write(to: file)
            args += ["--prompt-codes", file.path]
        }
        let (status, output) = runTool("/bin/bash", args)
        guard status == 0 else { throw Unavailable("musicgen_reference.py failed (exit \(status)): \(output.suffix(2000))") }
        let codes = try Data(contentsOf: dir.appendingPathComponent("codes.i64")).withUnsafeBytes { Array($0.bindMemory(to: Int64.self)) }
        let audio = try Data(contentsOf: dir.appendingPathComponent("audio.f32")).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let k = 4
        let f = codes.count / k
        return Reference(codes: (0..<k).map { cb in codes[(cb * f)..<((cb + 1) * f)].map { Int32($0) } }, audio: audio)
    }
}
