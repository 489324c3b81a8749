import Foundation
import Library
import TorchRuntime

enum Repo {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }
}

/// The minilm-l6-v2 pack, made the way the docs say (`Tools/export/install-minilm DIR`), once per test process, into
/// $PROSTUDIO_TEST_MODELS (else TMPDIR/prostudio-test-models): ~40 s the first time, ~6 s when up to date.
/// Outside CI a machine that cannot make it skips these tests with the reason on stderr; with CI=true they run and
/// fail with that reason instead.
enum MiniLMTestPack {
    static let isCI = ProcessInfo.processInfo.environment["CI"] == "true"

    static let install: Result<URL, InstallError> = {
        let env = ProcessInfo.processInfo.environment["PROSTUDIO_TEST_MODELS"]
        let dir = env.map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("prostudio-test-models")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let (status, output) = run("/bin/bash", [Repo.path("Tools/export/install-minilm"), dir.path])
        guard status == 0, FileManager.default.fileExists(atPath: dir.appendingPathComponent("minilm-l6-v2/reference/tokens.json").path) else {
            let why = "`Tools/export/install-minilm \(dir.path)` failed (exit \(status)):\n\(output.suffix(2000))"
            if !isCI { FileHandle.standardError.write(Data("LibraryTests: skipping the tests that need the minilm-l6-v2 pack: \(why)\n".utf8)) }
            return .failure(InstallError(message: why))
        }
        return .success(dir)
    }()

    /// Run the model tests: the pack is there, or this is CI (where its absence must fail, not skip).
    static var enabled: Bool { isCI || (try? install.get()) != nil }

    static func models() throws -> URL { try install.get() }
    static func packDir() throws -> URL { try models().appendingPathComponent("minilm-l6-v2") }

    /// One encoder and one loaded module for the whole test process: loading costs about a second.
    static let loaded: Result<(SentenceEncoder, TorchModule), any Error> = Result {
        let encoder = try SentenceEncoder(store: ModelStore(root: try models()))
        return (encoder, try encoder.loadModule())
    }

    struct InstallError: Error, CustomStringConvertible { var message: String; var description: String { message } }

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

/// A fresh folder per test, removed at the end.
final class TempDir {
    let url: URL
    init() {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("prostudio-library-test-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
}

/// Runs blocking work on a thread of its own. The engine's calls wait for the model manager (an actor), which needs
/// a free cooperative thread: with suites running in parallel on a 2-thread pool, a test blocking its own pool
/// thread there can leave none, and the whole test process stalls. Long model work also stays off the pool.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
