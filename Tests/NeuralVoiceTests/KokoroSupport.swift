import Engines
import Foundation
import Manifest
import Testing
import TestSupport
@testable import NeuralVoice
import TorchRuntime

/// The tiny Kokoro packs (the real architecture, random weights), made by the exporter the docs name
/// (`Tools/export/export_kokoro.py --tiny`) into a folder of their own beside $PROSTUDIO_TEST_MODELS (seed 0 as
/// tiny-kokoro, seed 1 as tiny-kokoro-seed1), once per test process: ~20 s on 2 cores. Outside CI, when they cannot
/// be made, the suite is skipped with the reason; under CI=true it runs and fails with it.
enum KokoroTestPack {
    static let name = "tiny-kokoro"
    static let seed1 = "tiny-kokoro-seed1"
    static let needs: Comment = "needs the tiny Kokoro packs (Tools/export/export_kokoro.py --tiny)"

    static let pack = TestDependency("the tiny Kokoro packs") {
        let dir = testModelsFolder(suffix: "-kokoro")
        for (pack, seed) in [(name, 0), (seed1, 1)] {
            let out = dir.appendingPathComponent(pack)
            let (status, output) = runTool(Repo.python, [Repo.path("Tools/export/export_kokoro.py"), "--tiny", "--seed", "\(seed)", "--out", out.path])
            guard status == 0, FileManager.default.fileExists(atPath: out.appendingPathComponent("pack.json").path) else {
                throw Unavailable("`/usr/bin/python3 Tools/export/export_kokoro.py --tiny --seed \(seed) --out \(out.path)` failed (exit \(status)):\n\(output.suffix(2000))")
            }
        }
        return dir
    }

    static func models() throws -> URL { try pack.get() }

    /// One engine (one manager) for the suite.
    private static let shared: KokoroEngine? = (try? pack.get()).map { KokoroEngine(models: $0) }
    static func engine() throws -> KokoroEngine {
        _ = try models()
        return shared!
    }

    static func voice(_ speaker: String = "af_tiny", language: String = "en-us", pack: String = name, rate: Double = 1) -> JobManifest.Voice {
        KokoroEngine.voice(pack: pack, speaker: speaker, language: language, rate: rate)
    }

    /// Python torch's audio and durations for the same pieces (the same TorchScript file).
    static func pythonReference(pack: String, pieces: [[Int]], speaker: String, speed: Double, onnx: String? = nil) throws -> (audio: [[Float]], durations: [[Int]], onnx: [[Float]]) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kokoro-ref-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("pieces.json")
        try JSONEncoder().encode(pieces).write(to: file)
        var args = [Repo.path("Tools/export/kokoro_reference.py"), "--pack", try models().appendingPathComponent(pack).path,
                    "--pieces", file.path, "--speaker", speaker, "--speed", "\(speed)", "--out", dir.path]
        if let onnx { args += ["--onnx", onnx] }
        let (status, output) = runTool(Repo.python, args)
        guard status == 0 else { throw Unavailable("kokoro_reference.py failed (exit \(status)): \(output.suffix(2000))") }
        func floats(_ n: String) -> [Float] {
            guard let d = try? Data(contentsOf: dir.appendingPathComponent(n)) else { return [] }
            return d.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        }
        func ints(_ n: String) -> [Int] {
            guard let d = try? Data(contentsOf: dir.appendingPathComponent(n)) else { return [] }
            return d.withUnsafeBytes { Array($0.bindMemory(to: Int64.self)) }.map(Int.init)
        }
        return (pieces.indices.map { floats("ts_\($0).f32") }, pieces.indices.map { ints("ts_dur_\($0).i64") },
                onnx == nil ? [] : pieces.indices.map { floats("ort_\($0).f32") })
    }
}
