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
}
