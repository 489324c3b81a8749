import CFFmpeg
import Foundation

/// What a finished file holds, found by decoding every frame and every audio sample of it again: the facts a
/// quality gate judges (the judging is the pipeline's; this only measures).
public struct MediaScan: Sendable {
    /// A stretch of the video, in seconds from its start.
    public struct Run: Sendable, Equatable {
        public var start: Double
        public var end: Double
        public var duration: Double { end - start }
        public init(start: Double, end: Double) { self.start = start; self.end = end }
    }

    public var info: MediaInfo
    public var colour: ColourTags?
    /// Video frames decoded, and packets or frames the decoder refused (with the time of the first).
    public var videoFrames = 0
    public var decodeErrors = 0
    public var firstDecodeError: Double?
    /// When the last decoded frame ends (its time plus one frame), in seconds.
    public var videoEnd = 0.0
    /// First timestamps of the video and audio streams, in seconds.
    public var videoStart: Double?
    public var audioStart: Double?
    /// Audio decoded, in seconds.
    public var audioDuration = 0.0
    /// Stretches where nearly the whole picture is black.
    public var black: [Run] = []
    /// Stretches where a picture with visible detail does not change (a flat picture cannot be seen to freeze).
    public var frozen: [Run] = []
    /// Stretches whose sound stays below `ScanSettings.silence` dBFS.
    public var silent: [Run] = []
    /// Integrated loudness (LUFS, BS.1770-4 with R128 gating) and true peak (dBTP, 4x oversampled as FFmpeg's
    /// ebur128 filter does it); nil without audio.
    public var loudness: Double?
    public var truePeak: Double?
}

public struct ScanSettings: Sendable {
    /// A pixel is black at or below this luma (limited range: 16 + 10% of 219, blackdetect's default).
    public var blackLuma = 38
    /// A frame is black when this share of its pixels is (below blackdetect's 0.98, so burned captions over a
    /// black picture do not hide it).
    public var blackShare = 0.90
    /// Mean luma difference under which a frame counts as the same picture as the one its still stretch began with.
    public var frozenDifference = 0.6
    /// Luma standard deviation below which a picture is flat: its motion would not show, so it is never "frozen".
    public var flatDeviation = 4.0
    /// Sound below this (dBFS, RMS over `silenceWindow` seconds) is silence.
    public var silence = -50.0
    public var silenceWindow = 0.05
    public init() {}
}

public enum MediaScanner {
    /// Decodes `path` through: every video frame, then the whole soundtrack. Blocking; about the cost of decoding
    /// the file once.
    public static func scan(_ path: String, settings: ScanSettings = ScanSettings()) throws(MediaError) -> MediaScan {
        let info = try MediaReader.probe(path)
        var scan = MediaScan(info: info)
        if info.first(.video) != nil {
            scan.colour = try MediaReader.colourTags(path)
            try scanVideo(path, settings, &scan)
        }
        if info.first(.audio) != nil { try scanAudio(path, settings, &scan) }
        return scan
    }

    private static func seconds(_ ts: Int64, _ tb: AVRational) -> Double { Double(ts) * Double(tb.num) / Double(tb.den) }

