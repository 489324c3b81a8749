import CLibass

/// Draws an ASS script onto frames computed in Swift (packed yuv420p, as `FrameStream.PixelFormat.yuv420p` lays them
/// out): how an engine sets type on its own frames with the same renderer, fonts and blend as burned captions. One
/// instance per frame stream, used on the one thread that pulls it; libass keeps its glyph caches between frames.
public final class ScriptPainter {
    private let libass: LibassTrack
    public let width: Int, height: Int

    public init(script: String, width: Int, height: Int) throws(MediaError) {
        self.width = width; self.height = height
        libass = try LibassTrack(script: script, width: width, height: height, what: "read card script")
    }

    /// Blends what the script shows at `milliseconds` into `frame` (Y plane, then U, then V, rows unpadded).
    public func paint(_ frame: inout [UInt8], milliseconds: Int64) {
        var image = libass.render(milliseconds)
        let cw = (width + 1) / 2, ch = (height + 1) / 2
        guard frame.count >= width * height + 2 * cw * ch else { return }
        frame.withUnsafeMutableBufferPointer { buf in
            guard let base = buf.baseAddress else { return }
            let planes = [(base, width), (base + width * height, cw), (base + width * height + cw * ch, cw)]
            while let img = image {
                CaptionBurner.blend(img.pointee, into: planes, width: width, height: height)
                image = img.pointee.next
            }
        }
    }
}
