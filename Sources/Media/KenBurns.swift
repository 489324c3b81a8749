import CFFmpeg
import Foundation

/// A still's slow move, drawn in Swift with sub-pixel precision. libavfilter's zoompan rounds the crop's position
/// and size to whole (even) pixels, so its motion jitters and its zoom steps back and forth; here every frame
/// samples the placed picture bilinearly at the exact window, so the motion is as smooth as the arithmetic.
///
/// The picture is placed once (turned upright, fitted, composited) by a one-frame filter graph onto a canvas just
/// larger than the frame by the zoom: the closest frame samples it 1:1, the widest by the zoom (1:1.2 at most), so
/// bilinear filtering neither blurs nor aliases.
final class KenBurnsFrames: PlanarFrameIterator {
    private let width: Int, height: Int, frames: Int
    private let move: KenBurns
    private let canvas: (y: [UInt8], u: [UInt8], v: [UInt8])
    private let canvasWidth: Int, canvasHeight: Int
    private var index = 0
    private var columns = Columns()

    init(still: Still, width: Int, height: Int, frames: Int, fps: Int) throws {
        self.width = width
        self.height = height
        self.frames = frames
        move = still.move
        let scale = move.maxZoom
        canvasWidth = Self.even(Double(width) * scale)
        canvasHeight = Self.even(Double(height) * scale)
        let placed = GraphWriter.place(still, input: "img", label: "p", width: canvasWidth, height: canvasHeight,
                                       frameAspect: Double(width) / Double(height), fps: fps)
        let spec = CompositionSpec(outputPath: "", width: canvasWidth, height: canvasHeight, fps: fps, frameCount: 1,
                                   videoGraph: placed + ";[p]format=yuv420p[out]", images: ["img": still.path], audio: [],
                                   encoder: VideoQuality.draft.encoder, posterFrame: 0, posterPath: nil)
        let graph = try FilterGraph(spec: spec)
        var frame = av_frame_alloc()
        defer { av_frame_free(&frame) }
        guard let frame, try graph.next(into: frame) else {
            throw MediaError("place picture", path: still.path, detail: "the picture gave no frame")
        }
        func plane(_ p: Int32, _ w: Int, _ h: Int) -> [UInt8] {
            let stride = Int(ps_frame_linesize(frame, p)), base = ps_frame_data(frame, p)!
            var out = [UInt8](repeating: 0, count: w * h)
            out.withUnsafeMutableBufferPointer { dst in
                for row in 0..<h { (dst.baseAddress! + row * w).update(from: base + row * stride, count: w) }
            }
            return out
        }
        canvas = (plane(0, canvasWidth, canvasHeight), plane(1, canvasWidth / 2, canvasHeight / 2), plane(2, canvasWidth / 2, canvasHeight / 2))
    }

    static func even(_ v: Double) -> Int { Int((v / 2).rounded()) * 2 }

    /// The window of the canvas frame `n` shows: its top-left corner and size, in canvas pixels. The zoom is linear in
    /// time (monotonic on every frame) and the pan moves the window's position linearly across the room the zoom leaves.
    func window(_ n: Int) -> (x: Double, y: Double, w: Double, h: Double) {
        let t = frames > 1 ? Double(n) / Double(frames - 1) : 0
        let zoom = move.startZoom + (move.endZoom - move.startZoom) * t
        // At zoom 1 the window is the whole canvas; at the largest zoom it is the frame's own size (1:1).
        let w = Double(canvasWidth) / zoom
        let h = Double(canvasHeight) / zoom
        let x = (Double(canvasWidth) - w) * (0.5 + move.panX * (t - 0.5))
        let y = (Double(canvasHeight) - h) * (0.5 + move.panY * (t - 0.5))
        return (x, y, w, h)
    }

    func next() throws -> [UInt8]? {
        let cw = width / 2, ch = height / 2
        var out = [UInt8](repeating: 0, count: width * height + 2 * cw * ch)
        let drawn = out.withUnsafeMutableBufferPointer { dst in
            let y = dst.baseAddress!, u = y + width * height, v = u + cw * ch
            return draw(into: [(y, width), (u, cw), (v, cw)])
        }
        return drawn ? out : nil
    }

    func next(planes: [(UnsafeMutablePointer<UInt8>, Int)]) throws -> Bool { draw(into: planes) }

