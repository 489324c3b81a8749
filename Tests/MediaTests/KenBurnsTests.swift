import Foundation
import Testing
@testable import Media

/// The Ken Burns move, measured on a test card read back from the encoded video: a bright square's centre stays
/// within a quarter pixel of where the move puts it on every frame, and its size grows on every frame of a zoom in.
struct KenBurnsTests {
    @Test func motionIsSubPixelSmoothAndTheZoomMonotonic() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kb-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let card = dir.appendingPathComponent("card.png").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
        p.arguments = ["-v", "error", "-y", "-f", "lavfi", "-i", "color=black:s=1280x720,drawbox=x=520:y=280:w=120:h=120:color=white:t=fill",
                       "-frames:v", "1", card]
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)

        let frames = 48
        let still = Still(path: card, fit: .cover, move: KenBurns(zoomIn: true, zoom: 0.2, panX: 0.6, panY: 0.3),
                          backdrop: Background(colors: [0], speed: 0, seed: 0))
        let out = dir.appendingPathComponent("kb.mp4").path
        _ = try Composer.compose(Composition(outputPath: out, width: 640, height: 360, fps: 24, frameCount: frames,
                                             scenes: [.init(picture: .still(still), start: 0, frames: frames)], crossfadeFrames: 0,
                                             audio: [Float](repeating: 0, count: 48_000 * 2 * 2), quality: .high, posterFrame: 0, posterPath: nil))
        // Centre and area of the square, weighted by brightness: sub-pixel estimates.
        var centres: [(x: Double, y: Double)] = [], areas: [Double] = []
        for n in 0..<frames {
            let f = try MediaReader.lumaFrame(out, index: n)
            var sum = 0.0, sx = 0.0, sy = 0.0
            for y in 0..<f.height {
                for x in 0..<f.width {
                    let w = max(0, Double(f.pixels[y * f.width + x]) - 24) / (235 - 24)
                    sum += w; sx += w * Double(x); sy += w * Double(y)
                }
            }
            centres.append((sx / sum, sy / sum))
            areas.append(sum)
        }
        // Where the move puts the square's centre: it sits at (580, 340) of the 1280x720 card, which covers the
        // 768x432 canvas (0.6x), and each frame shows the window `window(n)` of that canvas at 640x360.
        let mover = try KenBurnsFrames(still: still, width: 640, height: 360, frames: frames, fps: 24)
        var worst = 0.0
        for (n, c) in centres.enumerated() {
            let win = mover.window(n)
            let x = (580 * 0.6 - win.x) * 640 / win.w - 0.5, y = (340 * 0.6 - win.y) * 360 / win.h - 0.5
            worst = max(worst, abs(c.x - x), abs(c.y - y))
        }
        #expect(worst <= 0.25, "the centre strays \(worst) px from where the move puts it")
        // Frame to frame, the step changes smoothly (zoompan's whole-pixel rounding made it jump by up to 2.9 px).
        // Each step is the difference of two measured centres, so this carries their noise twice over.
        let steps = zip(centres, centres.dropFirst()).map { (x: $1.x - $0.x, y: $1.y - $0.y) }
        let jitter = zip(steps, steps.dropFirst()).map { max(abs($1.x - $0.x), abs($1.y - $0.y)) }.max() ?? 0
        #expect(jitter <= 0.35, "the centre's step changes by \(jitter) px between frames")
        let travelled = hypot(centres.last!.x - centres.first!.x, centres.last!.y - centres.first!.y)
        #expect(travelled > 10, "the square moved only \(travelled) px")
        for (a, b) in zip(areas, areas.dropFirst()) { #expect(b > a, "the zoom went back: area \(a) then \(b)") }
        #expect(areas.last! / areas.first! > 1.3, "zoomed by \(areas.last! / areas.first!)")
    }

    /// The SIMD resample draws the bytes the plain separable bilinear filter (the Swift one it replaced, below) draws,
    /// for moves inside the shuffle's reach (zoom 1.2), beyond it (zoom 2.6: runs of columns done tap by tap), and
    /// frame widths that are not a multiple of the 16-column runs.
    @Test(arguments: [(640, 360, 1.0, 1.2, 0.6, 0.3), (322, 182, 2.6, 1.0, -1.0, 0.5), (1080, 1920, 1.15, 1.0, 0.4, -0.8)])
    func simdFramesAreThePlainFiltersBytes(_ w: Int, _ h: Int, _ startZoom: Double, _ endZoom: Double, _ panX: Double, _ panY: Double) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kbeq-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // A detailed card: testsrc2's gradients, text and edges exercise every weight.
        let card = dir.appendingPathComponent("card.png").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
        p.arguments = ["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=900x700", "-frames:v", "1", card]
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let still = Still(path: card, fit: .cover, move: KenBurns(startZoom: startZoom, endZoom: endZoom, panX: panX, panY: panY),
                          backdrop: Background(colors: [0], speed: 0, seed: 0))
        #if arch(x86_64)
        // Else both sides below would be the scalar passes, and this would check nothing about the fast ones.
        #expect(BilinearKernel.simd, "this x86-64 CPU has no AVX2: the SIMD passes cannot be checked here")
        #endif
        let frames = 5
        let fast = try KenBurnsFrames(still: still, width: w, height: h, frames: frames, fps: 24)
        let scalar = try KenBurnsFrames(still: still, width: w, height: h, frames: frames, fps: 24)
        scalar.scalarPasses = true
        let cw = fast.canvasWidth, ch = fast.canvasHeight
        for n in 0..<frames {
            let got = try #require(try fast.next()), plain = try #require(try scalar.next())
            let win = fast.window(n)
            let sx = win.w / Double(w), sy = win.h / Double(h)
            let want = Self.plainBilinear(fast.canvas.y, cw, ch, w, h, win.x, win.y, sx, sy)
                + Self.plainBilinear(fast.canvas.u, cw / 2, ch / 2, w / 2, h / 2, win.x / 2, win.y / 2, sx, sy)
                + Self.plainBilinear(fast.canvas.v, cw / 2, ch / 2, w / 2, h / 2, win.x / 2, win.y / 2, sx, sy)
            #expect(got.count == want.count)
            let differing = zip(got, want).filter { $0 != $1 }.count
            #expect(differing == 0, "frame \(n) at \(w)x\(h): \(differing) bytes differ from the plain filter's")
            #expect(plain == want, "frame \(n): the scalar passes differ from the plain filter")
        }
        #expect(try fast.next() == nil)
    }

    /// The resample as it was drawn in Swift before the SIMD kernel (bilinear, pixel centres aligned, weights of
    /// 256, rows across first, rounded once at the end), written plainly: the reference the kernel must match.
    static func plainBilinear(_ src: [UInt8], _ sw: Int, _ sh: Int, _ dw: Int, _ dh: Int,
                              _ x0: Double, _ y0: Double, _ scaleX: Double, _ scaleY: Double) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: dw * dh)
        for oy in 0..<dh {
            let sy = min(Double(sh - 1), max(0, y0 + (Double(oy) + 0.5) * scaleY - 0.5))
            let top = Int(sy), bottom = min(sh - 1, top + 1)
            let fy = UInt32((sy - Double(top)) * 256 + 0.5)
            for ox in 0..<dw {
                let sx = min(Double(sw - 1), max(0, x0 + (Double(ox) + 0.5) * scaleX - 0.5))
                let l = Int(sx), r = min(sw - 1, l + 1)
                let fx = UInt32((sx - Double(l)) * 256 + 0.5)
                func across(_ row: Int) -> UInt32 { UInt32(src[row * sw + l]) * (256 - fx) + UInt32(src[row * sw + r]) * fx }
                out[oy * dw + ox] = UInt8((across(top) * (256 - fy) + across(bottom) * fy + 32768) >> 16)
            }
        }
        return out
    }
}
