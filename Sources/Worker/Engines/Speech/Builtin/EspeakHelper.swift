import Foundation
import Spawn

/// The `prostudio-espeak` helper (Sources/Worker/Engines/Speech/EspeakHelper): one fresh process per request, because libespeak-ng
/// keeps state between calls and cannot be re-initialised in a process.
public enum EspeakHelper {
    public static let name = "prostudio-espeak"

    /// The helper: `$PROSTUDIO_ESPEAK_HELPER`, else beside the running executable (both `prostudio` and
    /// the test runner live in the same build folder), else on PATH.
    static func path() -> String? {
        let env = ProcessInfo.processInfo.environment
        if let path = env["PROSTUDIO_ESPEAK_HELPER"], FileManager.default.isExecutableFile(atPath: path) { return path }
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        // An .xctest bundle's binary sits a few levels inside the build folder.
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        for p in (env["PATH"] ?? "/usr/local/bin:/usr/bin").split(separator: ":") {
            let candidate = "\(p)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs the helper on one request; returns its exit status, its reply and its stderr.
    static func run(_ request: Data) throws(EngineError) -> (status: Int32, reply: Data, stderr: String) {
        guard let helper = path() else {
            throw EngineError(code: "speech.engine_unavailable", message: "the espeak-ng helper \(name) was not found beside prostudio or on PATH; rebuild with `swift build` or set PROSTUDIO_ESPEAK_HELPER")
        }
        // All three pipes served at once (ChildProcess): a helper that fills stderr while we read its reply cannot block.
        let output: ChildProcess.Output
        do { output = try ChildProcess.run(helper, input: request) } catch {
            throw EngineError(code: "speech.engine_unavailable", message: "cannot start \(helper): \(error)")
        }
        let stderr = String(decoding: output.stderr, as: UTF8.self)
        return (output.status, output.stdout, stderr.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
