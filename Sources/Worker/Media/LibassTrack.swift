import CLibass

/// One ASS script ready to render with libass at a frame size: what the caption burner and the script painter
/// both hold. Set up as libavfilter's `ass` filter does (fontconfig, no default family), with libass's font-matching
/// chatter silenced (failures surface as errors). Used on one thread at a time; libass keeps glyph caches between frames.
final class LibassTrack {
    private var library: OpaquePointer?
    private var renderer: OpaquePointer?
    private var track: UnsafeMutablePointer<ASS_Track>?

    /// `what`: the script's role, for the error ("read captions").
    init(script: String, width: Int, height: Int, what: String) throws(MediaError) {
        library = ass_library_init()
        guard let library else { throw MediaError("start libass", detail: "ass_library_init failed") }
        ass_set_message_cb(library, { _, _, _, _ in }, nil)
        ass_set_extract_fonts(library, 1)
        renderer = ass_renderer_init(library)
        guard let renderer else { throw MediaError("start libass", detail: "ass_renderer_init failed") }
        ass_set_frame_size(renderer, Int32(width), Int32(height))
        ass_set_fonts(renderer, nil, nil, Int32(ASS_FONTPROVIDER_AUTODETECT.rawValue), nil, 1)
        var bytes = Array(script.utf8CString)
        track = bytes.withUnsafeMutableBufferPointer { ass_read_memory(library, $0.baseAddress, $0.count - 1, nil) }
        guard track != nil else { throw MediaError(what, detail: "libass could not parse the ASS script") }
    }

    deinit {
        if let track { ass_free_track(track) }
        if let renderer { ass_renderer_done(renderer) }
        if let library { ass_library_done(library) }
    }

    /// The bitmaps the script shows at `milliseconds` (a linked list libass owns until the next call), nil when none.
    func render(_ milliseconds: Int64) -> UnsafeMutablePointer<ASS_Image>? {
        var changed: Int32 = 0
        return ass_render_frame(renderer, track, milliseconds, &changed)
    }
}
