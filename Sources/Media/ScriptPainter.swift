import CLibass

/// Draws an ASS script onto frames computed in Swift (packed yuv420p, as `FrameStream.PixelFormat.yuv420p` lays them
/// out): how an engine sets type on its own frames with the same renderer, fonts and blend as burned captions. One
/// instance per frame stream, used on the one thread that pulls it; libass keeps its glyph caches between frames.
public final class ScriptPainter {
    private var library: OpaquePointer?
    private var renderer: OpaquePointer?
    private var track: UnsafeMutablePointer<ASS_Track>?
    public let width: Int, height: Int

    public init(script: String, width: Int, height: Int) throws(MediaError) {
        self.width = width; self.height = height
        library = ass_library_init()
        guard let library else { throw MediaError("start libass", detail: "ass_library_init failed") }
        ass_set_message_cb(library, { _, _, _, _ in }, nil)
        renderer = ass_renderer_init(library)
        guard let renderer else { throw MediaError("start libass", detail: "ass_renderer_init failed") }
        ass_set_frame_size(renderer, Int32(width), Int32(height))
        ass_set_fonts(renderer, nil, nil, Int32(ASS_FONTPROVIDER_AUTODETECT.rawValue), nil, 1)
        var bytes = Array(script.utf8CString)
        track = bytes.withUnsafeMutableBufferPointer { ass_read_memory(library, $0.baseAddress, $0.count - 1, nil) }
        guard track != nil else { throw MediaError("read card script", detail: "libass could not parse the ASS script") }
    }

    deinit {
        if let track { ass_free_track(track) }
        if let renderer { ass_renderer_done(renderer) }
        if let library { ass_library_done(library) }
    }

    /// Blends what the script shows at `milliseconds` into `frame` (Y plane, then U, then V, rows unpadded).
    public func paint(_ frame: inout [UInt8], milliseconds: Int64) {
        var changed: Int32 = 0
        var image = ass_render_frame(renderer, track, milliseconds, &changed)
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
