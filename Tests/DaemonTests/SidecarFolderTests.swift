import Foundation
import Testing

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
}
