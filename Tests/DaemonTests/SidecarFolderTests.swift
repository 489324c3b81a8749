import Contract
import Foundation
import Manifest
import Testing
import TestSupport
import Watcher

/// Issue 27: after `prostudio render job/fortunes.txt` (default `-o .` puts fortunes.json beside the script),
/// `prostudio validate job` and `prostudio submit job` took that sidecar for the manifest.
struct SidecarFolderTests {
    @Test func validateAndSubmitOfAFolderSkipTheRenderSidecar() async throws {
        let f = Folders()
        let job = f.root + "/fortunes"
        try FileManager.default.createDirectory(atPath: job, withIntermediateDirectories: true)
        try "First fortune.\n\nSecond fortune.\n".write(toFile: job + "/fortunes.txt", atomically: true, encoding: .utf8)
        try """
            {"name": "fortunes", "job_id": "06h4abc-1f2e", "state": "done", "progress": 1, "duration_s": 4.5,
             "outputs": {"video": "fortunes.mp4"}, "stages": {}}
            """.write(toFile: job + "/fortunes.json", atomically: true, encoding: .utf8)
        let v = try await runCLI(["validate", job])
        #expect(v.status == 0 && v.out.contains("valid (2 scenes"), "\(v.out)\(v.err)")
        let s = try await runCLI(["submit", job, "--inbox", f.root + "/inbox"])
        #expect(s.status == 0, "\(s.err)")
        #expect(FileManager.default.fileExists(atPath: f.root + "/inbox/fortunes/fortunes.txt"))
    }

    /// Issue 24's bar: a folder holding an earlier render's `NAME.json` (a whole sidecar, as the contract writes it)
    /// beside `NAME.yaml`: `submit` takes the YAML (it once took the sidecar and failed on 37 unknown fields).
    @Test func submitOfAFolderWithAnEarlierSidecarBesideItsYAMLTakesTheYAML() async throws {
        let f = Folders()
        let job = f.root + "/promo"
        try FileManager.default.createDirectory(atPath: job, withIntermediateDirectories: true)
        try "title: Promo\nscenes:\n  - narration: One.\n  - narration: Two.\n  - narration: Three.\n"
            .write(toFile: job + "/promo.yaml", atomically: true, encoding: .utf8)
        var earlier = Sidecar(name: "promo", jobID: "06h4b1xdpzbqtfz7", state: .done)
        earlier.outputs = .init(video: "promo.mp4", captions: "promo.srt", poster: "promo.jpg", webvtt: "promo.vtt")
        earlier.stages = ["plan": .init(engine: "manifest-v1", seconds: 0.01, peak_memory_bytes: 1, cached: false)]
        try earlier.write(at: URL(fileURLWithPath: job + "/promo.json"))
        #expect(ManifestFolder.find(in: job) == .found("promo.yaml"))
        let v = try await runCLI(["validate", job])
        #expect(v.status == 0 && v.out.contains("valid (3 scenes"), "\(v.out)\(v.err)")
        let s = try await runCLI(["submit", job, "--inbox", f.root + "/inbox"])
        #expect(s.status == 0, "\(s.err)")
        #expect(FileManager.default.fileExists(atPath: f.root + "/inbox/promo/promo.yaml"))
        #expect(ManifestFolder.find(in: f.root + "/inbox/promo") == .found("promo.yaml"))
    }

    /// One folder rule: pick-up (InboxRules) and the loader behind validate, render, submit and the API
    /// (ManifestLoader) give the same answer. They differed on a folder with a note beside one YAML manifest: the
    /// loader took the YAML, pick-up refused the folder as ambiguous.
    @Test func pickUpAndTheLoaderFindTheSameManifest() throws {
        let f = Folders()
        let cases: [([String], String?)] = [
            (["readme.md", "script.yaml"], nil),
            (["manifest.yaml", "other.yaml"], "manifest.yaml"),
            (["case.yaml", "notes.txt"], "case.yaml"),
            (["only.txt"], "only.txt"),
        ]
        for (i, (files, expected)) in cases.enumerated() {
            let folder = f.root + "/case\(i)/" + (i == 2 ? "case" : "job\(i)")
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for file in files { try "scenes: [hi]\n".write(toFile: folder + "/" + file, atomically: true, encoding: .utf8) }
            let picked: String? = if case .found(let name) = InboxRules.manifest(inFolder: folder) { name } else { nil }
            #expect(picked == expected, "\(files)")
            #expect(ManifestLoader.manifestInFolder(folder).map { ($0 as NSString).lastPathComponent } == expected, "\(files)")
        }
    }
}
