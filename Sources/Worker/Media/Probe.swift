import CFFmpeg
import Foundation

/// What a media file holds, read back through libavformat.
public struct MediaInfo: Sendable {
    public struct Stream: Sendable {
        public enum Kind: String, Sendable { case video, audio, subtitle, other }
        public var kind: Kind
        public var codec: String
        /// Seconds, from the container's stream duration.
        public var duration: Double
        public var frames: Int
        public var width: Int
        public var height: Int
        public var pixelFormat: String
        public var sampleRate: Int
        public var channels: Int
        /// The stream's `language` tag (ISO 639-2), when it has one.
        public var language: String?
        /// Clockwise degrees a player turns the picture (a phone's display matrix), 0, 90, 180 or 270.
        public var rotation: Int = 0
    }
    public var duration: Double
    public var streams: [Stream]
    /// The container's metadata (title, description, comment, keywords, ...), as libavformat names it.
    public var tags: [String: String] = [:]
    public func first(_ kind: Stream.Kind) -> Stream? { streams.first { $0.kind == kind } }
}

/// A decoded picture's luma plane: enough to compare frames and check a poster.
public struct LumaImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var pixels: [UInt8]
    public var mean: Double { pixels.isEmpty ? 0 : Double(pixels.reduce(0) { $0 + Int($1) }) / Double(pixels.count) }
}

public enum MediaReader {
    public static func probe(_ path: String) throws(MediaError) -> MediaInfo {
        var fmt: UnsafeMutablePointer<AVFormatContext>?
        try check(avformat_open_input(&fmt, path, nil, nil), "open", path: path)
        defer { avformat_close_input(&fmt) }
        try check(avformat_find_stream_info(fmt, nil), "read stream info", path: path)
        var streams: [MediaInfo.Stream] = []
        for i in 0..<Int(fmt!.pointee.nb_streams) {
            let s = fmt!.pointee.streams[i]!
            let par = s.pointee.codecpar!.pointee
            let kind: MediaInfo.Stream.Kind
            switch par.codec_type {
            case AVMEDIA_TYPE_VIDEO: kind = .video
            case AVMEDIA_TYPE_AUDIO: kind = .audio
            case AVMEDIA_TYPE_SUBTITLE: kind = .subtitle
            default: kind = .other
            }
            let tb = s.pointee.time_base
            let duration = s.pointee.duration == ps_nopts() ? 0 : Double(s.pointee.duration) * Double(tb.num) / Double(tb.den)
            let pixfmt = kind == .video ? av_get_pix_fmt_name(AVPixelFormat(par.format)).map { String(cString: $0) } ?? "?" : ""
            streams.append(.init(kind: kind, codec: String(cString: avcodec_get_name(par.codec_id)), duration: duration,
                                 frames: Int(s.pointee.nb_frames), width: Int(par.width), height: Int(par.height),
                                 pixelFormat: pixfmt, sampleRate: Int(par.sample_rate), channels: Int(par.ch_layout.nb_channels),
                                 language: av_dict_get(s.pointee.metadata, "language", nil, 0).map { String(cString: $0.pointee.value) },
                                 rotation: kind == .video ? Self.rotation(s) : 0))
        }
        let duration = fmt!.pointee.duration == ps_nopts() ? 0 : Double(fmt!.pointee.duration) / Double(AV_TIME_BASE)
        var tags: [String: String] = [:]
        var entry: UnsafeMutablePointer<AVDictionaryEntry>?
        while let e = av_dict_get(fmt!.pointee.metadata, "", entry, AV_DICT_IGNORE_SUFFIX) {
            tags[String(cString: e.pointee.key)] = String(cString: e.pointee.value)
            entry = e
        }
        return MediaInfo(duration: duration, streams: streams, tags: tags)
    }

    /// The display matrix's rotation, as clockwise degrees rounded to a quarter turn.
    private static func rotation(_ s: UnsafeMutablePointer<AVStream>) -> Int {
        var size: Int = 0
        guard let data = av_stream_get_side_data(s, AV_PKT_DATA_DISPLAYMATRIX, &size), size >= 36 else { return 0 }
        let degrees = data.withMemoryRebound(to: Int32.self, capacity: 9) { av_display_rotation_get($0) }
        guard degrees.isFinite else { return 0 }
        // av_display_rotation_get is counter-clockwise.
        return ((-Int(degrees.rounded()) % 360) + 360) % 360 / 90 * 90
    }