    /// The next frame into Y, U and V planes given as (first byte, stride); false at the end.
    private func draw(into planes: [(UnsafeMutablePointer<UInt8>, Int)]) -> Bool {
        guard index < frames else { return false }
        defer { index += 1 }
        let win = window(index)
        let cw = width / 2, ch = height / 2
        canvas.y.withUnsafeBufferPointer { src in
            resample(src.baseAddress!, canvasWidth, canvasHeight, into: planes[0].0, planes[0].1, width, height, win.x, win.y,
                     win.w / Double(width), win.h / Double(height))
        }
        for (plane, target) in [(canvas.u, planes[1]), (canvas.v, planes[2])] {
            plane.withUnsafeBufferPointer { src in
                resample(src.baseAddress!, canvasWidth / 2, canvasHeight / 2, into: target.0, target.1, cw, ch, win.x / 2, win.y / 2,
                         win.w / Double(width), win.h / Double(height))
            }
        }
        return true
    }

    /// Per-column source positions and weights (of 256), and two horizontally resampled source rows (value x 256),
    /// reused from frame to frame.
    private struct Columns {
        var left: [Int32] = [], right: [Int32] = [], weight: [UInt32] = []
        var rows: [[UInt32]] = [[], []]
        var rowSource = [-1, -1]
    }

    /// Bilinear resampling of the window starting at (`x0`, `y0`) with `scaleX`/`scaleY` source pixels per output
    /// pixel, pixel centres aligned. Separable, in fixed point: each source row in the window is resampled across
    /// once (the gathers), then output rows are blends of two of those (contiguous, vectorised).
    private func resample(_ src: UnsafePointer<UInt8>, _ sw: Int, _ sh: Int, into dst: UnsafeMutablePointer<UInt8>, _ stride: Int, _ dw: Int, _ dh: Int,
                          _ x0: Double, _ y0: Double, _ scaleX: Double, _ scaleY: Double) {
        if columns.left.count != dw {
            columns = Columns(left: [Int32](repeating: 0, count: dw), right: [Int32](repeating: 0, count: dw),
                              weight: [UInt32](repeating: 0, count: dw),
                              rows: [[UInt32](repeating: 0, count: dw), [UInt32](repeating: 0, count: dw)])
        }
        columns.rowSource = [-1, -1]
        for ox in 0..<dw {
            let sx = min(Double(sw - 1), max(0, x0 + (Double(ox) + 0.5) * scaleX - 0.5))
            let l = Int(sx)
            columns.left[ox] = Int32(l)
            columns.right[ox] = Int32(min(sw - 1, l + 1))
            columns.weight[ox] = UInt32((sx - Double(l)) * 256 + 0.5)
        }
        var c = columns
        defer { columns = c }
        /// Slot holding source row `k` resampled across, computing it if needed (never evicting `keep`).
        func row(_ k: Int, keep: Int) -> Int {
            if c.rowSource[0] == k { return 0 }
            if c.rowSource[1] == k { return 1 }
            let slot = c.rowSource[0] == keep ? 1 : 0
            let r = src + k * sw
            c.left.withUnsafeBufferPointer { left in
                c.right.withUnsafeBufferPointer { right in
                    c.weight.withUnsafeBufferPointer { weight in
                        c.rows[slot].withUnsafeMutableBufferPointer { out in
                            for ox in 0..<dw {
                                let a = UInt32(r[Int(left[ox])]), b = UInt32(r[Int(right[ox])]), w = weight[ox]
                                out[ox] = a &* (256 &- w) &+ b &* w  // at most 255 x 256: no overflow to check
                            }
                        }
                    }
                }
            }
            c.rowSource[slot] = k
            return slot
        }
        for oy in 0..<dh {
            let sy = min(Double(sh - 1), max(0, y0 + (Double(oy) + 0.5) * scaleY - 0.5))
            let top = Int(sy)
            let fy = UInt32((sy - Double(top)) * 256 + 0.5)
            let t = row(top, keep: top + 1)
            let b = row(min(sh - 1, top + 1), keep: top)
            let out = dst + oy * stride
            c.rows[t].withUnsafeBufferPointer { upper in
                c.rows[b].withUnsafeBufferPointer { lower in
                    for ox in 0..<dw {
                        // At most 65,280 x 256 + 32,768: wrapping arithmetic lets the loop vectorise.
                        out[ox] = UInt8(truncatingIfNeeded: (upper[ox] &* (256 &- fy) &+ lower[ox] &* fy &+ 32768) >> 16)
                    }
                }
            }
        }
    }
}
