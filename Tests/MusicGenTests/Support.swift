import Foundation
import Testing
@testable import MusicGen
import TorchRuntime

enum Repo {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }
}

/// The tiny MusicGen pack (real architecture, random weights) made the way the docs say:
/// `Tools/export/export-musicgen --tiny --out DIR`, once per test process, into $PROSTUDIO_TEST_MODELS-musicgen
/// (else TMPDIR/prostudio-test-models-musicgen). The first time also makes the export venv (Debian's torch +
/// PyPI transformers, ~30 s); then ~3 s. The pack keeps the random transformers model it came from
/// (reference-checkpoint/) for transformers' own generate.
enum MusicTestPack {
    static let name = "tiny-musicgen"

    static let made: Result<URL, MusicPackUnavailable> = {
        let env = ProcessInfo.processInfo.environment["PROSTUDIO_TEST_MODELS"]
        let base = env.map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("prostudio-test-models")
        // Beside the Piper folder, not in it: a folder of packs is scanned, and this one holds its own packs.
        let dir = URL(fileURLWithPath: base.path + "-musicgen")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let (status, output) = run("/bin/bash", [Repo.path("Tools/export/export-musicgen"), "--tiny", "--out", dir.path])
        guard status == 0, FileManager.default.fileExists(atPath: dir.appendingPathComponent("\(name)/pack.json").path) else {
            return .failure(MusicPackUnavailable(reason: "`Tools/export/export-musicgen --tiny --out \(dir.path)` failed (exit \(status)):\n\(output.suffix(2000))"))
        }
        return .success(dir)
    }()

    /// The models folder; throws (the test fails) under CI=true when the pack cannot be made; elsewhere
    /// returns nil and says why on stderr, and the caller returns.
    static func models() throws -> URL? {
        switch made {
        case .success(let url): return url
        case .failure(let e):
            if ProcessInfo.processInfo.environment["CI"] == "true" { throw e }
            FileHandle.standardError.write(Data("MusicGenTests: skipping, the tiny MusicGen pack could not be made: \(e.reason)\n".utf8))
            return nil
        }
    }

    /// One engine (one manager) for the suite.
    static let engine: MusicGenEngine? = (try? made.get()).map { MusicGenEngine(models: $0) }

    static var checkpoint: String { try! made.get().appendingPathComponent("\(name)/reference-checkpoint").path }

    static func run(_ exe: String, _ args: [String]) -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        do { try p.run() } catch { return (-1, "\(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

struct MusicPackUnavailable: Error, CustomStringConvertible {
    var reason: String
    var description: String { reason }
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
        let (status, output) = MusicTestPack.run("/bin/bash", args)
        guard status == 0 else { throw MusicPackUnavailable(reason: "musicgen_reference.py failed (exit \(status)): \(output.suffix(2000))") }
        let codes = try Data(contentsOf: dir.appendingPathComponent("codes.i64")).withUnsafeBytes { Array($0.bindMemory(to: Int64.self)) }
        let audio = try Data(contentsOf: dir.appendingPathComponent("audio.f32")).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let k = 4
        let f = codes.count / k
        return Reference(codes: (0..<k).map { cb in codes[(cb * f)..<((cb + 1) * f)].map { Int32($0) } }, audio: audio)
    }
}

/// Runs a blocking engine call (`bed`, `effect`: they wait on a semaphore for the model work) on its own thread, as
/// the pipeline does. Called straight from a test it would block a cooperative-pool thread (2 on these machines),
/// and with the other suites running beside it the pool starves and everything waiting on it hangs.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { k in Thread { k.resume(with: Result { try body() }) }.start() }
}