    private static func scanVideo(_ path: String, _ settings: ScanSettings, _ scan: inout MediaScan) throws(MediaError) {
        let input = try InputFile(path: path, type: AVMEDIA_TYPE_VIDEO)
        let stream = input.stream
        let tb = stream.pointee.time_base
        let rate = stream.pointee.avg_frame_rate
        let frameSeconds = rate.num > 0 ? Double(rate.den) / Double(rate.num) : 1.0 / 25
        if stream.pointee.start_time != ps_nopts() { scan.videoStart = seconds(stream.pointee.start_time, tb) }
        var reference: [UInt8] = []
        var referenceDetailed = false
        var stillFrom = 0.0, blackFrom: Double?
        var last = 0.0
        var packet = av_packet_alloc(), frame = av_frame_alloc()
        defer { av_packet_free(&packet); av_frame_free(&frame) }
        func failed(at t: Double) {
            scan.decodeErrors += 1
            if scan.firstDecodeError == nil { scan.firstDecodeError = t }
        }
        func take(_ f: UnsafeMutablePointer<AVFrame>) {
            let ts = f.pointee.best_effort_timestamp
            let t = ts == ps_nopts() ? last + frameSeconds : seconds(ts, tb)
            if f.pointee.decode_error_flags != 0 || (f.pointee.flags & AV_FRAME_FLAG_CORRUPT) != 0 { failed(at: t) }
            scan.videoFrames += 1
            last = t
            scan.videoEnd = max(scan.videoEnd, t + frameSeconds)
            // Every 4th pixel of every 4th row: enough to tell black, detail and change apart, 1/16 of the work.
            let w = Int(f.pointee.width), h = Int(f.pointee.height)
            let base = ps_frame_data(f, 0)!, stride = Int(ps_frame_linesize(f, 0))
            var luma = [UInt8](); luma.reserveCapacity((w / 4 + 1) * (h / 4 + 1))
            var dark = 0, sum = 0, squares = 0
            for y in Swift.stride(from: 0, to: h, by: 4) {
                let row = base + y * stride
                for x in Swift.stride(from: 0, to: w, by: 4) {
                    let v = Int(row[x])
                    luma.append(row[x]); sum += v; squares += v * v
                    if v <= settings.blackLuma { dark += 1 }
                }
            }
            let n = Double(max(1, luma.count))
            let deviation = (max(0, Double(squares) / n - pow(Double(sum) / n, 2))).squareRoot()
            let isBlack = Double(dark) / n >= settings.blackShare
            if isBlack, blackFrom == nil { blackFrom = t }
            if !isBlack, let from = blackFrom { scan.black.append(.init(start: from, end: t)); blackFrom = nil }
            var same = false
            if reference.count == luma.count {
                var diff = 0
                for i in luma.indices { diff += abs(Int(luma[i]) - Int(reference[i])) }
                same = Double(diff) / n < settings.frozenDifference
            }
            if !same {
                if referenceDetailed, t - stillFrom > 1.5 * frameSeconds { scan.frozen.append(.init(start: stillFrom, end: t)) }
                reference = luma; referenceDetailed = deviation >= settings.flatDeviation; stillFrom = t
            }
        }
        var draining = false
        while true {
            if !draining {
                let ret = av_read_frame(input.format, packet)
                if ret < 0 {
                    // The end, or a file cut short: either way, decode what arrived.
                    if ret != ps_averror_eof() { failed(at: last + frameSeconds) }
                    draining = true
                    _ = avcodec_send_packet(input.codec, nil)
                } else {
                    defer { av_packet_unref(packet) }
                    if packet!.pointee.stream_index != input.streamIndex { continue }
                    let sent = avcodec_send_packet(input.codec, packet)
                    if sent < 0 && sent != ps_averror_eagain() {
                        failed(at: packet!.pointee.pts == ps_nopts() ? last : seconds(packet!.pointee.pts, tb))
                    }
                }
            }
            while true {
                let ret = avcodec_receive_frame(input.codec, frame)
                if ret == ps_averror_eagain() { break }
                if ret == ps_averror_eof() {
                    if let from = blackFrom { scan.black.append(.init(start: from, end: scan.videoEnd)) }
                    if referenceDetailed, scan.videoEnd - stillFrom > 1.5 * frameSeconds {
                        scan.frozen.append(.init(start: stillFrom, end: scan.videoEnd))
                    }
                    return
                }
                if ret < 0 { failed(at: last + frameSeconds); if draining { return }; break }
                take(frame!)
                av_frame_unref(frame)
            }
        }
    }

