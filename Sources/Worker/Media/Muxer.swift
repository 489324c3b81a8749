import CFFmpeg
import Foundation

/// H.264 + AAC (+ optional mov_text captions) into one MP4 with faststart. Audio is interleaved with
/// video as frames arrive, so nothing but the current frame is held.
final class Muxer {
    private var format: UnsafeMutablePointer<AVFormatContext>?
    private var video: UnsafeMutablePointer<AVCodecContext>?
    private var audio: UnsafeMutablePointer<AVCodecContext>?
    private var subtitles: UnsafeMutablePointer<AVCodecContext>?
    private var packet: UnsafeMutablePointer<AVPacket>?
    private var audioFrame: UnsafeMutablePointer<AVFrame>?
    private let videoStream: UnsafeMutablePointer<AVStream>
    private let audioStream: UnsafeMutablePointer<AVStream>
    private var subtitleStream: UnsafeMutablePointer<AVStream>?
    /// The soundtrack, pulled a block at a time as the picture advances.
    private let feed: AudioFeed
    private var pending: [Float] = []
    private var pendingAt = 0
    private var sampleCursor = 0
    private var framesIn = 0
    private let fps: Int
    private let path: String
    private let cues: [Cue]
    private let language: String
    private var headerWritten = false
    private var finished = false

    init(spec: CompositionSpec) throws(MediaError) {
        path = spec.outputPath
        fps = spec.fps
        feed = spec.audioFeed ?? AudioFeed(spec.audio)
        cues = spec.embeddedCaptions
        language = spec.captionLanguage
        var fmt: UnsafeMutablePointer<AVFormatContext>?
        try check(avformat_alloc_output_context2(&fmt, nil, "mp4", spec.outputPath), "create MP4", path: spec.outputPath)
        format = fmt
        packet = av_packet_alloc()
        audioFrame = av_frame_alloc()

        // Video: libx264, yuv420p.
        guard let x264 = avcodec_find_encoder_by_name("libx264") else {
            avformat_free_context(format)
            throw MediaError("find encoder", detail: "libx264 is missing from this libavcodec (install Debian's libavcodec59)")
        }
        video = avcodec_alloc_context3(x264)
        let v = video!
        v.pointee.width = Int32(spec.width)
        v.pointee.height = Int32(spec.height)
        v.pointee.pix_fmt = AV_PIX_FMT_YUV420P
        v.pointee.time_base = AVRational(num: 1, den: Int32(spec.fps))
        v.pointee.framerate = AVRational(num: Int32(spec.fps), den: 1)
        v.pointee.sample_aspect_ratio = AVRational(num: 1, den: 1)
        // gop_size stays at the libx264 wrapper's default (-1: x264's keyint 250 with scene-cut keyframes),
        // as the ffmpeg CLI has it: a fixed 2 s GOP made files ~3x larger and encodes slower for no gain here.
        v.pointee.flags |= Int32(AV_CODEC_FLAG_GLOBAL_HEADER)
        // Tagged so that players do not guess the matrix (they guess BT.601 for SD, and some for HD too).
        Colour.tag(v)
        // libavcodec defaults to one thread; x264 scales with frame threads as the ffmpeg CLI lets it.
        v.pointee.thread_count = 0
        av_opt_set(v.pointee.priv_data, "preset", spec.encoder.preset, 0)
        av_opt_set(v.pointee.priv_data, "crf", String(spec.encoder.crf), 0)
        videoStream = avformat_new_stream(fmt, nil)

        // Audio: native AAC, 48 kHz stereo.
        guard let aac = avcodec_find_encoder(AV_CODEC_ID_AAC) else {
            throw MediaError("find encoder", detail: "no AAC encoder in this libavcodec")
        }
        audio = avcodec_alloc_context3(aac)
        let a = audio!
        a.pointee.sample_rate = Int32(EncoderSettings.audioSampleRate)
        a.pointee.sample_fmt = AV_SAMPLE_FMT_FLTP
        a.pointee.bit_rate = Int64(spec.encoder.audioBitrate)
        av_channel_layout_default(&a.pointee.ch_layout, 2)
        a.pointee.time_base = AVRational(num: 1, den: Int32(EncoderSettings.audioSampleRate))
        a.pointee.flags |= Int32(AV_CODEC_FLAG_GLOBAL_HEADER)
        audioStream = avformat_new_stream(fmt, nil)

        do throws(MediaError) {
            try check(avcodec_open2(v, x264, nil), "open H.264 encoder")
            try check(avcodec_parameters_from_context(videoStream.pointee.codecpar, v), "configure video stream")
            videoStream.pointee.time_base = v.pointee.time_base
            videoStream.pointee.avg_frame_rate = v.pointee.framerate
            try check(avcodec_open2(a, aac, nil), "open AAC encoder")
            try check(avcodec_parameters_from_context(audioStream.pointee.codecpar, a), "configure audio stream")
            audioStream.pointee.time_base = a.pointee.time_base
            if !cues.isEmpty { try openSubtitles(fmt!) }
            try ChapterWriter.attach(spec.chapters, duration: Double(spec.frameCount) / Double(spec.fps), to: fmt!)
            try check(avio_open(&fmt!.pointee.pb, spec.outputPath, AVIO_FLAG_WRITE), "open output", path: spec.outputPath)
            var options: OpaquePointer?
            av_dict_set(&options, "movflags", "+faststart+write_colr", 0)
            let ret = avformat_write_header(fmt, &options)
            av_dict_free(&options)
            try check(ret, "write MP4 header", path: spec.outputPath)
            headerWritten = true
        } catch {
            release()
            throw error
        }
    }

