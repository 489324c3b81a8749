import Foundation
import Testing
@testable import Media

/// Burned captions, read back from the encoded video: every script's glyphs are drawn (no empty boxes), and the
/// highlighted word follows the voice.
struct CaptionBurnTests {
    /// Renders `cues` over black and returns the luma of the frames at `times`.
    func burn(_ cues: [Cue], style: CaptionStyle, times: [Double]) throws -> [LumaImage] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("burn-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let ass = dir.appendingPathComponent("c.ass")
        try Data(ASSScript.document(cues: cues, width: 480, height: 270, style: style).utf8).write(to: ass)
        let out = dir.appendingPathComponent("c.mp4").path
        let fps = 10, seconds = Int((cues.map(\.end).max() ?? 1).rounded(.up))
        let spec = CompositionSpec(outputPath: out, width: 480, height: 270, fps: fps, frameCount: seconds * fps,
                                   videoGraph: "color=c=black:s=480x270:r=\(fps),ass=filename='\(ass.path)',format=yuv420p[out]", images: [:],
                                   audio: [Float](repeating: 0, count: 48_000 * 2 * seconds), encoder: EncoderSettings(preset: "ultrafast", crf: 4),
                                   posterFrame: 0, posterPath: nil)
        _ = try Composer.compose(spec)
        return try times.map { try MediaReader.lumaFrame(out, index: Int($0 * Double(fps))) }
    }

    static func difference(_ a: LumaImage, _ b: LumaImage) -> Double {
        Double(zip(a.pixels, b.pixels).reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) }) / Double(a.pixels.count)
    }

    static func inked(_ a: LumaImage) -> Int { a.pixels.filter { $0 > 100 }.count }

    @Test func cjkArabicAndHebrewGlyphsAreDrawnNotBoxes() throws {
        let style = CaptionStyle(size: 28, outline: 0, margin: 20)
        let lines = ["東京は日本の首都です。", "مرحبا بكم في العالم", "שלום עולם", "Привет, Καλημέρα"]
        // The same number of private-use characters: no font has them, so they show the missing-glyph box.
        let tofu = lines.map { String(repeating: "\u{E000}", count: $0.count) }
        let cues = (lines + tofu).enumerated().map { Cue(start: Double($0.offset), end: Double($0.offset) + 1, text: $0.element) }
        let frames = try burn(cues, style: style, times: cues.map { $0.start + 0.5 })
        for (i, line) in lines.enumerated() {
            let drawn = frames[i], boxes = frames[i + lines.count]
            #expect(Self.inked(drawn) > 300, "\(line): almost nothing drawn")
            #expect(Self.difference(drawn, boxes) > 0.5, "\(line) looks like missing-glyph boxes (difference \(Self.difference(drawn, boxes)))")
        }
    }

    @Test func theHighlightFollowsTheSpokenWord() throws {
        let words = [Cue.Word(text: "one", start: 0, end: 1), .init(text: "two", start: 1, end: 2), .init(text: "three", start: 2, end: 3)]
        let cue = Cue(start: 0, end: 3, lines: [words])
        var style = CaptionStyle(size: 32, outline: 0, margin: 20, highlight: 0x2040FF)
        let lit = try burn([cue], style: style, times: [0.5, 1.5, 2.5])
        #expect(Self.difference(lit[0], lit[1]) > 0.2 && Self.difference(lit[1], lit[2]) > 0.2, "the highlight did not move")
        // The text itself stays put: without a highlight the three moments are the same picture.
        style.highlight = nil
        let plain = try burn([cue], style: style, times: [0.5, 1.5, 2.5])
        #expect(Self.difference(plain[0], plain[1]) < 0.05 && Self.difference(plain[1], plain[2]) < 0.05)
        #expect(Self.inked(plain[0]) > 200)
    }

    /// CaptionBurner (libass called directly, blending only what is drawn) against libavfilter's `ass` filter, on a
    /// busy picture: captions with an outline and shadow, a fading title card and a boxed lower third.
    @Test func theBurnerDrawsWhatTheAssFilterDraws() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("burner-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let cues = [Cue(start: 0.2, end: 1.6, text: "Captions, burned once"), Cue(start: 1.6, end: 3, text: "Второй: 東京 and more")]
        let overlays = [TextOverlay(text: "A title card", start: 0, end: 1.5, kind: .title),
                        TextOverlay(text: "A lower third", start: 1.5, end: 3, kind: .lowerThird)]
        let script = ASSScript.document(cues: cues, overlays: overlays, width: 480, height: 270, style: CaptionStyle(size: 26, outline: 2, margin: 16))
        let ass = dir.appendingPathComponent("c.ass")
        try Data(script.utf8).write(to: ass)
        let fps = 10
        func render(_ name: String, graph: String, script: String?) throws -> String {
            let out = dir.appendingPathComponent(name).path
            var spec = CompositionSpec(outputPath: out, width: 480, height: 270, fps: fps, frameCount: 3 * fps, videoGraph: graph, images: [:],
                                       audio: [Float](repeating: 0, count: 48_000 * 2 * 3), encoder: EncoderSettings(preset: "ultrafast", crf: 0),
                                       posterFrame: 0, posterPath: nil)
            spec.captionScript = script
            _ = try Composer.compose(spec)
            return out
        }
        let source = "testsrc2=s=480x270:r=\(fps)"
        let filter = try render("filter.mp4", graph: "\(source),ass=filename='\(ass.path)',format=yuv420p[out]", script: nil)
        let burner = try render("burner.mp4", graph: "\(source),format=yuv420p[out]", script: script)
        let bare = try render("bare.mp4", graph: "\(source),format=yuv420p[out]", script: nil)
        for index in [1, 4, 10, 15, 22, 29] {
            let a = try MediaReader.lumaFrame(filter, index: index), b = try MediaReader.lumaFrame(burner, index: index)
            let drawn = Self.difference(a, try MediaReader.lumaFrame(bare, index: index))
            #expect(drawn > 0.3, "frame \(index): the filter drew almost nothing (\(drawn)), the comparison would prove nothing")
            #expect(Self.difference(a, b) < 0.05, "frame \(index): burner and ass filter differ by \(Self.difference(a, b)) per pixel")
        }
    }
}