    private static func scanAudio(_ path: String, _ settings: ScanSettings, _ scan: inout MediaScan) throws(MediaError) {
        let input = try InputFile(path: path, type: AVMEDIA_TYPE_AUDIO)
        let codec = input.codec!
        let stream = input.stream
        if stream.pointee.start_time != ps_nopts() { scan.audioStart = seconds(stream.pointee.start_time, stream.pointee.time_base) }
        let rate = EncoderSettings.audioSampleRate
        let toMeter = try Converter(codec, rate: rate, path: path)
        let toPeak = try Converter(codec, rate: 4 * rate, path: path)
        var meter = AudioMix.LoudnessMeter(sampleRate: rate)
        var peak: Float = 0
        let window = max(1, Int(settings.silenceWindow * Double(rate)))
        let threshold = pow(10, settings.silence / 10) // mean square
        var windowSum = 0.0, inWindow = 0, position = 0
        var silentFrom: Int?
        func measure(_ block: [Float]) {
            meter.add(block)
            var i = 0
            while i + 1 < block.count {
                let l = Double(block[i]), r = Double(block[i + 1])
                windowSum += (l * l + r * r) / 2
                inWindow += 1; position += 1; i += 2
                if inWindow == window {
                    let quiet = windowSum / Double(window) < threshold
                    if quiet, silentFrom == nil { silentFrom = position - window }
                    if !quiet, let from = silentFrom {
                        scan.silent.append(.init(start: Double(from) / Double(rate), end: Double(position - window) / Double(rate)))
                        silentFrom = nil
                    }
                    windowSum = 0; inWindow = 0
                }
            }
        }
        func peaks(_ block: [Float]) { for v in block { peak = max(peak, abs(v)) } }
        do {
            try input.forEachFrame { frame throws(MediaError) in
                let data = ps_frame_data_array(frame).withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: 8) { $0 }
                measure(try toMeter.convert(data, frame.pointee.nb_samples))
                peaks(try toPeak.convert(data, frame.pointee.nb_samples))
                return true
            }
        } catch {
            // A file cut short: what was decoded is measured, and the error counted where the sound stopped.
            scan.decodeErrors += 1
            if scan.firstDecodeError == nil { scan.firstDecodeError = Double(position) / Double(rate) }
        }
        measure(try toMeter.convert(nil, 0))
        peaks(try toPeak.convert(nil, 0))
        if let from = silentFrom { scan.silent.append(.init(start: Double(from) / Double(rate), end: Double(position) / Double(rate))) }
        scan.audioDuration = Double(position) / Double(rate)
        scan.loudness = meter.integrated
        scan.truePeak = 20 * log10(max(Double(peak), 1e-10))
    }

    /// The decoder's samples as interleaved stereo Float at `rate`.
    private final class Converter {
        private var swr: OpaquePointer?
        private let path: String
        init(_ codec: UnsafeMutablePointer<AVCodecContext>, rate: Int, path: String) throws(MediaError) {
            self.path = path
            var layout = AVChannelLayout()
            av_channel_layout_default(&layout, 2)
            defer { av_channel_layout_uninit(&layout) }
            try check(swr_alloc_set_opts2(&swr, &layout, AV_SAMPLE_FMT_FLT, Int32(rate), &codec.pointee.ch_layout, codec.pointee.sample_fmt,
                                          codec.pointee.sample_rate, 0, nil), "set up resampler", path: path)
            try check(swr_init(swr), "set up resampler", path: path)
        }
        deinit { swr_free(&swr) }
        func convert(_ data: UnsafeMutablePointer<UnsafePointer<UInt8>?>?, _ count: Int32) throws(MediaError) -> [Float] {
            let capacity = Int(swr_get_out_samples(swr, count)) + 32
            var chunk = [Float](repeating: 0, count: capacity * 2)
            let got = chunk.withUnsafeMutableBytes { raw -> Int32 in
                var dst: UnsafeMutablePointer<UInt8>? = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
                return swr_convert(swr, &dst, Int32(capacity), data, count)
            }
            try check(got, "resample", path: path)
            chunk.removeLast(chunk.count - Int(got) * 2)
            return chunk
        }
    }
}
