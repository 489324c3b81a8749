import Foundation

/// What one scene shows, described. Engines say what they want; only Media turns it into libavfilter syntax.
public enum ScenePicture: Sendable {
    /// A still image, fitted to the frame, with a slow move across it.
    case still(Still)
    /// A generated background that drifts slowly.
    case background(Background)
    /// Frames computed in Swift (a video model's output), shown whole in the frame.
    case frames(FrameStream)
    /// The user's own footage, fitted like a still, trimmed to the scene or looped or held when shorter.
    case clip(Clip)
}

/// A video file shown in a scene.
public struct Clip: Sendable, Equatable {
    public var path: String
    /// Seconds into the file where the scene's footage starts.
    public var start: Double
    /// Shorter than the scene: play it again from `start` (true) or hold its last frame.
    public var loop: Bool
    public var fit: Still.Fit?
    public var focusX: Double
    public var focusY: Double
    public init(path: String, start: Double = 0, loop: Bool = true, fit: Still.Fit? = nil, focusX: Double = 0.5, focusY: Double = 0.5) {
        self.path = path; self.start = start; self.loop = loop; self.fit = fit; self.focusX = focusX; self.focusY = focusY
    }
}

/// A picture shown in a scene: how it fills the frame, where a crop centres, the move over it, and what shows
/// through its transparent parts.
public struct Still: Sendable, Equatable {
    public enum Fit: String, Sendable, CaseIterable {
        /// Fills the frame; what sticks out is cropped (around `focus`).
        case cover
        /// Whole, with dark bars.
        case contain
        /// Whole, over a blurred, darkened, enlarged copy of itself: the standard for portrait media in a
        /// landscape frame and the other way round.
        case blur

        /// Cover when little would be lost (the aspects within 15%), else the picture whole over a blurred copy.
        public static func automatic(aspect: Double, frameAspect: Double) -> Fit { abs(aspect / frameAspect - 1) <= 0.15 ? .cover : .blur }
    }
    public var path: String
    /// Nil: `cover` when the picture's aspect is within 15% of the frame's, else `blur`.
    public var fit: Fit?
    /// Where a cover crop centres, 0...1 across and down.
    public var focusX: Double
    public var focusY: Double
    public var move: KenBurns
    /// Shown behind a picture with transparency (a logo).
    public var backdrop: Background

    public init(path: String, fit: Fit? = nil, focusX: Double = 0.5, focusY: Double = 0.5, move: KenBurns, backdrop: Background) {
        self.path = path; self.fit = fit; self.focusX = focusX; self.focusY = focusY; self.move = move; self.backdrop = backdrop
    }

    /// The fit used for a picture of `aspect` in a frame of `frameAspect`.
    public func fit(aspect: Double, frameAspect: Double) -> Fit { fit ?? Fit.automatic(aspect: aspect, frameAspect: frameAspect) }

    /// How much the picture is enlarged to be shown in a `width`x`height` frame (above 2 it looks soft).
    public func upscale(_ info: ImageInfo, width: Int, height: Int) -> Double {
        let sx = Double(width) / Double(max(1, info.width)), sy = Double(height) / Double(max(1, info.height))
        // A picture with transparency is shown whole at 70% of the frame, with room around it.
        if info.hasAlpha { return 0.7 * min(sx, sy) }
        return fit(aspect: info.aspect, frameAspect: Double(width) / Double(height)) == .cover ? max(sx, sy) : min(sx, sy)
    }
}

/// A Ken Burns move over a still: the zoom goes linearly from `startZoom` to `endZoom` (1: the whole placed
/// picture) while the window drifts by `pan` (each -1...1 of the room the zoom leaves, centred on the middle).
public struct KenBurns: Sendable, Equatable {
    public var startZoom: Double
    public var endZoom: Double
    public var panX: Double
    public var panY: Double
    public init(startZoom: Double, endZoom: Double, panX: Double, panY: Double) {
        self.startZoom = max(1, startZoom); self.endZoom = max(1, endZoom); self.panX = panX; self.panY = panY
    }
    /// A zoom in (from 1 to 1 + `zoom`) or out (the other way), with a pan.
    public init(zoomIn: Bool, zoom: Double, panX: Double, panY: Double) {
        self.init(startZoom: zoomIn ? 1 : 1 + zoom, endZoom: zoomIn ? 1 + zoom : 1, panX: panX, panY: panY)
    }
    public var maxZoom: Double { max(startZoom, endZoom) }
}

