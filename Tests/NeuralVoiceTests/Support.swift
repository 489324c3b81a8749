import Engines
import Foundation
import Testing
import TestSupport
import Manifest
@testable import NeuralVoice
import TorchRuntime

/// The joe-medium pack, made the way the docs say: `Tools/export/install-piper-voice DIR`, once per test process,
/// into a folder kept between runs ($PROSTUDIO_TEST_MODELS, else TMPDIR/prostudio-test-models): ~30 s the first
/// time (export + check against onnxruntime), ~7 s when it is up to date. Outside CI, when it cannot be installed
/// (no torch for /usr/bin/python3, no PyPI, ...), the suites that need it are skipped with the reason; under CI=true
/// they run and fail with it.
enum PiperTestPack {
    static let needs: Comment = "needs the joe-medium pack (Tools/export/install-piper-voice)"
    static let pack = TestDependency("the joe-medium Piper pack") {
        let dir = testModelsFolder()
        return try makePack(script: "Tools/export/install-piper-voice", [dir.path], in: dir, marker: "joe-medium/pack.json")
    }

    static func models() throws -> URL { try pack.get() }

    /// One engine (one model manager, one loaded module) for the whole suite: loading costs seconds.
    private static let shared: PiperEngine? = (try? pack.get()).map { PiperEngine(models: $0) }
    static func engine() throws -> PiperEngine {
        _ = try models()
        return shared!
    }

    static var packDir: URL { try! models().appendingPathComponent("joe-medium") }

    static func config() throws -> PiperPackConfig {
        try engine().pack(named: "joe-medium").1
    }

    /// A forward of `ids` through the Swift runtime with the given scales and noise seed.
    static func forward(_ ids: [[Int]], scales: PiperScales) async throws -> [PiperEngine.SentenceAudio] {
        let engine = try engine()
        return try await engine.manager.withModel(pack: "joe-medium", component: PiperEngine.component) { module in
            try await TorchExecutor.run {
                try engine.warmUp(module)
                return try ids.map { s in
                    TorchRuntime.manualSeed(PiperEngine.seed(for: s))
                    return try PiperEngine.forward(module, ids: s, scales: scales)
                }
            }
        }
    }
}

/// Python's answer for the same ids: the pack in Python torch and the ONNX voice in onnxruntime.
struct PythonReference {
    var torch: [[Float]]
    var torchDurations: [[Float]]
    var onnxruntime: [[Float]]

    static func run(ids: [[Int]], scales: PiperScales, torch: Bool = true) throws -> PythonReference {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("piper-ref-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let idsFile = dir.appendingPathComponent("ids.json")
        try JSONEncoder().encode(ids).write(to: idsFile)
        var args = [Repo.path("Tools/export/piper_reference.py"), "--pack", PiperTestPack.packDir.path, "--ids", idsFile.path,
                    "--out", dir.path, "--noise-scale", "\(scales.noiseScale)", "--length-scale", "\(scales.lengthScale)",
                    "--noise-w", "\(scales.noiseW)"]
        if !torch { args.append("--no-torch") }
        let (status, output) = runTool(Repo.python, args)
        guard status == 0 else { throw ReferenceError(message: "piper_reference.py failed (exit \(status)): \(output.suffix(2000))") }
        func read(_ name: String) -> [Float] {
            guard let data = try? Data(contentsOf: dir.appendingPathComponent(name)) else { return [] }
            return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        }
        return PythonReference(torch: torch ? ids.indices.map { read("ts_\($0).f32") } : [],
                               torchDurations: torch ? ids.indices.map { read("ts_dur_\($0).f32") } : [],
                               onnxruntime: ids.indices.map { read("ort_\($0).f32") })
    }
}

struct ReferenceError: Error, CustomStringConvertible { var message: String; var description: String { message } }

enum Signal {
    static func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    /// RMS over consecutive windows of `window` samples.
    static func envelope(_ x: [Float], window: Int) -> [Double] {
        stride(from: 0, to: x.count, by: window).map { i in
            let w = x[i..<min(x.count, i + window)]
            return (w.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(w.count)).squareRoot()
        }
    }

    static func rms(_ x: some Collection<Float>) -> Double {
        x.isEmpty ? 0 : (x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(x.count)).squareRoot()
    }

    static func correlation(_ a: [Double], _ b: [Double]) -> Double {
        let n = min(a.count, b.count)
        guard n > 1 else { return 0 }
        let a = Array(a.prefix(n)), b = Array(b.prefix(n))
        let ma = a.reduce(0, +) / Double(n), mb = b.reduce(0, +) / Double(n)
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for i in 0..<n { sab += (a[i] - ma) * (b[i] - mb); saa += (a[i] - ma) * (a[i] - ma); sbb += (b[i] - mb) * (b[i] - mb) }
        return sab / max((saa * sbb).squareRoot(), 1e-12)
    }
}
