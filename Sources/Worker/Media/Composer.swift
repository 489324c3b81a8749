import CFFmpeg
import Dispatch
import Foundation

/// What the composition stage hands to the media layer: a filter graph that draws the picture, the
/// finished audio, and where to put the results.
public struct CompositionSpec: Sendable {
    public var outputPath: String
    public var width: Int
    public var height: Int
    public var fps: Int
    /// Exact number of video frames; the graph's output is cut or held to this.
    public var frameCount: Int
    /// A libavfilter graph whose output pad is labelled `[out]`; image inputs are labelled as in `images`.
    public var videoGraph: String
    /// Label -> image file, fed to the graph as one still frame each.
    public var images: [String: String]
    /// Label -> frames computed in Swift, fed to the graph as it asks for them.
    public var streams: [String: FrameStream]
    /// Interleaved stereo Float at 48 kHz.
    public var audio: [Float]
    /// The soundtrack as a stream (a long job's mix read from disk); when set, `audio` is not used.
    public var audioFeed: AudioFeed?
    public var encoder: EncoderSettings
    /// Frame index to save as a JPEG poster, and where.
    public var posterFrame: Int
    public var posterPath: String?
    /// Captions to embed as a mov_text track (`captions: embed`).
    public var embeddedCaptions: [Cue]
    /// ISO 639-2 code for the caption track (`eng`, `fra`, ...); `und` when unknown.
    public var captionLanguage: String = "und"
    /// Chapter marks written into the MP4.
    public var chapters: [Chapter] = []
    /// Filter on a thread of its own while the encoder works (the default); false takes turns on one thread,
    /// which the tests compare against.
    public var concurrent = true
    /// When set, the picture is drawn scene by scene, one small graph each (`videoGraph` is then unused), so a
    /// long video holds one or two scenes' filters and buffers at a time, not all of them.
    var scenes: [SceneGraph] = []
    var crossfadeFrames = 0
    /// An ASS script (captions, title card) burned onto the graph's output frames by `CaptionBurner`.
    public var captionScript: String?

    public init(outputPath: String, width: Int, height: Int, fps: Int, frameCount: Int, videoGraph: String,
                images: [String: String], audio: [Float], encoder: EncoderSettings, posterFrame: Int,
                posterPath: String?, embeddedCaptions: [Cue] = [], streams: [String: FrameStream] = [:]) {
        self.outputPath = outputPath; self.width = width; self.height = height; self.fps = fps
        self.frameCount = frameCount; self.videoGraph = videoGraph; self.images = images; self.audio = audio
        self.encoder = encoder; self.posterFrame = posterFrame; self.posterPath = posterPath
        self.embeddedCaptions = embeddedCaptions
        self.streams = streams
    }
}


public struct EncoderSettings: Sendable, Equatable {
    /// libx264 preset (ultrafast ... veryslow).
    public var preset: String
    public var crf: Int
    public var audioBitrate: Int
    public init(preset: String, crf: Int, audioBitrate: Int = 160_000) {
        self.preset = preset; self.crf = crf; self.audioBitrate = audioBitrate
    }
    public static let audioSampleRate = 48_000
}

public struct CompositionReport: Sendable {
    public var framesFromGraph: Int
    public var framesWritten: Int
    public var bytes: Int64
}

public enum Composer {
    /// Frames in flight between the filter thread and the encoder: enough to ride out a slow frame on either
    /// side, few enough that memory stays flat (a 1080p frame is 3 MB).
    static let queueDepth = 6

