import Foundation
import Testing
@testable import Media

/// Scene pictures placed in the frame, read back from the encoded video: portrait photos shown whole over a
/// blurred fill, crops around the focus, phone photos turned upright, logos over their backdrop.
@Suite(.serialized)
struct StillFitTests {
    let dir: URL = {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("fit-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }()

    /// Writes a picture with the ffmpeg CLI from a lavfi source.
    func picture(_ name: String, _ source: String, pixelFormat: String? = nil) throws -> String {
        let path = dir.appendingPathComponent(name).path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
        p.arguments = ["-v", "error", "-y", "-f", "lavfi", "-i", source, "-frames:v", "1"] + (pixelFormat.map { ["-pix_fmt", $0] } ?? []) + [path]
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "ffmpeg could not write \(name)")
        return path
    }

    /// Adds an EXIF APP1 segment with `orientation` right after the JPEG's SOI marker.
    func withOrientation(_ jpeg: String, _ orientation: UInt16) throws -> String {
        var data = try Data(contentsOf: URL(fileURLWithPath: jpeg))
        var tiff: [UInt8] = [0x4D, 0x4D, 0, 0x2A, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1]
        tiff += [UInt8(orientation >> 8), UInt8(orientation & 0xFF), 0, 0, 0, 0, 0, 0]
        let app1: [UInt8] = Array("Exif".utf8) + [0, 0] + tiff
        let length = app1.count + 2
        data.insert(contentsOf: [0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)] + app1, at: 2)
        let out = jpeg.replacingOccurrences(of: ".jpg", with: "-o\(orientation).jpg")
        try data.write(to: URL(fileURLWithPath: out))
        return out
    }

    /// One still scene, no move, 640x360; the luma of its first frame.
    func render(_ still: Still) throws -> LumaImage {
        let out = dir.appendingPathComponent("\(UUID().uuidString).mp4").path
        let c = Composition(outputPath: out, width: 640, height: 360, fps: 10, frameCount: 5,
                            scenes: [.init(picture: .still(still), start: 0, frames: 5)], crossfadeFrames: 0,
                            audio: [Float](repeating: 0, count: 48_000), quality: .high, posterFrame: 0, posterPath: nil)
        _ = try Composer.compose(c)
        return try MediaReader.lumaFrame(out, index: 2)
    }

    static let still = KenBurns(zoomIn: true, zoom: 0, panX: 0, panY: 0)
    static let backdrop = Background(colors: [0x3060C0, 0x4070D0, 0x2050B0], speed: 0.01, seed: 3)

    func luma(_ f: LumaImage, _ x: Int, _ y: Int) -> Int { Int(f.pixels[y * f.width + x]) }

    @Test func aPortraitPhotoIsShownWholeOverABlurredFill() throws {
        // Red, lime and blue thirds, top to bottom: all three must show, the sides must be the dimmed fill.
        let path = try picture("portrait.png", "color=red:s=360x214[a];color=lime:s=360x212[b];color=blue:s=360x214[c];[a][b][c]vstack=3")
        let frame = try render(Still(path: path, move: Self.still, backdrop: Self.backdrop))
        let top = luma(frame, 320, 30), middle = luma(frame, 320, 180), bottom = luma(frame, 320, 330)
        // BT.709 luma, full range as lumaFrame reads it: red 0.2126 x 255 = 54, lime 0.7152 x 255 = 182 (BT.601 gave 76 and 150).
        #expect(abs(top - 54) < 12, "top \(top)")
        #expect(abs(middle - 182) < 12, "middle \(middle)")
        #expect(bottom < 70 && bottom < top - 15, "bottom \(bottom)")
        let side = luma(frame, 20, 180)
        #expect(side > 20 && side < middle - 20, "the fill beside the picture: \(side)")
        #expect(Still(path: path, move: Self.still, backdrop: Self.backdrop).fit(aspect: 360.0 / 640, frameAspect: 16.0 / 9) == .blur)
    }

    @Test func coverCropsAroundTheFocus() throws {
        // A 7:3 picture (within 15%? no: it is cropped because `cover` is asked), black left half and white right
        // half, covering a 16:9 frame: all of the frame is picture, and the focus decides which part survives.
        let path = try picture("halves.png", "color=black:s=700x600[a];color=white:s=700x600[b];[a][b]hstack")
        let left = try render(Still(path: path, fit: .cover, focusX: 0, move: Self.still, backdrop: Self.backdrop))
        let right = try render(Still(path: path, fit: .cover, focusX: 1, move: Self.still, backdrop: Self.backdrop))
        #expect(luma(left, 5, 180) < 30 && luma(left, 634, 180) > 200)
        #expect(luma(right, 5, 180) < 30 && luma(right, 634, 180) > 200)
        // Focus left keeps more of the black half than focus right.
        let blackColumns = { (f: LumaImage) in (0..<640).filter { self.luma(f, $0, 180) < 128 }.count }
        #expect(blackColumns(left) > blackColumns(right) + 100, "\(blackColumns(left)) vs \(blackColumns(right))")
    }

    @Test func containShowsTheWholePictureWithBars() throws {
        let path = try picture("square.png", "color=white:s=500x500")
        let frame = try render(Still(path: path, fit: .contain, move: Self.still, backdrop: Self.backdrop))
        #expect(luma(frame, 320, 180) > 200 && luma(frame, 320, 2) > 200)
        #expect(luma(frame, 40, 180) < 30)
    }

    @Test func aPhonePhotoIsTurnedUpright() throws {
        // Stored sideways: white on the left, black on the right; EXIF 6 says turn it 90 degrees clockwise, so the
        // white half ends up on top.
        let stored = try picture("sideways.jpg", "color=white:s=320x480[a];color=black:s=320x480[b];[a][b]hstack")
        let phone = try withOrientation(stored, 6)
        let info = try MediaReader.imageInfo(phone)
        #expect(info.orientation == 6 && info.width == 480 && info.height == 640)
        let frame = try render(Still(path: phone, fit: .contain, move: Self.still, backdrop: Self.backdrop))
        #expect(luma(frame, 320, 60) > 200 && luma(frame, 320, 300) < 40, "top \(luma(frame, 320, 60)), bottom \(luma(frame, 320, 300))")
    }

    @Test func aLogoSitsWholeOnTheBackdrop() throws {
        let path = try picture("logo.png", "color=white:s=200x200,format=rgba,pad=400:400:100:100:color=black@0", pixelFormat: "rgba")
        #expect(try MediaReader.imageInfo(path).hasAlpha)
        let frame = try render(Still(path: path, move: Self.still, backdrop: Self.backdrop))
        #expect(luma(frame, 320, 180) > 200, "the logo")
        // Its transparent margin shows the blue backdrop, not black.
        let margin = luma(frame, 320, 60), corner = luma(frame, 10, 10)
        #expect(margin > 50 && margin < 160 && corner > 50 && corner < 160, "margin \(margin), corner \(corner)")
    }
}
