import Engines
import Foundation
import Manifest
@testable import NeuralVoice
import TorchRuntime

enum Repo {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }
    static let python = "/usr/bin/python3"
}

/// The joe-medium pack, made the way the docs say: `Tools/export/install-piper-voice DIR`, once per test process,
/// into a folder kept between runs ($PROSTUDIO_TEST_MODELS, else TMPDIR/prostudio-test-models): ~30 s the first
/// time (export + check against onnxruntime), ~7 s when it is up to date. nil, with the reason on stderr, when
/// it cannot be installed (no torch for /usr/bin/python3, no PyPI, ...); the tests that need it are then skipped.
enum PiperTestPack {
    static let models: URL? = {
        let env = ProcessInfo.processInfo.environment["PROSTUDIO_TEST_MODELS"]
        let dir = env.map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("prostudio-test-models")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let (status, output) = run("/bin/bash", [Repo.path("Tools/export/install-piper-voice"), dir.path])
        guard status == 0, FileManager.default.fileExists(atPath: dir.appendingPathComponent("joe-medium/pack.json").path) else {
            FileHandle.standardError.write(Data("NeuralVoiceTests: skipping the tests that need the joe-medium pack: `Tools/export/install-piper-voice \(dir.path)` failed (exit \(status)):\n\(output.suffix(2000))\n".utf8))
            return nil
        }
        return dir
    }()

    static var available: Bool { models != nil }

    /// One engine (one model manager, one loaded module) for the whole suite: loading costs seconds.
    static let engine: PiperEngine? = models.map { PiperEngine(models: $0) }

    static var packDir: URL { models!.appendingPathComponent("joe-medium") }

    static func config() throws -> PiperPackConfig {
        try engine!.pack(named: "joe-medium").1
    }

    /// A forward of `ids` through the Swift runtime with the given scales and noise seed.
    static func forward(_ ids: [[Int]], scales: PiperScales) async throws -> [PiperEngine.SentenceAudio] {
        let engine = engine!
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
        let (status, output) = PiperTestPack.run(Repo.python, args)
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

extension PiperTestPack {
    static func run(_ exe: String, _ args: [String]) -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        p.currentDirectoryURL = Repo.root
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        do { try p.run() } catch { return (-1, "\(error)") }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

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

/// A fresh folder per test, removed at the end.
final class TempDir {
    let url: URL
    init() {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("prostudio-voice-test-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
}
