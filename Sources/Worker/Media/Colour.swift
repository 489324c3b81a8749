import CFFmpeg

/// The one colour space every ProStudio video is made in: BT.709 primaries, transfer and matrix, limited
/// (TV) range, tagged in the stream. BT.709 for SD and previews too, not only HD: one matrix from the first
/// conversion to the encoder means one set of reference values, a preview that shows the colours of the final
/// render, and renditions that agree with each other; the tags tell every player that honours them (browsers,
/// VLC, mpv, the platforms' transcoders) which matrix to use, so an SD file is shown right even though
/// untagged SD is guessed to be BT.601.
///
/// Debian's FFmpeg 5.1 converts RGB to YUV with the BT.601 matrix unless told otherwise, and an untagged frame
/// is read back as BT.601 by every later conversion. So the matrix is named at each place pixels enter a graph,
/// and every conversion after that is told its input is already BT.709.
public enum Colour {
    /// For libavfilter's own format conversions (the scale filters it inserts between filters that disagree on
    /// the pixel format): input already BT.709 (pictures are converted as they enter), output BT.709 limited.
    static let graphConversions = "in_color_matrix=bt709:out_color_matrix=bt709:out_range=tv"

    /// Options for a `scale` filter where a picture enters the graph: its own matrix read from the frame's tag
    /// (a JPEG says BT.601, a phone clip BT.709, RGB needs none), BT.709 limited out.
    static let entry = "out_color_matrix=bt709:out_range=tv"

    /// The same for frames a Swift stream hands over: RGB needs no input matrix, and YUV drawn in Swift is
    /// drawn with `limited(_:_:_:)`, so it is BT.709 already.
    static let swiftFrames = "in_color_matrix=bt709:out_color_matrix=bt709:out_range=tv"

    /// Y, U, V (limited range, not rounded) of an sRGB colour by the BT.709 matrix: what libass colours and
    /// Swift-drawn backgrounds become. Pure red is (63, 102, 240) rounded.
    public static func limited(_ r: Double, _ g: Double, _ b: Double) -> (y: Double, u: Double, v: Double) {
        let kr = 0.2126, kb = 0.0722, kg = 1 - kr - kb
        let y = kr * r + kg * g + kb * b
        return (16 + y * 219 / 255,
                128 + (b - y) / (2 * (1 - kb)) * 224 / 255,
                128 + (r - y) / (2 * (1 - kr)) * 224 / 255)
    }

    /// Tags an encoder so the H.264 VUI (and the MP4's `colr` box) say BT.709, limited range.
    static func tag(_ ctx: UnsafeMutablePointer<AVCodecContext>) {
        ctx.pointee.color_primaries = AVCOL_PRI_BT709
        ctx.pointee.color_trc = AVCOL_TRC_BT709
        ctx.pointee.colorspace = AVCOL_SPC_BT709
        ctx.pointee.color_range = AVCOL_RANGE_MPEG
    }

    /// Tells a swscale context the source's matrix and range and the destination's; without it swscale takes
    /// BT.601 on both sides.
    static func describe(_ sws: OpaquePointer?, source: AVColorSpace, sourceFull: Bool, destination: AVColorSpace, destinationFull: Bool) {
        guard let sws else { return }
        _ = sws_setColorspaceDetails(sws, sws_getCoefficients(swsMatrix(source)), sourceFull ? 1 : 0,
                                     sws_getCoefficients(swsMatrix(destination)), destinationFull ? 1 : 0, 0, 1 << 16, 1 << 16)
    }

    /// A decoded frame's matrix and range as a player reads them: its tags, and when untagged BT.709 for HD
    /// (720 lines and up) and BT.601 below, as players guess.
    static func of(_ frame: UnsafePointer<AVFrame>) -> (space: AVColorSpace, full: Bool) {
        var space = frame.pointee.colorspace
        if space == AVCOL_SPC_UNSPECIFIED || space == AVCOL_SPC_RESERVED {
            space = frame.pointee.height >= 720 ? AVCOL_SPC_BT709 : AVCOL_SPC_BT470BG
        }
        return (space, frame.pointee.color_range == AVCOL_RANGE_JPEG || isFullRangeFormat(frame.pointee.format))
    }

    private static func swsMatrix(_ space: AVColorSpace) -> Int32 {
        switch space {
        case AVCOL_SPC_BT709: SWS_CS_ITU709
        case AVCOL_SPC_FCC: SWS_CS_FCC
        case AVCOL_SPC_SMPTE240M: SWS_CS_SMPTE240M
        case AVCOL_SPC_BT2020_NCL, AVCOL_SPC_BT2020_CL: SWS_CS_BT2020
        default: SWS_CS_ITU601
        }
    }

    private static func isFullRangeFormat(_ format: Int32) -> Bool {
        [AV_PIX_FMT_YUVJ420P, AV_PIX_FMT_YUVJ422P, AV_PIX_FMT_YUVJ444P, AV_PIX_FMT_YUVJ440P, AV_PIX_FMT_YUVJ411P].map(\.rawValue).contains(format)
    }
}