    private func openSubtitles(_ fmt: UnsafeMutablePointer<AVFormatContext>) throws(MediaError) {
        guard let codec = avcodec_find_encoder(AV_CODEC_ID_MOV_TEXT) else { throw MediaError("find encoder", detail: "no mov_text encoder") }
        subtitles = avcodec_alloc_context3(codec)
        let s = subtitles!
        s.pointee.time_base = AVRational(num: 1, den: 1000)
        // mov_text reads its default style from an ASS header.
        let header = ASSScript.header(width: Int(video!.pointee.width), height: Int(video!.pointee.height), style: CaptionStyle(size: 24, outline: 2, margin: 20))
        let bytes = Array(header.utf8)
        s.pointee.subtitle_header = av_mallocz(bytes.count + 1)?.assumingMemoryBound(to: UInt8.self)
        bytes.withUnsafeBufferPointer { s.pointee.subtitle_header.update(from: $0.baseAddress!, count: bytes.count) }
        s.pointee.subtitle_header_size = Int32(bytes.count)
        try check(avcodec_open2(s, codec, nil), "open mov_text encoder")
        subtitleStream = avformat_new_stream(fmt, nil)
        try check(avcodec_parameters_from_context(subtitleStream!.pointee.codecpar, s), "configure caption stream")
        subtitleStream!.pointee.time_base = s.pointee.time_base
        // Players pick and label the track by this tag; without it they show "und".
        av_dict_set(&subtitleStream!.pointee.metadata, "language", language, 0)
    }

    deinit { release() }

    private func release() {
        if let fmt = format, fmt.pointee.pb != nil, !finished {
            avio_closep(&fmt.pointee.pb)
            unlink(path)
        }
        avcodec_free_context(&video)
        avcodec_free_context(&audio)
        avcodec_free_context(&subtitles)
        av_packet_free(&packet)
        av_frame_free(&audioFrame)
        avformat_free_context(format)
        format = nil
    }

    func writeVideo(_ frame: UnsafeMutablePointer<AVFrame>) throws(MediaError) {
        try ComposeProfile.measure("mux.encode_video") { () throws(MediaError) in
            try check(avcodec_send_frame(video, frame), "encode video frame")
            try drain(video!, videoStream)
        }
        framesIn += 1
        try ComposeProfile.measure("mux.audio") { () throws(MediaError) in
            try writeAudio(upTo: framesIn * EncoderSettings.audioSampleRate / fps)
        }
        try writeCues(upTo: Double(framesIn) / Double(fps))
    }

    /// Encodes audio up to `limit` samples per channel.
    private func writeAudio(upTo limit: Int) throws(MediaError) {
        let a = audio!
        let total = feed.frames
        let frameSize = Int(a.pointee.frame_size)
        while sampleCursor < min(limit, total) {
            let n = min(frameSize, total - sampleCursor)
            if pending.count - pendingAt < 2 * n {
                // Refill with a block of about 0.1 s, keeping what is left.
                pending.removeFirst(pendingAt); pendingAt = 0
                let more = try feed.read(max(4800, n))
                pending += more
                guard pending.count >= 2 * n else {
                    throw MediaError("encode audio", path: path, detail: "the audio ended at frame \(sampleCursor + pending.count / 2) of \(total)")
                }
            }
            let f = audioFrame!
            av_frame_unref(f)
            f.pointee.nb_samples = Int32(n)
            f.pointee.format = AV_SAMPLE_FMT_FLTP.rawValue
            f.pointee.sample_rate = a.pointee.sample_rate
            av_channel_layout_copy(&f.pointee.ch_layout, &a.pointee.ch_layout)
            try check(av_frame_get_buffer(f, 0), "allocate audio frame")
            let left = ps_frame_data(f, 0)!.withMemoryRebound(to: Float.self, capacity: n) { $0 }
            let right = ps_frame_data(f, 1)!.withMemoryRebound(to: Float.self, capacity: n) { $0 }
            pending.withUnsafeBufferPointer { buf in
                var i = pendingAt
                for k in 0..<n {
                    left[k] = buf[i]; right[k] = buf[i + 1]; i += 2
                }
            }
            pendingAt += 2 * n
            f.pointee.pts = Int64(sampleCursor)
            sampleCursor += n
            try check(avcodec_send_frame(a, f), "encode audio")
            try drain(a, audioStream)
        }
    }

