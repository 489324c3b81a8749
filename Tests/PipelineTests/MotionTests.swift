import Engines
import Foundation
import Manifest
import Testing
import TestSupport
@testable import Media

/// `motion:` chooses the move over a scene image.
struct MotionTests {
    func move(_ motion: String?) throws -> (KenBurns, KenBurnsFrames) {
        let dir = TempDir()
        try FileManager.default.copyItem(atPath: Fixtures.image, toPath: dir.url.appendingPathComponent("pic.png").path)
        let scene = "  - narration: Hi.\n    image: pic.png\n" + (motion.map { "    motion: \($0)\n" } ?? "")
        let m = try ManifestLoader.load(path: dir.write("a.yaml", "output: {width: 320, height: 180}\nscenes:\n" + scene))
        let canvas = SceneCanvas(index: 0, width: 320, height: 180, fps: 10, frames: 20, prompt: nil, image: m.scenes[0].image,
                                 visuals: m.scenes[0].visuals, jobSeed: m.seed)
        guard case .still(let still) = try ProceduralVisuals().picture(for: canvas, progress: { _ in }) else { throw CancellationError() }
        return (still.move, try KenBurnsFrames(still: still, width: 320, height: 180, frames: 20, fps: 10))
    }

    @Test func eachMotionMovesTheWindowItsWay() throws {
        let (none, stillFrames) = try move("none")
        #expect(none.startZoom == 1 && none.endZoom == 1 && stillFrames.window(0) == stillFrames.window(19))
        let (_, left) = try move("pan_left")
        #expect(left.window(0).w == left.window(19).w && left.window(0).x > left.window(19).x)
        let (_, right) = try move("pan_right")
        #expect(right.window(0).x < right.window(19).x)
        let (_, zoomIn) = try move("zoom_in")
        #expect(zoomIn.window(0).w > zoomIn.window(19).w)
        let (_, zoomOut) = try move("zoom_out")
        #expect(zoomOut.window(0).w < zoomOut.window(19).w)
        let (auto, _) = try move(nil)
        #expect(auto.startZoom != auto.endZoom)
    }
}
