import Foundation
import Testing
@testable import Media

/// Titles and headings wrap and shrink to stay inside the frame's safe area, read back from frames libass drew;
/// text no size fits is refused; an emoji in a title is drawn, not a missing-glyph box (issue 26).
struct TitleLayoutTests {
    static let aspects = [(640, 360), (360, 640), (480, 480)]
    static let long = "3 Facts About Space You Didn't Know, and Why the Night Sky Is Dark Even Though the Universe Is Full of Stars"

    /// The luma of a frame at 1 s of `overlays` drawn over black (past the title's fade-in).
    func draw(_ overlays: [TextOverlay], width: Int, height: Int) throws -> LumaImage {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("title-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let style = CaptionStyle(size: max(12, min(width, height) / 16), outline: 2, margin: max(8, height / 18))
        let ass = dir.appendingPathComponent("t.ass")
        try Data(ASSScript.document(cues: [], overlays: overlays, width: width, height: height, style: style).utf8).write(to: ass)
        let out = dir.appendingPathComponent("t.mp4").path
        let fps = 10
        let spec = CompositionSpec(outputPath: out, width: width, height: height, fps: fps, frameCount: 2 * fps,
                                   videoGraph: "color=c=black:s=\(width)x\(height):r=\(fps),ass=filename='\(ass.path)',format=yuv420p[out]",
                                   images: [:], audio: [Float](repeating: 0, count: 48_000 * 2 * 2),
                                   encoder: EncoderSettings(preset: "ultrafast", crf: 4), posterFrame: 0, posterPath: nil)
        _ = try Composer.compose(spec)
        return try MediaReader.lumaFrame(out, index: fps)
    }

    /// The box around every pixel brighter than the background: (minX, minY, maxX, maxY), nil when nothing is drawn.
    static func inkBox(_ image: LumaImage) -> (Int, Int, Int, Int)? {
        var box: (Int, Int, Int, Int)?
        for y in 0..<image.height {
            for x in 0..<image.width where image.pixels[y * image.width + x] > 60 {
                box = box.map { (min($0.0, x), min($0.1, y), max($0.2, x), max($0.3, y)) } ?? (x, y, x, y)
            }
        }
        return box
    }

    @Test func aLongTitleWrapsAndShrinksInsideTheSafeAreaAtEveryAspect() throws {
        for (w, h) in Self.aspects {
            let fit = try #require(TitleLayout.fit(Self.long, role: .title, width: w, height: h), "\(w)x\(h)")
            #expect(fit.lines.count > 1 && fit.lines.count <= 4, "\(w)x\(h): \(fit.lines)")
            #expect(fit.size < min(w, h) / 9, "\(w)x\(h): not shrunk")
            #expect(fit.lines.joined(separator: " ") == Self.long)
            let frame = try draw([TextOverlay(text: Self.long, start: 0, end: 2, kind: .title)], width: w, height: h)
            let (x0, y0, x1, y1) = try #require(Self.inkBox(frame), "\(w)x\(h): nothing drawn")
            // Inside the side margins (a twelfth each, less the outline and shadow) and the middle half of the height.
            let side = w / 12 - 4
            #expect(x0 >= side && x1 <= w - side, "\(w)x\(h): text spans x \(x0)...\(x1), safe area \(side)...\(w - side)")
            #expect(y0 >= h / 4 - 6 && y1 <= h * 3 / 4 + 6, "\(w)x\(h): text spans y \(y0)...\(y1)")
        }
    }

    @Test func aShortTitleKeepsTheFullSizeOnOneLine() throws {
        let fit = try #require(TitleLayout.fit("Deep Space", role: .title, width: 1920, height: 1080))
        #expect(fit.size == 120 && fit.lines == ["Deep Space"])
    }

    @Test func aHeadingWrapsToTwoLinesInsteadOfRunningOffTheFrame() throws {
        let heading = "Why the night sky is dark even though the universe is full of stars"
        let fit = try #require(TitleLayout.fit(heading, role: .heading, width: 360, height: 640))
        #expect(fit.lines.count == 2)
        let frame = try draw([TextOverlay(text: heading, start: 0, end: 2, kind: .lowerThird)], width: 360, height: 640)
        let (x0, _, x1, _) = try #require(Self.inkBox(frame))
        #expect(x0 >= 360 / 12 - 12 && x1 <= 360 - 360 / 12 + 12, "heading spans x \(x0)...\(x1)")
    }

    @Test func textNoSizeFitsHasNoFit() {
        let huge = String(repeating: "Space is big and dark. ", count: 22)
        for (w, h) in Self.aspects {
            #expect(TitleLayout.fit(huge, role: .title, width: w, height: h) == nil, "\(w)x\(h)")
            #expect(TitleLayout.capacity(.title, width: w, height: h) < huge.count)
            #expect(TitleLayout.capacity(.title, width: w, height: h) > 60)
        }
        #expect(TitleLayout.fit(String(repeating: "x", count: 90), role: .title, width: 1080, height: 1920) == nil, "one word wider than the frame")
    }

    /// "🚀" must come out as a rocket (Symbola, from scripts/setup), not the box a character no font has (Kawi, U+11F04:
    /// Unicode 15, in none of the Debian fonts here; a private-use character is not safe, icon fonts claim them).
    @Test func anEmojiInATitleIsDrawnNotABox() throws {
        let rocket = try draw([TextOverlay(text: "🚀", start: 0, end: 2, kind: .title)], width: 1280, height: 720)
        let box = try draw([TextOverlay(text: "\u{11F04}", start: 0, end: 2, kind: .title)], width: 1280, height: 720)
        let differing = zip(rocket.pixels, box.pixels).filter { abs(Int($0) - Int($1)) > 80 }.count
        #expect(rocket.pixels.filter { $0 > 100 }.count > 500, "nothing drawn for 🚀")
        #expect(differing > 1500, "🚀 looks like the missing-glyph box (\(differing) pixels differ): is fonts-symbola installed (scripts/setup)?")
    }
}
