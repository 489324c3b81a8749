import Foundation
@testable import Manifest
import Testing
import TestSupport

/// Issue 27's first traps: a Windows script became one scene per line, and `render .` named the job ".".
@Suite struct LineEndingAndNameTests {
    /// Four paragraphs of four hard-wrapped lines each.
    static let script = (1...4).map { p in (1...4).map { "Paragraph \(p), line \($0)." }.joined(separator: "\n") }.joined(separator: "\n\n") + "\n"

    @Test(arguments: [("crlf", "\r\n"), ("cr", "\r"), ("lf", "\n")])
    func aScriptIsFourScenesWhateverItsLineEnds(label: String, end: String) throws {
        let dir = TempDir()
        let path = dir.write("\(label).txt", Self.script.replacingOccurrences(of: "\n", with: end))
        let m = try ManifestLoader.load(path: path)
        #expect(m.scenes.count == 4)
        #expect(m.scenes.first?.narration == "Paragraph 1, line 1. Paragraph 1, line 2. Paragraph 1, line 3. Paragraph 1, line 4.")
        let md = try ManifestLoader.load(path: dir.write("\(label).md", "# Title\(end)\(end)" + Self.script.replacingOccurrences(of: "\n", with: end)))
        #expect(md.scenes.count == 4 && md.title == "Title")
    }

    @Test func aJobIsNamedAfterTheFolderAPathMeans() throws {
        let dir = TempDir()
        let folder = dir.url.path + "/my.job"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try "scenes: [hi]\n".write(toFile: folder + "/manifest.yaml", atomically: true, encoding: .utf8)
        #expect(ManifestLoader.jobName(forPath: folder + "/") == "my.job")
        #expect(ManifestLoader.jobName(forPath: folder + "/.") == "my.job")
        #expect(ManifestLoader.jobName(forPath: folder + "/sub/..") == "my.job")
        #expect(ManifestLoader.jobName(forPath: folder + "/manifest.yaml") == "manifest")
        #expect(try ManifestLoader.load(path: folder + "/.").name == "my.job")
        // `render .` itself, from inside the folder: DaemonTests' RenderNameTests.
    }
}
