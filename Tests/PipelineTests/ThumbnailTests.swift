import Foundation
import Manifest
import Media
import Testing
import TestSupport
@testable import Pipeline

/// The thumbnail a channel would upload (issue 26): no burned captions, the title as a designed title, the
/// platform's size; `poster: {captions: true}` keeps the frame as the video shows it.
@Suite(.serialized)
struct ThumbnailTests {
    static let tesseract = TestDependency("tesseract (Debian tesseract-ocr, installed by scripts/setup --tests)") { () throws -> String in
        let path = "/usr/bin/tesseract"
        guard FileManager.default.isExecutableFile(atPath: path) else { throw Unavailable("no \(path)") }
        return path
    }

    static let manifest = """
    title: "Facts About Space 🚀"
    output: {width: 640, height: 360, fps: 15, quality: draft}
    captions: {highlight: word, size: 40}
    scenes:
      - narration: We look at five pictures of galaxies in a patch of sky.
      - narration: Galaxies hold billions of stars, and the patch holds thousands of galaxies.
        image: pic.png
    """

    func render(_ text: String, in dir: TempDir) async throws -> (Sidecar, URL) {
        try FileManager.default.copyItem(atPath: Fixtures.image, toPath: dir.url.appendingPathComponent("pic.png").path)
        let path = dir.write("thumb.yaml", text)
        let out = dir.url.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let sidecar = try await Pipeline(options: PipelineOptions(outbox: out, cache: dir.url.appendingPathComponent("cache")))
            .run(manifestPath: path, jobID: "thumb")
        #expect(sidecar.state == .done)
        return (sidecar, out.appendingPathComponent(try #require(sidecar.outputs.poster)))
    }

    func ocr(_ image: URL) throws -> String {
        let (status, text) = runTool(try Self.tesseract.get(), [image.path, "stdout"])
        try #require(status == 0, "tesseract failed: \(text)")
        return text.lowercased()
    }

    @Test(.enabled(if: tesseract.enabled, "needs tesseract"))
    func theDefaultThumbnailHasTheTitleAndNoCaptions() async throws {
        let dir = TempDir()
        let (_, poster) = try await render(Self.manifest, in: dir)
        let info = try MediaReader.imageInfo(poster.path)
        #expect(info.width == 1280 && info.height == 720)
        let text = try ocr(poster)
        // The title reads (OCR works on this picture), and no caption word is there.
        #expect(text.contains("facts") && text.contains("space"), "OCR: \(text)")
        for word in ["galaxies", "pictures", "patch", "billions", "stars", "thousands"] {
            #expect(!text.contains(word), "caption word \"\(word)\" on the thumbnail: \(text)")
        }
    }

    /// The control: with `captions: true` the same OCR does find the captions, so their absence above means something.
    @Test(.enabled(if: tesseract.enabled, "needs tesseract"))
    func captionsTrueKeepsTheVideosOwnFrame() async throws {
        let dir = TempDir()
        let (_, poster) = try await render(Self.manifest + "\nposter: {captions: true, time: 2.0, title: false}\n", in: dir)
        let info = try MediaReader.imageInfo(poster.path)
        #expect(info.width == 640 && info.height == 360)
        let text = try ocr(poster)
        #expect(["galaxies", "pictures", "patch", "sky", "five", "billions", "stars", "thousands", "holds"].contains { text.contains($0) }, "no caption text read: \(text)")
    }

    @Test func theThumbnailIsThePlatformsSizeAndPrefersAPicture() async throws {
        let dir = TempDir()
        let vertical = Self.manifest.replacingOccurrences(of: "width: 640, height: 360", with: "width: 360, height: 640")
        let (_, poster) = try await render(vertical, in: dir)
        let info = try MediaReader.imageInfo(poster.path)
        #expect(info.width == 1080 && info.height == 1920)
        // The second scene has a picture; the first only a background: the thumbnail comes from the second.
        let m = try Pipeline.validate(manifestPath: dir.url.appendingPathComponent("thumb.yaml").path)
        let timeline = Timeline(manifest: m, narrationDurations: [1, 3])
        let pictures: [ScenePicture] = [.background(Background(colors: [0x102030], speed: 1, seed: 1)),
                                        .still(Still(path: Fixtures.image, move: KenBurns(zoomIn: true, zoom: 0.1, panX: 0, panY: 0),
                                                     backdrop: Background(colors: [0], speed: 1, seed: 1)))]
        let moment = Thumbnail.moment(m, pictures: pictures, timeline: timeline)
        #expect(moment.scene == 1 && abs(moment.offset - Double(timeline.scenes[1].frames) / 30) < 0.01)
    }
}