    /// The luma plane of video frame `index` (0-based) of a file, or of an image.
    public static func lumaFrame(_ path: String, index: Int = 0) throws(MediaError) -> LumaImage {
        let input = try InputFile(path: path, type: AVMEDIA_TYPE_VIDEO)
        var seen = 0
        var result: LumaImage?
        try input.forEachFrame { frame throws(MediaError) in
            if seen < index { seen += 1; return true }
            let w = Int(frame.pointee.width), h = Int(frame.pointee.height)
            var pixels = [UInt8](repeating: 0, count: w * h)
            // Gray8 through swscale, whatever the decoded format.
            var sws = sws_getContext(Int32(w), Int32(h), AVPixelFormat(frame.pointee.format), Int32(w), Int32(h), AV_PIX_FMT_GRAY8, SWS_POINT, nil, nil, nil)
            defer { sws_freeContext(sws); sws = nil }
            pixels.withUnsafeMutableBufferPointer { buf in
                var dst: UnsafeMutablePointer<UInt8>? = buf.baseAddress
                var stride = Int32(w)
                _ = sws_scale(sws, ps_frame_data_array(frame).withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: 8) { $0 },
                              ps_frame_linesize_array(frame), 0, Int32(h), &dst, &stride)
            }
            result = LumaImage(width: w, height: h, pixels: pixels)
            return false
        }
        guard let result else { throw MediaError("decode frame \(index)", path: path, detail: "the file has fewer frames") }
        return result
    }

    /// Every audio sample of a file, resampled to interleaved Float at `sampleRate` with `channels` channels.
    public static func audioSamples(_ path: String, sampleRate: Int = EncoderSettings.audioSampleRate, channels: Int = 2) throws(MediaError) -> [Float] {
        let input = try InputFile(path: path, type: AVMEDIA_TYPE_AUDIO)
        let codec = input.codec!
        var outLayout = AVChannelLayout()
        av_channel_layout_default(&outLayout, Int32(channels))
        defer { av_channel_layout_uninit(&outLayout) }
        var swr: OpaquePointer?
        try check(swr_alloc_set_opts2(&swr, &outLayout, AV_SAMPLE_FMT_FLT, Int32(sampleRate),
                                      &codec.pointee.ch_layout, codec.pointee.sample_fmt, codec.pointee.sample_rate, 0, nil), "set up resampler", path: path)
        defer { swr_free(&swr) }
        try check(swr_init(swr), "set up resampler", path: path)
        var out: [Float] = []
        func convert(_ data: UnsafeMutablePointer<UnsafePointer<UInt8>?>?, _ count: Int32) throws(MediaError) {
            let capacity = Int(swr_get_out_samples(swr, count)) + 32
            var chunk = [Float](repeating: 0, count: capacity * channels)
            let got = chunk.withUnsafeMutableBytes { raw -> Int32 in
                var dst: UnsafeMutablePointer<UInt8>? = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
                return swr_convert(swr, &dst, Int32(capacity), data, count)
            }
            try check(got, "resample", path: path)
            out.append(contentsOf: chunk.prefix(Int(got) * channels))
        }
        try input.forEachFrame { frame throws(MediaError) in
            try convert(ps_frame_data_array(frame).withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: 8) { $0 }, frame.pointee.nb_samples)
            return true
        }
        try convert(nil, 0)
        return out
    }
}

public enum Resampler {
    /// Mono Float at `rate` to mono Float at `target`, through swresample.
    public static func resampleMono(_ samples: [Float], from rate: Int, to target: Int) throws(MediaError) -> [Float] {
        if rate == target { return samples }
        var outLayout = AVChannelLayout(), inLayout = AVChannelLayout()
        av_channel_layout_default(&outLayout, 1)
        av_channel_layout_default(&inLayout, 1)
        var swr: OpaquePointer?
        try check(swr_alloc_set_opts2(&swr, &outLayout, AV_SAMPLE_FMT_FLT, Int32(target), &inLayout, AV_SAMPLE_FMT_FLT, Int32(rate), 0, nil), "set up resampler")
        defer { swr_free(&swr) }
        try check(swr_init(swr), "set up resampler")
        let capacity = samples.count * target / rate + 256
        var out = [Float](repeating: 0, count: capacity)
        var produced = 0
        let (n, flushed) = samples.withUnsafeBytes { inRaw in
            out.withUnsafeMutableBytes { outRaw -> (Int32, Int32) in
                let base = outRaw.baseAddress!.assumingMemoryBound(to: UInt8.self)
                var src: UnsafePointer<UInt8>? = inRaw.baseAddress?.assumingMemoryBound(to: UInt8.self)
                var dst: UnsafeMutablePointer<UInt8>? = base
                let n = swr_convert(swr, &dst, Int32(capacity), &src, Int32(samples.count))
                guard n >= 0 else { return (n, 0) }
                var tail: UnsafeMutablePointer<UInt8>? = base + Int(n) * 4
                return (n, swr_convert(swr, &tail, Int32(capacity) - n, nil, 0))
            }
        }
        try check(n, "resample")
        try check(flushed, "resample")
        produced = Int(n) + Int(flushed)
        return Array(out.prefix(produced))
    }
}