/// A designed moving background: its motif, its colours (0xRRGGBB), how fast it drifts, and the layout seed.
public struct Background: Sendable, Equatable {
    public enum Look: String, Sendable, CaseIterable {
        /// Soft colour gradients turning slowly.
        case gradient
        /// Out-of-focus lights drifting.
        case bokeh
        /// Large translucent polygons turning and drifting.
        case shapes
        /// Flowing colour clouds.
        case flow
    }
    public var look: Look
    public var colors: [UInt32]
    public var speed: Double
    public var seed: Int
    public init(look: Look = .gradient, colors: [UInt32], speed: Double, seed: Int) {
        self.look = look; self.colors = colors; self.speed = speed; self.seed = seed
    }
}

/// How the video is encoded. The presets and rate factors behind each are Media's business.
public enum VideoQuality: String, Sendable, CaseIterable {
    case draft, standard, high

    public var encoder: EncoderSettings {
        switch self {
        case .draft: EncoderSettings(preset: "ultrafast", crf: 28)
        case .standard: EncoderSettings(preset: "veryfast", crf: 23)
        case .high: EncoderSettings(preset: "medium", crf: 20)
        }
    }
}

/// One finished video, described: its scenes on the timeline, how they join, its captions and its sound.
public struct Composition: Sendable {
    public struct Scene: Sendable {
        public var picture: ScenePicture
        /// Where the scene starts, in frames.
        public var start: Int
        /// Frames the picture must provide: the scene's length plus the crossfade into the next.
        public var frames: Int
        public init(picture: ScenePicture, start: Int, frames: Int) { self.picture = picture; self.start = start; self.frames = frames }
    }

    public var outputPath: String
    public var width: Int
    public var height: Int
    public var fps: Int
    public var frameCount: Int
    public var scenes: [Scene]
    /// Crossfade length in frames between scenes; 0 cuts.
    public var crossfadeFrames: Int
    /// Burned into the picture, in `textStyle`.
    public var burnedCaptions: [Cue]
    /// The title card and headings, burned in styles derived from `textStyle`.
    public var overlays: [TextOverlay]
    public var textStyle: CaptionStyle
    /// A `mov_text` track, tagged with `captionLanguage`.
    public var embeddedCaptions: [Cue]
    public var captionLanguage: String
    /// Interleaved stereo Float at 48 kHz.
    public var audio: [Float]
    /// The soundtrack as a stream (a long job's mix read from disk); when set, `audio` is not used.
    public var audioFeed: AudioFeed?
    public var quality: VideoQuality
    public var posterFrame: Int
    public var posterPath: String?
    /// Chapter marks written into the MP4.
    public var chapters: [Chapter] = []
    /// Drawn scene by scene (the default, flat memory); false: the whole video as one graph, which tests compare with.
    var segmented = true

    public init(outputPath: String, width: Int, height: Int, fps: Int, frameCount: Int, scenes: [Scene], crossfadeFrames: Int,
                burnedCaptions: [Cue] = [], overlays: [TextOverlay] = [], textStyle: CaptionStyle? = nil, embeddedCaptions: [Cue] = [],
                captionLanguage: String = "und", audio: [Float], quality: VideoQuality, posterFrame: Int, posterPath: String?) {
        self.outputPath = outputPath; self.width = width; self.height = height; self.fps = fps; self.frameCount = frameCount
        self.scenes = scenes; self.crossfadeFrames = crossfadeFrames; self.burnedCaptions = burnedCaptions; self.overlays = overlays
        self.textStyle = textStyle ?? CaptionStyle(size: max(12, min(width, height) / 16), outline: 2, margin: max(8, height / 18))
        self.embeddedCaptions = embeddedCaptions; self.captionLanguage = captionLanguage; self.audio = audio; self.quality = quality
        self.posterFrame = posterFrame; self.posterPath = posterPath
    }
}

