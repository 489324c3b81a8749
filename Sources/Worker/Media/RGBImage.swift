import CFFmpeg

extension MediaReader {
    /// Frame `index` (0-based) of a video, or an image, as packed RGB24 rows scaled (stretched) to
    /// `width` x `height` with bicubic filtering: what a model engine feeds its image encoder.
    public static func rgbFrame(_ path: String, index: Int = 0, width: Int, height: Int) throws(MediaError) -> [UInt8] {
        let input = try InputFile(path: path, type: AVMEDIA_TYPE_VIDEO)
        var seen = 0
        var result: [UInt8]?
        try input.forEachFrame { frame throws(MediaError) in
            if seen < index { seen += 1; return true }
            let w = frame.pointee.width, h = frame.pointee.height
            var sws = sws_getContext(w, h, AVPixelFormat(frame.pointee.format), Int32(width), Int32(height), AV_PIX_FMT_RGB24,
                                     SWS_BICUBIC, nil, nil, nil)
            guard sws != nil else { throw MediaError("convert picture", path: path, detail: "unsupported pixel format") }
            // Read by the matrix the file was made with (swscale would take BT.601 for everything).
            let source = Colour.of(frame)
            Colour.describe(sws, source: source.space, sourceFull: source.full, destination: AVCOL_SPC_RGB, destinationFull: true)
            defer { sws_freeContext(sws); sws = nil }
            var pixels = [UInt8](repeating: 0, count: width * height * 3)
            pixels.withUnsafeMutableBufferPointer { buf in
                var dst: UnsafeMutablePointer<UInt8>? = buf.baseAddress
                var stride = Int32(width * 3)
                _ = sws_scale(sws, ps_frame_data_array(frame).withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: 8) { $0 },
                              ps_frame_linesize_array(frame), 0, h, &dst, &stride)
            }
            result = pixels
            return false
        }
        guard let result else { throw MediaError("decode frame \(index)", path: path, detail: "the file has fewer frames") }
        return result
    }
}
