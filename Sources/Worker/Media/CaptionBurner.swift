import CFFmpeg
import CLibass

/// Burns an ASS script (captions, title card, lower thirds) into the graph's yuv420p frames with libass: the same
/// renderer, fonts and colour maths as libavfilter's `ass` filter, whose per-pixel blend was the costliest filter in
/// a captioned render (a third of the graph's CPU on the welcome example). Here a frame with nothing on screen is
/// not touched, and only the pixels a glyph, outline or shadow bitmap covers are blended, in one integer pass each.
///
/// Used on one thread at a time (the filter thread that owns the graph); libass keeps its glyph caches between frames.
final class CaptionBurner {
    private let libass: LibassTrack

    init(script: String, width: Int, height: Int) throws(MediaError) {
        libass = try LibassTrack(script: script, width: width, height: height, what: "read captions")
    }

    /// Draws what the script shows at `milliseconds` onto `frame` (yuv420p), making it writable first if it must.
    func burn(_ frame: UnsafeMutablePointer<AVFrame>, milliseconds: Int64) throws(MediaError) {
        var image = ComposeProfile.measure("filter.captions_libass") { libass.render(milliseconds) }
        guard image != nil else { return }
        guard frame.pointee.format == AV_PIX_FMT_YUV420P.rawValue else {
            throw MediaError("burn captions", detail: "the graph's output is not yuv420p (format \(frame.pointee.format))")
        }
        try check(av_frame_make_writable(frame), "make frame writable for captions")
        let w = Int(frame.pointee.width), h = Int(frame.pointee.height)
        let planes = (0..<3).map { (ps_frame_data(frame, Int32($0))!, Int(ps_frame_linesize(frame, Int32($0)))) }
        while let img = image {
            Self.blend(img.pointee, into: planes, width: w, height: h)
            image = img.pointee.next
        }
    }

    /// One libass bitmap (coverage 0...255 in one colour) over the Y, U and V planes, as libavfilter's
    /// ff_blend_mask does it: coverage x opacity per luma pixel, the 2x2 average per chroma pixel; the colour
    /// by BT.709, limited range, as the rest of the picture (ff_draw_color would give BT.601).
    static func blend(_ img: ASS_Image, into planes: [(UnsafeMutablePointer<UInt8>, Int)], width: Int, height: Int) {
        let opacity = Int(255 - (img.color & 0xFF))
        guard opacity > 0, img.w > 0, img.h > 0, let bitmap = img.bitmap else { return }
        let r = Double((img.color >> 24) & 0xFF), g = Double((img.color >> 16) & 0xFF), b = Double((img.color >> 8) & 0xFF)
        let yuv = Colour.limited(r, g, b)
        let srcY = Int(yuv.y.rounded()), srcU = Int(yuv.u.rounded()), srcV = Int(yuv.v.rounded())
        // Clip to the frame (libass already does; a bad script must not write outside it).
        let x0 = max(0, Int(img.dst_x)), y0 = max(0, Int(img.dst_y))
        let x1 = min(width, Int(img.dst_x) + Int(img.w)), y1 = min(height, Int(img.dst_y) + Int(img.h))
        guard x0 < x1, y0 < y1 else { return }
        let stride = Int(img.stride)
        // Bitmap pixel of frame pixel (x, y).
        let origin = bitmap - (Int(img.dst_y) * stride + Int(img.dst_x))

        let full = 255 * 255
        let (luma, lumaStride) = planes[0]
        // Branch-free so the loop vectorises: an uncovered pixel (a = 0) comes out unchanged, as
        // (v * 65025 + 32512) / 65025 = v. The division is the exact multiply-and-shift for every numerator here
        // (below 2^24: checked exhaustively), in 32-bit lanes with one widening multiply.
        let ySrc = UInt32(srcY), op = UInt32(opacity)
        for y in y0..<y1 {
            let mask = origin + y * stride
            let row = luma + y * lumaStride
            for x in x0..<x1 {
                let a = UInt32(mask[x]) &* op
                let v = UInt32(row[x]) &* (65025 &- a) &+ ySrc &* a &+ 32512
                row[x] = UInt8(truncatingIfNeeded: (UInt64(v) &* 16_909_061) &>> 40)
            }
        }
        // Chroma: each sample covers a 2x2 block; bitmap pixels outside the image count as no coverage.
        let full4 = 4 * full
        let (u, uStride) = planes[1], (v, vStride) = planes[2]
        for cy in (y0 / 2)...((y1 - 1) / 2) {
            let ya = max(y0, 2 * cy), yb = min(y1, 2 * cy + 2)
            let top = origin + ya * stride
            let bottom = yb - ya == 2 ? top + stride : nil
            let uRow = u + cy * uStride, vRow = v + cy * vStride
            // Whole 2x2 blocks (both rows, columns 2cx and 2cx + 1 inside the bitmap) branch-free, as for luma: a block
            // with no coverage comes out unchanged, and 67636241 >> 44 is the exact division by 260100 for every
            // numerator here (below 2^26: checked exhaustively). The blocks at the edges take the general path.
            var lo = 0, hi = 0
            if let bottom {
                lo = (x0 + 1) / 2; hi = max(lo, x1 / 2)
                let uS = UInt32(srcU), vS = UInt32(srcV), op = UInt32(opacity)
                for cx in lo..<hi {
                    let sum = UInt32(top[2 * cx]) &+ UInt32(top[2 * cx + 1]) &+ UInt32(bottom[2 * cx]) &+ UInt32(bottom[2 * cx + 1])
                    let a = sum &* op
                    let nu = UInt32(uRow[cx]) &* (260_100 &- a) &+ uS &* a &+ 130_050
                    let nv = UInt32(vRow[cx]) &* (260_100 &- a) &+ vS &* a &+ 130_050
                    uRow[cx] = UInt8(truncatingIfNeeded: (UInt64(nu) &* 67_636_241) &>> 44)
                    vRow[cx] = UInt8(truncatingIfNeeded: (UInt64(nv) &* 67_636_241) &>> 44)
                }
            }
            for cx in (x0 / 2)...((x1 - 1) / 2) where cx < lo || cx >= hi {
                let xa = max(x0, 2 * cx), pair = min(x1, 2 * cx + 2) - xa == 2
                var sum = Int(top[xa])
                if pair { sum += Int(top[xa + 1]) }
                if let bottom {
                    sum += Int(bottom[xa])
                    if pair { sum += Int(bottom[xa + 1]) }
                }
                if sum == 0 { continue }
                let a = sum * opacity
                uRow[cx] = UInt8(truncatingIfNeeded: (Int(uRow[cx]) * (full4 - a) + srcU * a + full4 / 2) / full4)
                vRow[cx] = UInt8(truncatingIfNeeded: (Int(vRow[cx]) * (full4 - a) + srcV * a + full4 / 2) / full4)
            }
        }
    }
}
