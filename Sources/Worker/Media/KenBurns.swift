import CFFmpeg
import Foundation

/// A still's slow move, drawn with sub-pixel precision (a fixed-point bilinear kernel, SIMD where the CPU has it).
/// libavfilter's zoompan rounds the crop's position and size to whole (even) pixels, so its motion jitters and its
/// zoom steps back and forth; here every frame samples the placed picture bilinearly at the exact window, so the
/// motion is as smooth as the arithmetic.
///
/// The picture is placed once (turned upright, fitted, composited) by a one-frame filter graph onto a canvas just
/// larger than the frame by the zoom: the closest frame samples it 1:1, the widest by the zoom (1:1.2 at most), so
/// bilinear filtering neither blurs nor aliases.
final class KenBurnsFrames: PlanarFrameIterator {
    private let width: Int, height: Int, frames: Int
    private let move: KenBurns
    /// The placed picture's planes (each padded by 16 bytes), which every frame samples.
    let canvas: (y: [UInt8], u: [UInt8], v: [UInt8])
    let canvasWidth: Int, canvasHeight: Int
    private var index = 0

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
            // Padded: the kernel's shuffles load 16 bytes from a row's last taps.
            var out = [UInt8](repeating: 0, count: w * h + 16)
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

    /// Draws with the kernels' scalar passes instead of the SIMD ones (the same bytes): for tests and the micro-bench.
    var scalarPasses = false

    /// The next frame into Y, U and V planes given as (first byte, stride); false at the end.
    private func draw(into planes: [(UnsafeMutablePointer<UInt8>, Int)]) -> Bool {
        guard index < frames else { return false }
        defer { index += 1 }
        let win = window(index)
        let cw = width / 2, ch = height / 2
        let sx = win.w / Double(width), sy = win.h / Double(height)
        prepare(luma, sw: canvasWidth, dw: width, x0: win.x, scaleX: sx)
        canvas.y.withUnsafeBufferPointer { src in
            resample(luma, src.baseAddress!, canvasWidth, canvasHeight, into: planes[0].0, planes[0].1, height, win.y, sy)
        }
        // U and V share their window, so their columns' taps too.
        prepare(chroma, sw: canvasWidth / 2, dw: cw, x0: win.x / 2, scaleX: sx)
        for (plane, target) in [(canvas.u, planes[1]), (canvas.v, planes[2])] {
            plane.withUnsafeBufferPointer { src in
                resample(chroma, src.baseAddress!, canvasWidth / 2, canvasHeight / 2, into: target.0, target.1, ch, win.y / 2, sy)
            }
        }
        return true
    }

    /// The kernels for the luma and chroma planes, and each column's taps (kept from frame to frame).
    private let luma = BilinearKernel(), chroma = BilinearKernel()
    private var left: [Int32] = [], right: [Int32] = [], weight: [UInt16] = []

    /// Each of `dw` output columns' source taps and weight (of 256) for a window starting at `x0` with `scaleX`
    /// source pixels per output pixel, pixel centres aligned.
    private func prepare(_ kernel: BilinearKernel, sw: Int, dw: Int, x0: Double, scaleX: Double) {
        if left.count != dw {
            left = [Int32](repeating: 0, count: dw)
            right = [Int32](repeating: 0, count: dw)
            weight = [UInt16](repeating: 0, count: dw)
        }
        for ox in 0..<dw {
            let sx = min(Double(sw - 1), max(0, x0 + (Double(ox) + 0.5) * scaleX - 0.5))
            let l = Int(sx)
            left[ox] = Int32(l)
            right[ox] = Int32(min(sw - 1, l + 1))
            weight[ox] = UInt16((sx - Double(l)) * 256 + 0.5)
        }
        kernel.prepare(left: left, right: right, weight: weight)
    }

    /// Bilinear resampling, separable and in fixed point: each source row the window covers is resampled across
    /// once (the shuffles), then each output row is a blend of two of those (contiguous multiply-adds).
    private func resample(_ kernel: BilinearKernel, _ src: UnsafePointer<UInt8>, _ sw: Int, _ sh: Int,
                          into dst: UnsafeMutablePointer<UInt8>, _ stride: Int, _ dh: Int, _ y0: Double, _ scaleY: Double) {
        var source = (-1, -1)
        let scalar = scalarPasses
        /// Slot holding source row `k` resampled across, computing it if needed (never evicting `keep`).
        func row(_ k: Int, keep: Int) -> Int {
            if source.0 == k { return 0 }
            if source.1 == k { return 1 }
            let slot = source.0 == keep ? 1 : 0
            kernel.horizontal(src + k * sw, slot: slot, scalar: scalar)
            if slot == 0 { source.0 = k } else { source.1 = k }
            return slot
        }
        for oy in 0..<dh {
            let sy = min(Double(sh - 1), max(0, y0 + (Double(oy) + 0.5) * scaleY - 0.5))
            let top = Int(sy)
            let fy = UInt32((sy - Double(top)) * 256 + 0.5)
            let t = row(top, keep: top + 1)
            let b = row(min(sh - 1, top + 1), keep: top)
            kernel.vertical(upper: t, lower: b, fy: fy, into: dst + oy * stride, scalar: scalar)
        }
    }
}
