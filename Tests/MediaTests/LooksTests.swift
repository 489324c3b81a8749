import Foundation
import Testing
@testable import Media

/// The designed backgrounds: each keeps moving, and each looks like itself.
struct LooksTests {
    func frames(_ look: Background.Look, seed: Int = 3) throws -> (first: LumaImage, last: LumaImage) {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("look-\(UUID().uuidString).mp4").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let b = Background(look: look, colors: [0x1E3A8A, 0x3B82F6, 0x93C5FD], speed: 0.01, seed: seed)
        _ = try Composer.compose(Composition(outputPath: out, width: 320, height: 180, fps: 10, frameCount: 40,
                                             scenes: [.init(picture: .background(b), start: 0, frames: 40)], crossfadeFrames: 0,
                                             audio: [Float](repeating: 0, count: 48_000 * 2 * 4), quality: .high, posterFrame: 0, posterPath: nil))
        return (try MediaReader.lumaFrame(out, index: 0), try MediaReader.lumaFrame(out, index: 39))
    }

    static func difference(_ a: LumaImage, _ b: LumaImage) -> Double {
        Double(zip(a.pixels, b.pixels).reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) }) / Double(a.pixels.count)
    }

    @Test func everyLookMovesAndEachLooksLikeItself() throws {
        var firsts: [Background.Look: LumaImage] = [:]
        for look in Background.Look.allCases {
            let (first, last) = try frames(look)
            #expect(Self.difference(first, last) > 1.0, "\(look) barely moves in 4 s: \(Self.difference(first, last))")
            let spread = Double(first.pixels.max()!) - Double(first.pixels.min()!)
            #expect(spread > 12, "\(look) is nearly flat (luma spread \(spread))")
            firsts[look] = first
        }
        let looks = Background.Look.allCases
        for i in looks.indices { for j in looks.indices where j > i {
            #expect(Self.difference(firsts[looks[i]]!, firsts[looks[j]]!) > 3, "\(looks[i]) and \(looks[j]) look alike")
        } }
        // Another seed lays the same look out differently.
        #expect(Self.difference(try frames(.bokeh, seed: 3).first, try frames(.bokeh, seed: 4).first) > 2)
    }

    /// An hour into a scene every look still draws a picture (drifting shapes once left the frame and crashed).
    @Test func longScenesKeepTheirPicture() throws {
        for look in Background.Look.allCases where look != .gradient {
            let b = Background(look: look, colors: [0x1E3A8A, 0x3B82F6, 0x93C5FD], speed: 0.01, seed: 5)
            let frames = LookFrames(background: b, frameWidth: 320, frameHeight: 180, fps: 30, frames: 30 * 7200)
            for hour in [1, 2] {
                frames.index = 30 * 3600 * hour - 1
                let pixels = try #require(try frames.next())
                #expect(Set(pixels).count > 8, "\(look) is flat after \(hour) h")
            }
        }
    }

    /// The looks draw the bytes they drew before their loops were vectorised: the hashes below are of main e4b75db's
    /// pixel-by-pixel code (12 frames of each look at 1280x720, seed 7, 300 frames apart), which this code must match
    /// to the bit, so no picture a user has seen changes.
    @Test(arguments: [(Background.Look.bokeh, "b57703f57b454cd0"), (.shapes, "109c2afb277dcd95"), (.flow, "7a4554847259f521")])
    func looksDrawTheBytesTheyDrewBefore(_ look: Background.Look, _ expected: String) throws {
        let f = LookFrames(background: Background(look: look, colors: [0x224466, 0x88aa33, 0xcc5511], speed: 0.01, seed: 7),
                           frameWidth: 1280, frameHeight: 720, fps: 24, frames: 4000)
        var hash: UInt64 = 14_695_981_039_346_656_037  // FNV-1a, 64-bit
        for _ in 0..<12 {
            let pixels = try #require(try f.next())
            f.index += 300
            for b in pixels { hash = (hash ^ UInt64(b)) &* 1_099_511_628_211 }
        }
        #expect(String(hash, radix: 16) == expected, "\(look)'s frames changed")
    }
}
