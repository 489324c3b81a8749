import CFFmpeg
import Foundation
import Synchronization

/// An opened input file with one decoder: the shared part of reading images, video and audio back.
final class InputFile {
    private(set) var format: UnsafeMutablePointer<AVFormatContext>?
    private(set) var codec: UnsafeMutablePointer<AVCodecContext>?
    let streamIndex: Int32
    let path: String

    init(path: String, type: AVMediaType) throws(MediaError) {
        self.path = path
        var fmt: UnsafeMutablePointer<AVFormatContext>?
        try check(avformat_open_input(&fmt, path, nil, nil), "open", path: path)
        format = fmt
        do {
            try check(avformat_find_stream_info(fmt, nil), "read stream info", path: path)
            var decoder: UnsafePointer<AVCodec>?
            let index = av_find_best_stream(fmt, type, -1, -1, &decoder, 0)
            try check(index, "find \(type == AVMEDIA_TYPE_AUDIO ? "audio" : "video") stream", path: path)
            streamIndex = index
            codec = avcodec_alloc_context3(decoder)
            try check(avcodec_parameters_to_context(codec, fmt!.pointee.streams[Int(index)]!.pointee.codecpar), "configure decoder", path: path)
            codec!.pointee.thread_count = 1
            try check(avcodec_open2(codec, decoder, nil), "open decoder", path: path)
        } catch {
            avcodec_free_context(&codec)
            avformat_close_input(&format)
            throw error
        }
    }

    deinit {
        avcodec_free_context(&codec)
        avformat_close_input(&format)
    }

    var stream: UnsafeMutablePointer<AVStream> { format!.pointee.streams[Int(streamIndex)]! }

    /// Calls `body` with each decoded frame until it returns false or the file ends.
    func forEachFrame(_ body: (UnsafeMutablePointer<AVFrame>) throws(MediaError) -> Bool) throws(MediaError) {
        var packet = av_packet_alloc()
        var frame = av_frame_alloc()
        defer { av_packet_free(&packet); av_frame_free(&frame) }
        var draining = false
        while true {
            if !draining {
                let ret = av_read_frame(format, packet)
                if ret == ps_averror_eof() {
                    draining = true
                    try check(avcodec_send_packet(codec, nil), "flush decoder", path: path)
                } else {
                    try check(ret, "read", path: path)
                    defer { av_packet_unref(packet) }
                    if packet!.pointee.stream_index != streamIndex { continue }
                    let sent = avcodec_send_packet(codec, packet)
                    if sent != ps_averror_eagain() { try check(sent, "decode", path: path) }
                }
            }
            while true {
                let ret = avcodec_receive_frame(codec, frame)
                if ret == ps_averror_eagain() { break }
                if ret == ps_averror_eof() { return }
                try check(ret, "decode", path: path)
                let more = try body(frame!)
                av_frame_unref(frame)
                if !more { return }
            }
        }
    }
}

/// What a still image is, as it should be shown: its upright size, how to turn it upright, and whether it has
/// transparency.
public struct ImageInfo: Sendable, Equatable {
    /// EXIF orientation, 1...8 (1: already upright).
    public var orientation: Int
    /// Size once turned upright.
    public var width: Int
    public var height: Int
    public var hasAlpha: Bool
    public var aspect: Double { Double(width) / Double(max(1, height)) }
}

extension MediaReader {
    /// Decodes the image's first picture and reads its EXIF orientation (FFmpeg's JPEG decoder exports it as
    /// frame metadata) and pixel format. Throws when the file is not a decodable picture.
    public static func imageInfo(_ path: String) throws(MediaError) -> ImageInfo {
        // Plan, graph writing and warnings all ask: decode each picture once per process (keyed by its size and
        // modification time, so an edited file is read again).
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        let key = "\(path)|\(attributes?[.size] ?? 0)|\((attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)"
        if let known = imageInfos.withLock({ $0[key] }) { return known }
        let info = try readImageInfo(path)
        imageInfos.withLock { $0[key] = info }
        return info
    }

    private static let imageInfos = Mutex<[String: ImageInfo]>([:])