    private func drain(_ ctx: UnsafeMutablePointer<AVCodecContext>, _ stream: UnsafeMutablePointer<AVStream>) throws(MediaError) {
        let pkt = packet!
        while true {
            let ret = avcodec_receive_packet(ctx, pkt)
            if ret == ps_averror_eagain() || ret == ps_averror_eof() { return }
            try check(ret, "receive encoded packet")
            // FFmpeg 5.1 leaves libx264 packet durations unset; the last frame's would be lost.
            if ctx == video && pkt.pointee.duration == 0 { pkt.pointee.duration = 1 }
            av_packet_rescale_ts(pkt, ctx.pointee.time_base, stream.pointee.time_base)
            pkt.pointee.stream_index = stream.pointee.index
            try check(av_interleaved_write_frame(format, pkt), "write packet", path: path)
        }
    }

    func finish() throws(MediaError) {
        try check(avcodec_send_frame(video, nil), "flush video encoder")
        try drain(video!, videoStream)
        try writeAudio(upTo: Int.max)
        try check(avcodec_send_frame(audio, nil), "flush audio encoder")
        try drain(audio!, audioStream)
        try writeCues(upTo: .infinity)
        try check(av_write_trailer(format), "finish MP4", path: path)
        try check(avio_closep(&format!.pointee.pb), "close output", path: path)
        finished = true
    }

    private var cueCursor = 0

    /// Captions are written as the picture reaches them, keeping the file interleaved.
    private func writeCues(upTo seconds: Double) throws(MediaError) {
        guard let s = subtitles, let stream = subtitleStream else { return }
        var buffer = [UInt8](repeating: 0, count: 4096)
        while cueCursor < cues.count && cues[cueCursor].start <= seconds {
            let i = cueCursor
            let cue = cues[i]
            cueCursor += 1
            let dialogue = "\(i),0,Default,,0,0,0,,\(ASSScript.escape(cue.text))"
            var rect = AVSubtitleRect()
            rect.type = SUBTITLE_ASS
            var cText = Array(dialogue.utf8CString)
            let size = cText.withUnsafeMutableBufferPointer { text -> Int32 in
                rect.ass = text.baseAddress
                return withUnsafeMutablePointer(to: &rect) { rectPtr -> Int32 in
                    var rects: [UnsafeMutablePointer<AVSubtitleRect>?] = [rectPtr]
                    return rects.withUnsafeMutableBufferPointer { rectsPtr -> Int32 in
                        var sub = AVSubtitle()
                        sub.num_rects = 1
                        sub.rects = rectsPtr.baseAddress
                        sub.start_display_time = 0
                        sub.end_display_time = UInt32(max(0, (cue.end - cue.start) * 1000))
                        sub.pts = Int64(cue.start * 1_000_000)
                        return avcodec_encode_subtitle(s, &buffer, Int32(buffer.count), &sub)
                    }
                }
            }
            try check(size, "encode caption")
            let pkt = packet!
            av_packet_unref(pkt)
            try check(av_new_packet(pkt, size), "allocate caption packet")
            buffer.withUnsafeBufferPointer { pkt.pointee.data.update(from: $0.baseAddress!, count: Int(size)) }
            pkt.pointee.pts = Int64(cue.start * 1000)
            pkt.pointee.dts = pkt.pointee.pts
            pkt.pointee.duration = Int64((cue.end - cue.start) * 1000)
            av_packet_rescale_ts(pkt, s.pointee.time_base, stream.pointee.time_base)
            pkt.pointee.stream_index = stream.pointee.index
            try check(av_interleaved_write_frame(format, pkt), "write caption", path: path)
        }
    }
}