    /// Draws, encodes and muxes one MP4 (H.264 + AAC, faststart). Blocking: call it off the cooperative pool.
    /// The filter graph runs on a thread of its own, feeding the encoder through a short queue, so drawing
    /// and encoding keep both cores busy (`spec.concurrent`; off, they take turns on the calling thread).
    public static func compose(_ spec: CompositionSpec, progress: (Double) -> Void = { _ in },
                               shouldContinue: () -> Bool = { true }) throws(MediaError) -> CompositionReport {
        let sampler = ComposeProfile.enabled ? ComposeProfile.Sampler() : nil
        let muxStart = ComposeProfile.threadCPU()
        // The calling thread encodes and muxes: named for the profile, its own name back at the end.
        let restoreName = ComposeProfile.rename("ps-mux")
        defer { restoreName() }
        let graph: any FrameProducer = spec.scenes.isEmpty ? try FilterGraph(spec: spec) : try SceneSequence(spec: spec)
        let muxer = try ComposeProfile.named("ps-x264") { () throws(MediaError) in try Muxer(spec: spec) }
        var poster: UnsafeMutablePointer<AVFrame>?
        defer { av_frame_free(&poster) }
        let frames: FrameSource = spec.concurrent ? ThreadedFrames(graph: graph, depth: queueDepth) : InlineFrames(graph: graph)
        defer { frames.stop() }

        var written = 0
        var last: UnsafeMutablePointer<AVFrame>? = nil
        defer { av_frame_free(&last) }
        while written < spec.frameCount {
            if let next = try ComposeProfile.measure("mux.wait_for_frame", wait: true, { () throws(MediaError) in try frames.next() }) {
                av_frame_free(&last)
                last = next
            } else if last == nil {
                throw MediaError("render video", detail: "the filter graph produced no frames")
            }
            // If the graph ends early (rounding in a source filter), hold the last frame.
            guard let frame = last else { break }
            frame.pointee.pts = Int64(written)
            // Source filters mark their frames as I pictures, and libx264 obeys: every frame a keyframe, files
            // several times larger and slower to encode. Let the encoder choose, as the ffmpeg CLI does.
            frame.pointee.pict_type = AV_PICTURE_TYPE_NONE
            if written == spec.posterFrame && spec.posterPath != nil { poster = av_frame_clone(frame) }
            try muxer.writeVideo(frame)
            written += 1
            if written % 15 == 0 {
                progress(Double(written) / Double(spec.frameCount))
                if !shouldContinue() { throw MediaError("compose", path: spec.outputPath, detail: "stopped on request") }
            }
        }
        try muxer.finish()
        if let sampler {
            ComposeProfile.add("mux.thread_total", ComposeProfile.threadCPU() - muxStart)
            ComposeProfile.report(sampler)
        }
        if let posterPath = spec.posterPath, let poster {
            try JPEGWriter.write(poster, to: posterPath)
        }
        progress(1)
        let size = (try? FileManager.default.attributesOfItem(atPath: spec.outputPath)[.size] as? Int64) ?? 0
        return CompositionReport(framesFromGraph: frames.produced, framesWritten: written, bytes: size)
    }
}

/// Owns a configured libavfilter graph: image sources in, `[out]` yuv420p frames out.
final class FilterGraph: FrameProducer {
    private var graph: UnsafeMutablePointer<AVFilterGraph>?
    private let sink: UnsafeMutablePointer<AVFilterContext>
    /// Sources fed on demand: the graph tells which one it is waiting for.
    private var streams: [(ctx: UnsafeMutablePointer<AVFilterContext>, stream: FrameStream, iterator: any FrameIterator, index: Int64, done: Bool)] = []
    private var streamFrame: UnsafeMutablePointer<AVFrame>? = av_frame_alloc()
    private let burner: CaptionBurner?
    private let sinkTimeBase: Double

    /// The whole video's graph from a spec, with its captions.
    convenience init(spec: CompositionSpec) throws(MediaError) {
        let burner = try spec.captionScript.map { script throws(MediaError) in try CaptionBurner(script: script, width: spec.width, height: spec.height) }
        try self.init(text: spec.videoGraph, images: spec.images, streams: spec.streams, fps: spec.fps, captions: burner)
    }