extension Composer {
    /// Composes a described video: writes its filter graph and caption script, then draws, encodes and muxes it.
    public static func compose(_ c: Composition, progress: (Double) -> Void = { _ in },
                               shouldContinue: () -> Bool = { true }) throws(MediaError) -> CompositionReport {
        // Scene by scene when the timeline allows it; else one graph. Either ends at the picture: captions are burned
        // onto its frames by CaptionBurner (what the `ass` filter in graphText's version would draw, for less).
        let segmented = c.segmented && SceneSequence.fits(c.scenes.map { ($0.start, $0.frames) }, crossfade: c.crossfadeFrames)
        let graph = segmented ? GraphWriter.Graph(text: "") : GraphWriter.graph(for: c, assPath: nil)
        var spec = CompositionSpec(outputPath: c.outputPath, width: c.width, height: c.height, fps: c.fps, frameCount: c.frameCount,
                                   videoGraph: graph.text, images: graph.images, audio: c.audio, encoder: c.quality.encoder,
                                   posterFrame: c.posterFrame, posterPath: c.posterPath, embeddedCaptions: c.embeddedCaptions,
                                   streams: graph.streams)
        spec.captionLanguage = c.captionLanguage
        spec.chapters = c.chapters
        spec.audioFeed = c.audioFeed
        spec.captionScript = captionScript(for: c)
        if segmented {
            spec.scenes = GraphWriter.sceneGraphs(for: c)
            spec.crossfadeFrames = c.crossfadeFrames
        }
        return try compose(spec, progress: progress, shouldContinue: shouldContinue)
    }

    /// The libavfilter graph a composition becomes (for logs and for reproducing a render with the ffmpeg CLI).
    public static func graphText(for c: Composition) -> String { GraphWriter.graph(for: c, assPath: c.outputPath + ".ass").text }

    /// The ASS script the graph's `ass` filter burns (captions, title card, lower thirds), or nil when nothing is burned:
    /// logged beside the graph so the ffmpeg CLI can redo the same work.
    public static func captionScript(for c: Composition) -> String? {
        guard !c.burnedCaptions.isEmpty || !c.overlays.isEmpty else { return nil }
        return ASSScript.document(cues: c.burnedCaptions, overlays: c.overlays, width: c.width, height: c.height, style: c.textStyle)
    }
}

/// Writes libavfilter graphs: the only place in ProStudio that knows their syntax.
enum GraphWriter {
    struct Graph {
        var text: String
        var images: [String: String] = [:]
        var streams: [String: FrameStream] = [:]
    }

    /// Each scene's picture as a graph of its own, ending in `[out]`.
    static func sceneGraphs(for c: Composition) -> [SceneGraph] {
        c.scenes.enumerated().map { i, scene in
            var g = Graph(text: "")
            let chain = chain(scene, index: i, c: c, into: &g)
            return SceneGraph(text: chain + ";[s\(i)]format=yuv420p[out]", images: g.images, streams: g.streams, start: scene.start, frames: scene.frames)
        }
    }

