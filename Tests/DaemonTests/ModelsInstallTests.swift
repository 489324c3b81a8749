import Foundation
import Testing
import TestSupport

/// `prostudio models install`: the catalog a newcomer sees, and a wrong name answered with the right one.
/// (An install itself downloads from PyPI: scripts/setup and the pack tests run the same export scripts.)
struct ModelsInstallTests {
    @Test func listShowsEveryKnownPackAndWhichAreInstalled() async throws {
        let dir = TempDir("prostudio-models-install")
        let models = dir.path + "/models"
        // A pack.json that reads cleanly (the files are not checked by a listing).
        try FileManager.default.createDirectory(atPath: models + "/minilm-l6-v2", withIntermediateDirectories: true)
        try #"{"format": 1, "name": "minilm-l6-v2", "kind": "embedding", "architecture": "bert", "dtype": "float32", "memory_estimate_bytes": 0, "licence": "test", "source": "test", "components": {"encoder": {"file": "encoder.ts", "sha256": "\#(String(repeating: "0", count: 64))"}}}"#.write(toFile: models + "/minilm-l6-v2/pack.json", atomically: true, encoding: .utf8)
        let r = try await runCLI(["models", "install", "--list", "--models", models])
        #expect(r.status == 0, "\(r.err)")
        let lines = r.out.split(separator: "\n").map(String.init)
        for name in ["joe-medium", "kokoro-ja", "minilm-l6-v2", "tiny-musicgen", "tiny-video"] {
            #expect(lines.contains { $0.hasPrefix(name + " ") }, "\(name) missing from: \(r.out)")
        }
        #expect(lines.first { $0.hasPrefix("minilm-l6-v2 ") }?.contains("installed") == true, "\(r.out)")
        #expect(lines.first { $0.hasPrefix("joe-medium ") }?.contains("installed") == false, "\(r.out)")
    }

    @Test func aMistypedNameIsRefusedWithTheClosestKnownOne() async throws {
        let dir = TempDir("prostudio-models-install")
        let r = try await runCLI(["models", "install", "joe-medum", "--models", dir.path + "/models"])
        #expect(r.status != 0)
        #expect(r.err.contains("no known pack named 'joe-medum'") && r.err.contains("did you mean joe-medium?"), "\(r.err)")
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/models"), "a refused install created the models folder")
    }
}