    /// `text` ends in `[out]`; `images` and `streams` feed its labelled inputs; `captions` are burned on what it outputs.
    init(text: String, images: [String: String], streams specStreams: [String: FrameStream], fps: Int, captions: CaptionBurner?) throws(MediaError) {
        // Named so that the graph's thread pool (created as it is configured) is told apart in a profile.
        let restoreName = ComposeProfile.rename("ps-lavfi")
        defer { restoreName() }
        graph = avfilter_graph_alloc()
        guard let graph else { throw MediaError("allocate filter graph", detail: "out of memory") }
        graph.pointee.nb_threads = 0
        // The scale filters libavfilter inserts itself take these options: without them they convert by BT.601.
        graph.pointee.scale_sws_opts = av_strdup(Colour.graphConversions)
        burner = captions

        var sinkCtx: UnsafeMutablePointer<AVFilterContext>?
        do {
            try check(avfilter_graph_create_filter(&sinkCtx, avfilter_get_by_name("buffersink"), "out", nil, nil, graph), "create buffersink")
        } catch { avfilter_graph_free(&self.graph); throw error }
        sink = sinkCtx!

        // Decode each still image and open a buffer source for it.
        var sources: [(label: String, ctx: UnsafeMutablePointer<AVFilterContext>, frame: UnsafeMutablePointer<AVFrame>)] = []
        defer { for s in sources { var f: UnsafeMutablePointer<AVFrame>? = s.frame; av_frame_free(&f) } }
        do throws(MediaError) {
            for (label, path) in images.sorted(by: { $0.key < $1.key }) {
                let image = try ImageDecoder.decode(path: path)
                let args = "video_size=\(image.pointee.width)x\(image.pointee.height):pix_fmt=\(image.pointee.format):time_base=1/\(fps):pixel_aspect=1/1"
                var src: UnsafeMutablePointer<AVFilterContext>?
                let ret = avfilter_graph_create_filter(&src, avfilter_get_by_name("buffer"), label, args, nil, graph)
                if ret < 0 { var f: UnsafeMutablePointer<AVFrame>? = image; av_frame_free(&f); throw MediaError("create image source", path: path, code: ret) }
                sources.append((label, src!, image))
            }

            var streamSources: [(label: String, ctx: UnsafeMutablePointer<AVFilterContext>)] = []
            for (label, stream) in specStreams.sorted(by: { $0.key < $1.key }) {
                // frame_rate too: xfade and concat refuse inputs whose rates differ or are unknown.
                let format = stream.pixelFormat == .rgb24 ? AV_PIX_FMT_RGB24 : AV_PIX_FMT_YUV420P
                let args = "video_size=\(stream.width)x\(stream.height):pix_fmt=\(format.rawValue):time_base=1/\(fps):frame_rate=\(fps)/1:pixel_aspect=1/1"
                var src: UnsafeMutablePointer<AVFilterContext>?
                try check(avfilter_graph_create_filter(&src, avfilter_get_by_name("buffer"), label, args, nil, graph), "create frame source \(label)")
                let iterator: any FrameIterator
                do { iterator = try stream.makeIterator() } catch {
                    throw MediaError("start frame source \(label)", detail: "\(error)")
                }
                streams.append((src!, stream, iterator, 0, false))
                streamSources.append((label, src!))
            }

            // Link our sources and sink to the graph text's labelled pads.
            var outputs: UnsafeMutablePointer<AVFilterInOut>? = nil
            for s in sources.map({ ($0.label, $0.ctx) }) + streamSources.map({ ($0.label, $0.ctx) }) {
                let io = avfilter_inout_alloc()!
                io.pointee.name = av_strdup(s.0)
                io.pointee.filter_ctx = s.1
                io.pointee.pad_idx = 0
                io.pointee.next = outputs
                outputs = io
            }
            var inputs: UnsafeMutablePointer<AVFilterInOut>? = avfilter_inout_alloc()
            inputs!.pointee.name = av_strdup("out")
            inputs!.pointee.filter_ctx = sink
            inputs!.pointee.pad_idx = 0
            inputs!.pointee.next = nil
            let parsed = avfilter_graph_parse_ptr(graph, text, &inputs, &outputs, nil)
            avfilter_inout_free(&inputs)
            avfilter_inout_free(&outputs)
            try check(parsed, "parse video filter graph")
            try check(avfilter_graph_config(graph, nil), "configure video filter graph")
            let tb = av_buffersink_get_time_base(sink)
            sinkTimeBase = Double(tb.num) / Double(tb.den)
            for s in sources {
                s.frame.pointee.pts = 0
                try check(av_buffersrc_add_frame(s.ctx, s.frame), "feed image", path: images[s.label])
                try check(av_buffersrc_add_frame(s.ctx, nil), "close image source")
            }
        } catch {
            avfilter_graph_free(&self.graph)
            throw error
        }
    }

    deinit {
        avfilter_graph_free(&graph)
        av_frame_free(&streamFrame)
    }

