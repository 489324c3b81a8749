import Foundation
import Testing
import TestSupport

/// `cd job && prostudio render .` wrote `..mp4`, `..json` and `..srt` (hidden files): the job is named after the folder.
@Suite struct RenderNameTests {
    @Test func renderDotInsideAJobFolderNamesTheOutputsAfterTheFolder() async throws {
        let root = NSTemporaryDirectory() + "prostudio-render-dot-\(getpid())"
        let folder = root + "/harbour"
        try? FileManager.default.removeItem(atPath: root)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try """
            output: {aspect: "16:9", height: 144, fps: 10, quality: draft}
            voice: {engine: espeak}
            music: none
            scenes: [Hello from the harbour.]
            """.write(toFile: folder + "/manifest.yaml", atomically: true, encoding: .utf8)
        let status = try await offPool { () throws -> Int32 in
            let p = Process()
            p.executableURL = URL(fileURLWithPath: prostudioBinary)
            p.arguments = ["render", ".", "-o", "out", "--cache", root + "/cache"]
            p.currentDirectoryURL = URL(fileURLWithPath: folder)
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            return p.terminationStatus
        }
        #expect(status == 0)
        let outputs = try FileManager.default.contentsOfDirectory(atPath: folder + "/out").sorted()
        #expect(outputs.contains("harbour.mp4") && outputs.contains("harbour.json"), "\(outputs)")
        #expect(!outputs.contains { $0.hasPrefix(".") }, "\(outputs)")
    }
}
