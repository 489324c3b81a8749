import CFFmpeg
import Foundation

/// A still's slow move, drawn in Swift with sub-pixel precision. libavfilter's zoompan rounds the crop's position
/// and size to whole (even) pixels, so its motion jitters and its zoom steps back and forth; here every frame
/// samples the placed picture bilinearly at the exact window, so the motion is as smooth as the arithmetic.
///
/// The picture is placed once (turned upright, fitted, composited) by a one-frame filter graph onto a canvas just
/// larger than the frame by the zoom: the closest frame samples it 1:1, the widest by the zoom (1:1.2 at most), so
/// bilinear filtering neither blurs nor aliases.
final class KenBurnsFrames: FrameIterator {
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
        let scale = 1 + max(0, move.zoom)
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
        let zoom = move.zoomIn ? 1 + move.zoom * t : 1 + move.zoom * (1 - t)
        // At zoom 1 the window is the whole canvas; at the full zoom it is the frame's own size (1:1).
        let w = Double(canvasWidth) / zoom
        let h = Double(canvasHeight) / zoom
        let x = (Double(canvasWidth) - w) * (0.5 + move.panX * (t - 0.5))
        let y = (Double(canvasHeight) - h) * (0.5 + move.panY * (t - 0.5))
        return (x, y, w, h)
    }

    func next() throws -> [UInt8]? {
        guard index < frames else { return nil }
        defer { index += 1 }
        let win = window(index)
        let cw = width / 2, ch = height / 2
        var out = [UInt8](repeating: 0, count: width * height + 2 * cw * ch)
        out.withUnsafeMutableBufferPointer { dst in
            let y = dst.baseAddress!, u = y + width * height, v = u + cw * ch
            canvas.y.withUnsafeBufferPointer { src in
                resample(src.baseAddress!, canvasWidth, canvasHeight, into: y, width, height, win.x, win.y, win.w / Double(width), win.h / Double(height))
            }
            for (plane, target) in [(canvas.u, u), (canvas.v, v)] {
                plane.withUnsafeBufferPointer { src in
                    resample(src.baseAddress!, canvasWidth / 2, canvasHeight / 2, into: target, cw, ch, win.x / 2, win.y / 2,
                             win.w / Double(width), win.h / Double(height))
                }
            }
        }
        return out
    }

    /// Per-column source positions, reused from frame to frame.
    private struct Columns { var left: [Int] = [], right: [Int] = [], weight: [Float] = [] }

    /// Bilinear resampling of the window starting at (`x0`, `y0`) with `scaleX`/`scaleY` source pixels per output
    /// pixel, pixel centres aligned.
    private func resample(_ src: UnsafePointer<UInt8>, _ sw: Int, _ sh: Int, into dst: UnsafeMutablePointer<UInt8>, _ dw: Int, _ dh: Int,
                          _ x0: Double, _ y0: Double, _ scaleX: Double, _ scaleY: Double) {
        if columns.left.count != dw {
            columns = Columns(left: [Int](repeating: 0, count: dw), right: [Int](repeating: 0, count: dw), weight: [Float](repeating: 0, count: dw))
        }
        for ox in 0..<dw {
            let sx = min(Double(sw - 1), max(0, x0 + (Double(ox) + 0.5) * scaleX - 0.5))
            let l = Int(sx)
            columns.left[ox] = l
            columns.right[ox] = min(sw - 1, l + 1)
            columns.weight[ox] = Float(sx - Double(l))
        }
        columns.left.withUnsafeBufferPointer { left in
            columns.right.withUnsafeBufferPointer { right in
                columns.weight.withUnsafeBufferPointer { weight in
                    for oy in 0..<dh {
                        let sy = min(Double(sh - 1), max(0, y0 + (Double(oy) + 0.5) * scaleY - 0.5))
                        let top = Int(sy)
                        let fy = Float(sy - Double(top))
                        let r0 = src + top * sw, r1 = src + min(sh - 1, top + 1) * sw
                        let row = dst + oy * dw
                        for ox in 0..<dw {
                            let l = left[ox], r = right[ox], fx = weight[ox]
                            let a = Float(r0[l]) + (Float(r0[r]) - Float(r0[l])) * fx
                            let b = Float(r1[l]) + (Float(r1[r]) - Float(r1[l])) * fx
                            row[ox] = UInt8(a + (b - a) * fy + 0.5)
                        }
                    }
                }
            }
        }
    }
}