    static func graph(for c: Composition, assPath: String?) -> Graph {
        var g = Graph(text: "")
        var parts: [String] = []
        for (i, scene) in c.scenes.enumerated() {
            parts.append(chain(scene, index: i, c: c, into: &g))
        }
        var last = "s0"
        if c.scenes.count > 1 {
            let t = c.crossfadeFrames, n = c.scenes.count
            let partsFit = c.scenes.indices.allSatisfy { c.scenes[$0].frames - ($0 > 0 ? t : 0) - ($0 < n - 1 ? t : 0) > 0 }
            if t > 0 && partsFit {
                // xfade (FFmpeg 5.1) has no yuv420p: chained over whole scenes, every frame of the video went through
                // swscale to yuv444p and back (half the welcome example's filter CPU). Only the overlaps go through xfade here; each scene's own
                // frames are cut out with trim and joined with concat, untouched.
                let d = number(Double(t) / Double(c.fps))
                var segments: [String] = []
                for i in 0..<n {
                    let f = c.scenes[i].frames
                    var outs = ["h\(i)"]
                    if i > 0 { outs.append("in\(i)") }
                    if i < n - 1 { outs.append("out\(i)") }
                    // yuv420p before the split: otherwise xfade's yuv444p is negotiated back up the whole chain.
                    parts.append("[s\(i)]format=yuv420p,split=\(outs.count)" + outs.map { "[\($0)a]" }.joined())
                    parts.append("[h\(i)a]trim=start_frame=\(i > 0 ? t : 0):end_frame=\(i < n - 1 ? f - t : f),setpts=PTS-STARTPTS[h\(i)]")
                    if i > 0 { parts.append("[in\(i)a]trim=end_frame=\(t),setpts=PTS-STARTPTS[in\(i)]") }
                    if i < n - 1 { parts.append("[out\(i)a]trim=start_frame=\(f - t):end_frame=\(f),setpts=PTS-STARTPTS[out\(i)]") }
                }
                for i in 0..<n {
                    if i > 0 {
                        parts.append("[out\(i - 1)][in\(i)]xfade=transition=fade:duration=\(d):offset=0,format=yuv420p[t\(i)]")
                        segments.append("t\(i)")
                    }
                    segments.append("h\(i)")
                }
                parts.append(segments.map { "[\($0)]" }.joined() + "concat=n=\(segments.count):v=1:a=0[cat]")
                last = "cat"
            } else if c.crossfadeFrames > 0 {
                let d = Double(c.crossfadeFrames) / Double(c.fps)
                for i in 1..<c.scenes.count {
                    let label = "x\(i)"
                    parts.append("[\(last)][s\(i)]xfade=transition=fade:duration=\(number(d)):offset=\(number(Double(c.scenes[i].start) / Double(c.fps)))[\(label)]")
                    last = label
                }
            } else {
                parts.append((0..<c.scenes.count).map { "[s\($0)]" }.joined() + "concat=n=\(c.scenes.count):v=1:a=0[cat]")
                last = "cat"
            }
        }
        if let assPath {
            parts.append("[\(last)]ass=filename=\(escaped(assPath)),format=yuv420p[out]")
        } else {
            parts.append("[\(last)]format=yuv420p[out]")
        }
        g.text = parts.joined(separator: ";")
        return g
    }