    /// The next frame, or false at the end of the graph.
    func next(into frame: UnsafeMutablePointer<AVFrame>) throws(MediaError) -> Bool {
        while true {
            let ret = av_buffersink_get_frame(sink, frame)
            if ret == ps_averror_eof() { return false }
            if ret == ps_averror_eagain() {
                // Feed the stream the graph asked for most; if none asked, the graph is stuck.
                guard let i = streams.indices.filter({ !streams[$0].done }).max(by: {
                    av_buffersrc_get_nb_failed_requests(streams[$0].ctx) < av_buffersrc_get_nb_failed_requests(streams[$1].ctx)
                }) else { throw MediaError("render video frame", detail: "the filter graph waits for input no source can give") }
                try feed(i)
                continue
            }
            try check(ret, "render video frame")
            // The `ass` filter's clock: the frame's pts in the sink's time base, in whole milliseconds.
            try ComposeProfile.measure("filter.captions") { () throws(MediaError) in
                try burner?.burn(frame, milliseconds: Int64(Double(frame.pointee.pts) * sinkTimeBase * 1000))
            }
            return true
        }
    }

    private func feed(_ i: Int) throws(MediaError) {
        let stream = streams[i].stream
        let iterator = streams[i].iterator
        guard let f = streamFrame else { throw MediaError("allocate frame", detail: "out of memory") }
        if stream.pixelFormat == .yuv420p, let planar = iterator as? PlanarFrameIterator {
            try allocate(f, stream)
            let planes = (0..<3).map { (ps_frame_data(f, Int32($0))!, Int(ps_frame_linesize(f, Int32($0)))) }
            let drawn: Bool
            do { drawn = try ComposeProfile.measure("filter.draw_swift") { try planar.next(planes: planes) } } catch {
                throw MediaError("generate frame", detail: "\(error)")
            }
            guard drawn else { return try close(i) }
            return try send(f, to: i)
        }
        let pixels: [UInt8]?
        do { pixels = try ComposeProfile.measure("filter.draw_swift") { try iterator.next() } } catch { throw MediaError("generate frame", detail: "\(error)") }
        guard let pixels else { return try close(i) }
        let w = stream.width, h = stream.height
        guard pixels.count == stream.frameBytes else {
            throw MediaError("generate frame", detail: "a frame of \(pixels.count) bytes, expected \(stream.frameBytes) (\(w)x\(h) \(stream.pixelFormat))")
        }
        try allocate(f, stream)
        // Plane by plane: (width in bytes, rows) of each.
        let planes = stream.pixelFormat == .rgb24 ? [(w * 3, h)] : [(w, h), ((w + 1) / 2, (h + 1) / 2), ((w + 1) / 2, (h + 1) / 2)]
        pixels.withUnsafeBufferPointer { src in
            var offset = 0
            for (p, (rowBytes, rows)) in planes.enumerated() {
                let stride = Int(ps_frame_linesize(f, Int32(p)))
                let base = ps_frame_data(f, Int32(p))!
                for row in 0..<rows { (base + row * stride).update(from: src.baseAddress! + offset + row * rowBytes, count: rowBytes) }
                offset += rowBytes * rows
            }
        }
        try send(f, to: i)
    }

    private func allocate(_ f: UnsafeMutablePointer<AVFrame>, _ stream: FrameStream) throws(MediaError) {
        av_frame_unref(f)
        f.pointee.width = Int32(stream.width)
        f.pointee.height = Int32(stream.height)
        f.pointee.format = (stream.pixelFormat == .rgb24 ? AV_PIX_FMT_RGB24 : AV_PIX_FMT_YUV420P).rawValue
        try check(av_frame_get_buffer(f, 0), "allocate frame")
    }

    private func close(_ i: Int) throws(MediaError) {
        streams[i].done = true
        try check(av_buffersrc_add_frame(streams[i].ctx, nil), "close frame source")
    }

    private func send(_ f: UnsafeMutablePointer<AVFrame>, to i: Int) throws(MediaError) {
        f.pointee.pts = streams[i].index
        streams[i].index += 1
        try check(av_buffersrc_add_frame(streams[i].ctx, f), "feed frame")
    }
}
