import Contract
import Foundation
import Media
import Testing
import TestSupport
@testable import Pipeline

/// Issue 26: `outputs:` publishes more files of the same video, each laid out for its own frame, brought to its own
/// loudness and checked by the quality gate on its own; the sidecar lists them.
@Suite struct RenditionRenderTests {
    @Test func eachRenditionIsItsOwnSizeAndLoudnessAndIsListed() async throws {
        let dir = TempDir()
        let manifest = """
            title: Renditions
            output: {width: 320, height: 180, fps: 15, quality: draft}
            outputs: [{name: sq, width: 180, height: 180, quality: draft}, {name: tall, width: 180, height: 320, quality: draft, loudness: -12}]
            scenes:
              - heading: One
                narration: The first scene is read aloud, with its heading.
              - narration: The second one ends it.
            """
        let (sidecar, out) = try await RenderTests().render(manifest, in: dir)
        #expect(sidecar.state == .done)
        let main = try #require(try MediaReader.probe(out.appendingPathComponent("job.mp4").path).first(.video))
        let renditions = try #require(sidecar.renditions)
        #expect(renditions.map(\.name) == ["sq", "tall"])
        #expect(renditions.map(\.file) == ["job.sq.mp4", "job.tall.mp4"])
        for (r, size) in zip(renditions, [(180, 180), (180, 320)]) {
            let path = out.appendingPathComponent(r.file).path
            let info = try MediaReader.probe(path)
            let v = try #require(info.first(.video))
            #expect(v.width == size.0 && v.height == size.1 && r.width == size.0 && r.height == size.1)
            #expect(info.first(.audio)?.codec == "aac")
            #expect(abs(v.duration - main.duration) <= 1.0 / 15, "\(r.name): \(v.duration) s vs the main video's \(main.duration) s")
            let bytes = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)
            #expect(r.bytes == bytes.int64Value && r.bytes > 0)
            #expect(r.quality?.status == "passed", "\(r.name): \(r.quality?.checks.filter { !$0.passed }.map(\.detail) ?? [])")
            #expect(r.quality?.file == r.file)
        }
        // Each file is brought to its own loudness, and the gate judged each against its own target.
        let loudness = { (q: Sidecar.Quality?) in q?.checks.first { $0.name == "loudness" }?.value ?? 0 }
        #expect(abs(loudness(sidecar.quality) - -16) <= 1, "main \(loudness(sidecar.quality))")
        #expect(abs(loudness(renditions[1].quality) - -12) <= 1, "tall \(loudness(renditions[1].quality))")
        #expect(renditions[1].quality?.checks.first { $0.name == "loudness" }?.limit == -12)
        // The main video's own records stay the main video's.
        #expect(sidecar.quality?.file == "job.mp4" && sidecar.width == 320)
    }
}