    private static func chain(_ scene: Composition.Scene, index i: Int, c: Composition, into g: inout Graph) -> String {
        let w = c.width, h = c.height, label = "s\(i)"
        switch scene.picture {
        case .still(let still):
            let input = "kb\(i)"
            let (w, h, frames, fps) = (c.width, c.height, scene.frames, c.fps)
            g.streams[input] = FrameStream(width: w, height: h, pixelFormat: .yuv420p) {
                try KenBurnsFrames(still: still, width: w, height: h, frames: frames, fps: fps)
            }
            return "[\(input)]setsar=1,format=yuv420p[\(label)]"
        case .background(let b) where b.look != .gradient:
            let input = "bg\(i)"
            let (w, h, frames, fps) = (c.width, c.height, scene.frames, c.fps)
            let size = LookFrames.size(b.look, width: w, height: h)
            g.streams[input] = FrameStream(width: size.width, height: size.height) {
                LookFrames(background: b, frameWidth: w, frameHeight: h, fps: fps, frames: frames)
            }
            return "[\(input)]scale=\(w):\(h):flags=bicubic:\(Colour.swiftFrames),setsar=1,format=yuv420p[\(label)]"
        case .background(let b):
            // Gradients are smooth: drawn at a quarter of the size and scaled up they look the same, ~10x cheaper;
            // fast_bilinear scales them within 60 dB PSNR of bilinear, for less.
            let seconds = Double(scene.frames) / Double(c.fps)
            let colors = b.colors.enumerated().map { "c\($0.offset)=0x" + String(format: "%06X", $0.element & 0xFFFFFF) }.joined(separator: ":")
            return "gradients=s=\(even(Double(w) / 4))x\(even(Double(h) / 4)):r=\(c.fps):d=\(f(seconds + 1)):speed=\(f(b.speed)):"
                + "nb_colors=\(b.colors.count):\(colors):seed=\(b.seed),format=yuv420p,"
                + "scale=\(w):\(h):flags=fast_bilinear,trim=end_frame=\(scene.frames),setsar=1[\(label)]"
        case .clip(let clip):
            // libavfilter's movie source decodes the file inside the graph. Timestamps are counted from the frames (the
            // movie source restarts them on each loop, which would stall the rate conversion), the rate becomes the
            // job's, and a short clip loops from its start or holds its last frame.
            let info = try? MediaReader.probe(clip.path)
            let video = info?.first(.video)
            let upright = ImageInfo(orientation: [90: 6, 180: 3, 270: 8][video?.rotation ?? 0] ?? 1,
                                    width: (video?.rotation ?? 0) % 180 == 0 ? video?.width ?? w : video?.height ?? h,
                                    height: (video?.rotation ?? 0) % 180 == 0 ? video?.height ?? h : video?.width ?? w, hasAlpha: false)
            let seconds = Double(scene.frames) / Double(c.fps)
            let hold = clip.loop ? "" : ",tpad=stop_mode=clone:stop_duration=\(f(seconds + 1))"
            // Seeking lands on the keyframe before `start`; trim drops what comes before it, on every pass of a loop.
            let source = "movie=filename=\(escaped(clip.path)):seek_point=\(f(clip.start)):loop=\(clip.loop ? 0 : 1),"
                + "trim=start=\(f(clip.start)),setpts=N/FRAME_RATE/TB,fps=\(c.fps)\(hold),scale=\(Colour.entry),format=yuv420p[c\(i)];"
            let fitted = fitChain(upright, fit: clip.fit, focusX: clip.focusX, focusY: clip.focusY, backdrop: nil, input: "c\(i)",
                                  label: "f\(i)", width: w, height: h, frameAspect: Double(w) / Double(h), fps: c.fps)
            return source + fitted + ";[f\(i)]trim=end_frame=\(scene.frames),setpts=PTS-STARTPTS,setsar=1,format=yuv420p[\(label)]"
        case .frames(let stream):
            let input = "vid\(i)"
            g.streams[input] = stream
            return "[\(input)]scale=\(w):\(h):force_original_aspect_ratio=decrease:flags=bicubic:\(Colour.swiftFrames),"
                + "pad=\(w):\(h):(ow-iw)/2:(oh-ih)/2,setsar=1,format=yuv420p[\(label)]"
        }
    }

    /// The still turned upright and fitted to a `width`x`height` canvas, ending in `[label]`: one frame, made once.
    static func place(_ still: Still, input: String, label: String, width cw: Int, height ch: Int, frameAspect: Double, fps: Int) -> String {
        let info = (try? MediaReader.imageInfo(still.path)) ?? ImageInfo(orientation: 1, width: cw, height: ch, hasAlpha: false)
        return fitChain(info, fit: still.fit, focusX: still.focusX, focusY: still.focusY, backdrop: still.backdrop, input: input, label: label,
                        width: cw, height: ch, frameAspect: frameAspect, fps: fps)
    }