    private static func readImageInfo(_ path: String) throws(MediaError) -> ImageInfo {
        var frame: UnsafeMutablePointer<AVFrame>? = try ImageDecoder.decode(path: path)
        defer { av_frame_free(&frame) }
        let f = frame!.pointee
        var orientation = 1
        if let entry = av_dict_get(f.metadata, "Orientation", nil, 0),
           let value = Int(String(cString: entry.pointee.value).trimmingCharacters(in: .whitespaces)), (1...8).contains(value) {
            orientation = value
        }
        let desc = av_pix_fmt_desc_get(AVPixelFormat(f.format))
        let alpha = desc.map { ($0.pointee.flags & UInt64(AV_PIX_FMT_FLAG_ALPHA)) != 0 } ?? false
        let turned = orientation >= 5
        return ImageInfo(orientation: orientation, width: Int(turned ? f.height : f.width), height: Int(turned ? f.width : f.height), hasAlpha: alpha)
    }
}

enum ImageDecoder {
    /// The first picture of an image file, in its own pixel format. The caller frees it.
    static func decode(path: String) throws(MediaError) -> UnsafeMutablePointer<AVFrame> {
        let input = try InputFile(path: path, type: AVMEDIA_TYPE_VIDEO)
        var result: UnsafeMutablePointer<AVFrame>?
        try input.forEachFrame { frame throws(MediaError) in
            result = av_frame_clone(frame)
            return false
        }
        guard let result else { throw MediaError("decode image", path: path, detail: "the file holds no picture") }
        return result
    }
}

enum JPEGWriter {
    /// Encodes one frame as a full-range JPEG at `path`.
    static func write(_ frame: UnsafeMutablePointer<AVFrame>, to path: String) throws(MediaError) {
        guard let codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG) else { throw MediaError("find encoder", detail: "no MJPEG encoder") }
        var ctx = avcodec_alloc_context3(codec)
        var converted = av_frame_alloc()
        var packet = av_packet_alloc()
        var sws: OpaquePointer?
        defer { avcodec_free_context(&ctx); av_frame_free(&converted); av_packet_free(&packet); sws_freeContext(sws) }
        let w = frame.pointee.width, h = frame.pointee.height
        ctx!.pointee.width = w
        ctx!.pointee.height = h
        ctx!.pointee.pix_fmt = AV_PIX_FMT_YUVJ420P
        ctx!.pointee.time_base = AVRational(num: 1, den: 1)
        ctx!.pointee.flags |= Int32(AV_CODEC_FLAG_QSCALE)
        ctx!.pointee.global_quality = 2 * 118 // FF_QP2LAMBDA * q: q=2 is near-lossless
        try check(avcodec_open2(ctx, codec, nil), "open JPEG encoder")

        // The video's BT.709 TV range to JFIF's BT.601 full range, as JPEG viewers read it (a JPEG has no matrix
        // tag). The frame comes from the video's graph, BT.709 whatever its tags say.
        sws = sws_getContext(w, h, AVPixelFormat(frame.pointee.format), w, h, AV_PIX_FMT_YUVJ420P, SWS_BICUBIC, nil, nil, nil)
        guard sws != nil else { throw MediaError("convert poster", detail: "unsupported pixel format") }
        Colour.describe(sws, source: AVCOL_SPC_BT709, sourceFull: false, destination: AVCOL_SPC_BT470BG, destinationFull: true)
        converted!.pointee.width = w
        converted!.pointee.height = h
        converted!.pointee.format = AV_PIX_FMT_YUVJ420P.rawValue
        converted!.pointee.quality = 2 * 118
        converted!.pointee.color_range = AVCOL_RANGE_JPEG
        converted!.pointee.colorspace = AVCOL_SPC_BT470BG
        try check(av_frame_get_buffer(converted, 0), "allocate poster")
        sws_scale(sws, ps_frame_data_array(frame).withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: 8) { $0 },
                  ps_frame_linesize_array(frame), 0, h, ps_frame_data_array(converted), ps_frame_linesize_array(converted))
        try check(avcodec_send_frame(ctx, converted), "encode poster")
        try check(avcodec_receive_packet(ctx, packet), "encode poster")
        let data = Data(bytes: packet!.pointee.data, count: Int(packet!.pointee.size))
        do { try data.write(to: URL(fileURLWithPath: path)) } catch {
            throw MediaError("write poster", path: path, detail: error.localizedDescription)
        }
    }
}
