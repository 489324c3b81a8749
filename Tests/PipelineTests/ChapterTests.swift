import Foundation
import Manifest
import Testing
import TestSupport
@testable import Pipeline

/// Scenes with a heading (or every scene, `chapters: scenes`) become MP4 chapters and the sidecar's `chapters`
/// list, starting at 0:00 as a YouTube description needs (issue 26).
struct ChapterTests {
    static let manifest = """
    title: "3 Facts About Space 🚀"
    output: {width: 320, height: 180, fps: 15, quality: draft}
    scenes:
      - narration: Space is big. Really big.
      - narration: The sky is dark at night because light takes time to reach us.
        heading: Why the night sky is dark
      - narration: A teaspoon of a neutron star weighs about 5 million tons.
        heading: Neutron stars
    """

    /// ffprobe's chapters: (start, end, title).
    func probeChapters(_ path: String) throws -> [(Double, Double, String)] {
        let (status, output) = runTool("/usr/bin/ffprobe", ["-v", "error", "-show_chapters", "-of", "compact=p=0:nk=0", path])
        try #require(status == 0, "ffprobe failed: \(output)")
        return output.split(separator: "\n").compactMap { line in
            var f: [String: String] = [:]
            for part in line.split(separator: "|") {
                let kv = part.split(separator: "=", maxSplits: 1).map(String.init)
                if kv.count == 2 { f[kv[0]] = kv[1] }
            }
            guard let s = f["start_time"].flatMap(Double.init), let e = f["end_time"].flatMap(Double.init), let t = f["tag:title"] else { return nil }
            return (s, e, t)
        }
    }

    @Test func headingsBecomeChaptersInTheFileAndTheSidecar() async throws {
        let dir = TempDir()
        let path = dir.write("ch.yaml", Self.manifest)
        let out = dir.url.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let sidecar = try await Pipeline(options: PipelineOptions(outbox: out, cache: dir.url.appendingPathComponent("cache")))
            .run(manifestPath: path, jobID: "chapters")
        #expect(sidecar.state == .done)
        let chapters = try #require(sidecar.chapters)
        #expect(chapters.map(\.title) == ["3 Facts About Space 🚀", "Why the night sky is dark", "Neutron stars"])
        #expect(chapters[0].start_s == 0 && chapters[0].time == "0:00")
        let scenes = try #require(sidecar.scenes)
        #expect(abs(chapters[1].start_s - scenes[1].start_s) < 0.01 && abs(chapters[2].start_s - scenes[2].start_s) < 0.01)
        let inFile = try probeChapters(out.appendingPathComponent(try #require(sidecar.outputs.video)).path)
        #expect(inFile.map(\.2) == chapters.map(\.title))
        for (mark, probed) in zip(chapters, inFile) { #expect(abs(mark.start_s - probed.0) < 0.01) }
        #expect(abs((inFile.last?.1 ?? 0) - (sidecar.duration_s ?? -1)) < 0.1, "the last chapter runs to the end")
        // Ready to paste: "0:00 title" lines.
        let description = chapters.map { "\($0.time) \($0.title)" }.joined(separator: "\n")
        #expect(description.hasPrefix("0:00 3 Facts About Space 🚀\n0:0"))
    }

    @Test func everySceneOrNone() throws {
        let dir = TempDir()
        let scenes = try Pipeline.validate(manifestPath: dir.write("s.yaml", Self.manifest + "\nchapters: scenes\n"))
        let all = ChapterPlan.chapters(scenes, starts: [0, 3, 7])
        #expect(all.map(\.title) == ["Space is big", "Why the night sky is dark", "Neutron stars"])
        let off = try Pipeline.validate(manifestPath: dir.write("o.yaml", Self.manifest + "\nchapters: off\n"))
        #expect(ChapterPlan.chapters(off, starts: [0, 3, 7]).isEmpty)
        #expect(ChapterPlan.firstWords("One two three four five six seven eight.") == "One two three four five six…")
        #expect { try Pipeline.validate(manifestPath: dir.write("b.yaml", Self.manifest + "\nchapters: every\n")) } throws: {
            ($0 as? PipelineError)?.field == "chapters"
        }
        #expect(Sidecar.Chapter(start_s: 3725.4, title: "x").time == "1:02:05")
    }
}