    /// A picture (or each frame of a clip) described by `info`, turned upright and fitted to `cw`x`ch`, from
    /// `[input]` to `[label]`.
    static func fitChain(_ info: ImageInfo, fit: Still.Fit?, focusX: Double, focusY: Double, backdrop: Background?, input: String, label: String,
                         width cw: Int, height ch: Int, frameAspect: Double, fps: Int) -> String {
        let upright = orientation(info.orientation)
        if info.hasAlpha, let b = backdrop {
            // A logo or cut-out: whole, with room around it, over the scene's designed backdrop.
            let colors = b.colors.enumerated().map { "c\($0.offset)=0x" + String(format: "%06X", $0.element & 0xFFFFFF) }.joined(separator: ":")
            return "[\(input)]format=rgba\(upright),scale=\(even(Double(cw) * 0.7)):\(even(Double(ch) * 0.7)):force_original_aspect_ratio=decrease:flags=bicubic[\(label)f];"
                + "gradients=s=\(cw)x\(ch):r=\(fps):d=1:nb_colors=\(b.colors.count):\(colors):seed=\(b.seed),trim=end_frame=1,format=rgba[\(label)b];"
                + "[\(label)b][\(label)f]overlay=(W-w)/2:(H-h)/2:format=auto,format=yuv420p[\(label)]"
        }
        let chosen = fit ?? .automatic(aspect: info.aspect, frameAspect: frameAspect)
        // The picture enters by its own matrix and leaves this first conversion BT.709 (see `Colour`).
        let enter: String = "[\(input)]scale=\(Colour.entry),format=yuv420p\(upright)"
        switch chosen {
        case .cover:
            let fx = min(1, max(0, focusX)), fy = min(1, max(0, focusY))
            return enter + ",scale=\(cw):\(ch):force_original_aspect_ratio=increase:flags=bicubic,"
                + "crop=\(cw):\(ch):(iw-\(cw))*\(f(fx)):(ih-\(ch))*\(f(fy))[\(label)]"
        case .contain:
            return enter + ",scale=\(cw):\(ch):force_original_aspect_ratio=decrease:flags=bicubic,"
                + "pad=\(cw):\(ch):(ow-iw)/2:(oh-ih)/2:color=0x101010[\(label)]"
        case .blur:
            // The fill: the same picture, covering, blurred at an eighth of the size (cheap and smooth) and darkened.
            let sw = even(Double(cw) / 8), sh = even(Double(ch) / 8)
            return enter + ",split[\(label)a][\(label)c];"
                + "[\(label)a]scale=\(sw):\(sh):force_original_aspect_ratio=increase,crop=\(sw):\(sh),boxblur=4:2,"
                + "colorchannelmixer=rr=0.55:gg=0.55:bb=0.55,scale=\(cw):\(ch):flags=bicubic[\(label)b];"
                + "[\(label)c]scale=\(cw):\(ch):force_original_aspect_ratio=decrease:flags=bicubic[\(label)f];"
                + "[\(label)b][\(label)f]overlay=(W-w)/2:(H-h)/2,format=yuv420p[\(label)]"
        }
    }

    /// Filters that turn a picture with EXIF `orientation` upright, each with a leading comma.
    static func orientation(_ o: Int) -> String {
        switch o {
        case 2: ",hflip"
        case 3: ",hflip,vflip"
        case 4: ",vflip"
        case 5: ",transpose=cclock_flip"
        case 6: ",transpose=clock"
        case 7: ",transpose=clock_flip"
        case 8: ",transpose=cclock"
        default: ""
        }
    }

    /// A path as a filter option's value inside a graph: two levels of libavfilter escaping, first backslash, quote
    /// and colon for the option, then backslash, quote, brackets, comma and semicolon for the graph.
    static func escaped(_ path: String) -> String {
        var option = ""
        for c in path { if "\\':".contains(c) { option.append("\\") }; option.append(c) }
        var graph = ""
        for c in option { if "\\'[],;".contains(c) { graph.append("\\") }; graph.append(c) }
        return graph
    }
    private static func even(_ v: Double) -> Int { Int((v / 2).rounded()) * 2 }
    private static func f(_ v: Double) -> String { String(format: "%.5f", v) }
    private static func number(_ v: Double) -> String { String(v) }
}
