import CFFmpeg

/// One decoded picture's Y, U and V samples as the encoder stored them (no conversion), with the colour tags the
/// stream carries: what a colour check reads back.
public struct YUVSample: Sendable, Equatable {
    public var y: Int
    public var u: Int
    public var v: Int
}

public struct ColourTags: Sendable, Equatable {
    public var primaries: String
    public var transfer: String
    public var matrix: String
    public var range: String
    public init(primaries: String, transfer: String, matrix: String, range: String) {
        self.primaries = primaries; self.transfer = transfer; self.matrix = matrix; self.range = range
    }
    /// What every ProStudio video carries (`Colour`).
    public static let bt709 = ColourTags(primaries: "bt709", transfer: "bt709", matrix: "bt709", range: "tv")
}

extension MediaReader {
    /// The mean Y, U and V of a `size`x`size` block centred on (`x`, `y`) of video frame `index`, read straight
    /// from a 4:2:0 picture's planes.
    public static func yuvSample(_ path: String, index: Int = 0, x: Int, y: Int, size: Int = 8) throws(MediaError) -> YUVSample {
        let input = try InputFile(path: path, type: AVMEDIA_TYPE_VIDEO)
        var seen = 0
        var result: YUVSample?
        try input.forEachFrame { frame throws(MediaError) in
            if seen < index { seen += 1; return true }
            let yuv = [AV_PIX_FMT_YUV420P, AV_PIX_FMT_YUVJ420P].map(\.rawValue)
            guard yuv.contains(frame.pointee.format) else {
                throw MediaError("read colour", path: path, detail: "frame \(index) is pixel format \(frame.pointee.format), expected 4:2:0 YUV")
            }
            func mean(_ plane: Int32, _ cx: Int, _ cy: Int, _ half: Int) -> Int {
                let base = ps_frame_data(frame, plane)!, stride = Int(ps_frame_linesize(frame, plane))
                var sum = 0, n = 0
                for row in max(0, cy - half)..<(cy + half) { for col in max(0, cx - half)..<(cx + half) { sum += Int(base[row * stride + col]); n += 1 } }
                return n == 0 ? 0 : Int((Double(sum) / Double(n)).rounded())
            }
            let w = Int(frame.pointee.width), h = Int(frame.pointee.height)
            guard x + size / 2 <= w, y + size / 2 <= h else {
                throw MediaError("read colour", path: path, detail: "(\(x), \(y)) is outside the \(w)x\(h) picture")
            }
            result = YUVSample(y: mean(0, x, y, size / 2), u: mean(1, x / 2, y / 2, max(1, size / 4)), v: mean(2, x / 2, y / 2, max(1, size / 4)))
            return false
        }
        guard let result else { throw MediaError("decode frame \(index)", path: path, detail: "the file has fewer frames") }
        return result
    }

    /// The first video stream's colour tags as ffprobe names them (`bt709`, `tv`; `unknown` when absent).
    public static func colourTags(_ path: String) throws(MediaError) -> ColourTags {
        let input = try InputFile(path: path, type: AVMEDIA_TYPE_VIDEO)
        let par = input.format!.pointee.streams[Int(input.streamIndex)]!.pointee.codecpar!.pointee
        func name(_ p: UnsafePointer<CChar>?) -> String { p.map { String(cString: $0) } ?? "unknown" }
        return ColourTags(primaries: name(av_color_primaries_name(par.color_primaries)), transfer: name(av_color_transfer_name(par.color_trc)),
                          matrix: name(av_color_space_name(par.color_space)), range: name(av_color_range_name(par.color_range)))
    }
}