/// The title card on a tall frame: wrapped to the frame and clear of captions in the middle.
struct TitleCardTests {
    /// The luma at 1 s of a 360x640 render over black with `overlays` and `cues`.
    func frame(overlays: [TextOverlay], cues: [Cue] = [], position: CaptionStyle.Position = .bottom) throws -> LumaImage {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("title-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("t.mp4").path
        var style = CaptionStyle(size: 30, outline: 2, margin: 30)
        style.position = position
        var spec = CompositionSpec(outputPath: out, width: 360, height: 640, fps: 10, frameCount: 20,
                                   videoGraph: "color=c=black:s=360x640:r=10,format=yuv420p[out]", images: [:],
                                   audio: [Float](repeating: 0, count: 48_000 * 2 * 2), encoder: EncoderSettings(preset: "ultrafast", crf: 4),
                                   posterFrame: 0, posterPath: nil)
        spec.captionScript = ASSScript.document(cues: cues, overlays: overlays, width: 360, height: 640, style: style)
        _ = try Composer.compose(spec)
        return try MediaReader.lumaFrame(out, index: 10)
    }

    /// Rows holding ink (luma above 100).
    static func inkedRows(_ f: LumaImage) -> [Int] {
        (0..<f.height).filter { y in (0..<f.width).contains { f.pixels[y * f.width + $0] > 100 } }
    }

    @Test func aLongTitleWrapsInsideATallFrame() throws {
        for title in ["Stripes, a short story", "Internationalization, explained"] {
            let f = try frame(overlays: [TextOverlay(text: title, start: 0, end: 2, kind: .title)])
            let edge = (0..<f.height).filter { y in [0, 1, 2, f.width - 3, f.width - 2, f.width - 1].contains { f.pixels[y * f.width + $0] > 60 } }
            #expect(edge.isEmpty, "\(title): ink at the frame's edge on \(edge.count) rows (cut off)")
            #expect(CaptionBurnTests.inked(f) > 800, "\(title): hardly drawn")
        }
    }

    @Test func middleCaptionsDoNotRunAcrossTheTitle() throws {
        let title = [TextOverlay(text: "Stripes, a short story", start: 0, end: 2, kind: .title)]
        let cue = [Cue(start: 0, end: 2, text: "This picture drifts slowly")]
        let titleRows = Set(Self.inkedRows(try frame(overlays: title, position: .middle)))
        let captionRows = Set(Self.inkedRows(try frame(overlays: [], cues: cue, position: .middle)))
        #expect(!titleRows.isEmpty && !captionRows.isEmpty)
        #expect(titleRows.isDisjoint(with: captionRows), "title and caption share \(titleRows.intersection(captionRows).count) rows")
    }
}
