import Foundation
import Testing
@testable import Media

/// Known colours rendered through the whole picture path (a still through Ken Burns, the graph, libx264) and
/// decoded back: BT.709 values, limited range, and the stream saying so.
@Suite(.serialized)
struct ColourTests {
    let dir: URL = {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("colour-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }()

    static let colours: [(name: String, rgb: UInt32)] = [("red", 0xFF0000), ("green", 0x00FF00), ("blue", 0x0000FF), ("grey", 0x808080)]

    func run(_ tool: String, _ arguments: [String]) throws -> String {
        let p = Process(), out = Pipe()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/\(tool)")
        p.arguments = arguments
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(tool) \(arguments.joined(separator: " ")) failed")
        return String(decoding: data, as: UTF8.self)
    }

    /// A flat RGB picture (PNG, rgb24): no matrix of its own, so only ours decides its YUV.
    func picture(_ rgb: UInt32) throws -> String {
        let path = dir.appendingPathComponent(String(format: "%06X.png", rgb)).path
        _ = try run("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", String(format: "color=c=0x%06X:s=320x180", rgb), "-frames:v", "1", "-pix_fmt", "rgb24", path])
        return path
    }

    /// Four still scenes, one per colour, 5 frames each, at `width`x`height`; the poster is the first scene's.
    func render(width: Int, height: Int) throws -> (video: String, poster: String) {
        let out = dir.appendingPathComponent("c\(height).mp4").path, poster = dir.appendingPathComponent("c\(height).jpg").path
        let still = KenBurns(zoomIn: true, zoom: 0, panX: 0, panY: 0)
        let scenes = try Self.colours.enumerated().map { i, c in
            Composition.Scene(picture: .still(Still(path: try picture(c.rgb), fit: .cover, move: still, backdrop: Background(colors: [0x101010], speed: 0, seed: 1))), start: 5 * i, frames: 5)
        }
        let c = Composition(outputPath: out, width: width, height: height, fps: 10, frameCount: 20, scenes: scenes, crossfadeFrames: 0,
                            audio: [Float](repeating: 0, count: 2 * 48_000 * 2), quality: .high, posterFrame: 2, posterPath: poster)
        _ = try Composer.compose(c)
        return (out, poster)
    }

    @Test(arguments: [(1280, 720), (640, 360)])
    func flatColoursReadBackAsBT709LimitedRange(size: (Int, Int)) throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let (w, h) = size
        let (video, poster) = try render(width: w, height: h)
        for (i, c) in Self.colours.enumerated() {
            let got = try MediaReader.yuvSample(video, index: 5 * i + 2, x: w / 2, y: h / 2)
            let want = Colour.limited(Double(c.rgb >> 16 & 0xFF), Double(c.rgb >> 8 & 0xFF), Double(c.rgb & 0xFF))
            let off = [abs(Double(got.y) - want.y), abs(Double(got.u) - want.u), abs(Double(got.v) - want.v)].max()!
            #expect(off <= 3, "\(w)x\(h) \(c.name): Y/U/V \(got.y)/\(got.u)/\(got.v), BT.709 wants \(Int(want.y.rounded()))/\(Int(want.u.rounded()))/\(Int(want.v.rounded()))")
        }
        // The figures a reader can check by hand: BT.709 red is 63/102/240; BT.601 would be 81/90/240.
        let red = try MediaReader.yuvSample(video, index: 2, x: w / 2, y: h / 2)
        #expect(abs(red.y - 63) <= 3 && abs(red.u - 102) <= 3 && abs(red.v - 240) <= 3, "red read back as \(red)")

        let tags = try MediaReader.colourTags(video)
        #expect(tags == ColourTags(primaries: "bt709", transfer: "bt709", matrix: "bt709", range: "tv"), "\(tags)")
        // What other tools see: ffprobe reads the H.264 VUI and the MP4's colr box.
        let probed = try run("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries",
                                         "stream=color_range,color_space,color_transfer,color_primaries", "-of", "default=nw=1", video])
        for line in ["color_range=tv", "color_space=bt709", "color_transfer=bt709", "color_primaries=bt709"] {
            #expect(probed.contains(line), "ffprobe says \(probed)")
        }

        // Decoded back to RGB by the tags, and the JPEG poster (BT.601 full range, as JFIF is read): still red.
        for (what, path, index) in [("video", video, 2), ("poster", poster, 0)] {
            let rgb = try MediaReader.rgbFrame(path, index: index, width: 16, height: 9)
            let centre = (4 * 16 + 8) * 3
            let px = (Int(rgb[centre]), Int(rgb[centre + 1]), Int(rgb[centre + 2]))
            #expect(px.0 >= 245 && px.1 <= 10 && px.2 <= 10, "\(w)x\(h) \(what): red came back as \(px)")
        }
    }
}
