import CFFmpeg

/// One scene's own graph: its picture chain ending in `[out]` (yuv420p at the frame size), where it starts on the
/// timeline and how many frames it must give (its length plus the crossfade into the next).
struct SceneGraph: Sendable {
    var text: String
    var images: [String: String] = [:]
    var streams: [String: FrameStream] = [:]
    var start: Int
    var frames: Int
}

/// The video drawn one scene at a time: each scene's graph is built when its first frame is due and freed after its
/// last, and a crossfade blends the two graphs open during it. One graph for the whole video kept every scene's
/// sources, buffer pools and the split/trim/concat plumbing alive from the first frame to the last: a 10-minute
/// job's compose peaked at 3x the memory of a 1-minute one. Here memory is that of one or two scenes, whatever the
/// length.
///
/// Used from one thread at a time (the filter thread).
final class SceneSequence: FrameProducer {
    /// A scene being drawn: its graph, and the next frame already pulled from it (so that the last frame can be
    /// held when a graph ends a frame early, as rounding in a source filter can make it).
    private final class Open {
        let index: Int
        let graph: FilterGraph
        var pending: UnsafeMutablePointer<AVFrame>?
        var taken = 0
        var ended = false
        init(index: Int, graph: FilterGraph) { self.index = index; self.graph = graph }
        deinit { av_frame_free(&pending) }
    }

    private let scenes: [SceneGraph]
    private let fps: Int
    private let crossfade: Int
    private let burner: CaptionBurner?
    private let total: Int
    private var open: [Open] = []
    private var nextScene = 0
    private var position = 0

    init(spec: CompositionSpec) throws(MediaError) {
        scenes = spec.scenes
        fps = spec.fps
        crossfade = spec.crossfadeFrames
        burner = try spec.captionScript.map { script throws(MediaError) in try CaptionBurner(script: script, width: spec.width, height: spec.height) }
        total = scenes.map { $0.start + $0.frames }.max() ?? 0
    }

    /// Scenes that start where the one before ends, less the crossfade, and long enough that no frame is shared by
    /// three of them: what this sequence can draw (else the whole graph is used).
    static func fits(_ scenes: [(start: Int, frames: Int)], crossfade t: Int) -> Bool {
        guard let first = scenes.first, first.start == 0 else { return false }
        let n = scenes.count
        for i in scenes.indices {
            if i > 0 && scenes[i].start != scenes[i - 1].start + scenes[i - 1].frames - t { return false }
            if scenes[i].frames - (i > 0 ? t : 0) - (i < n - 1 ? t : 0) <= 0 { return false }
        }
        return true
    }

    func next(into frame: UnsafeMutablePointer<AVFrame>) throws(MediaError) -> Bool {
        let k = position
        guard k < total else { return false }
        open.removeAll { scenes[$0.index].start + scenes[$0.index].frames <= k }
        while nextScene < scenes.count && scenes[nextScene].start <= k {
            let s = scenes[nextScene]
            if s.start + s.frames > k {
                let graph = try FilterGraph(text: s.text, images: s.images, streams: s.streams, fps: fps, captions: nil)
                open.append(Open(index: nextScene, graph: graph))
            }
            nextScene += 1
        }
        guard !open.isEmpty else { throw MediaError("render video frame", detail: "no scene covers frame \(k)") }

        var taken: [UnsafeMutablePointer<AVFrame>] = []
        defer { for f in taken { freeFrame(f) } }
        for o in open { taken.append(try take(o)) }
        if taken.count == 2 {
            // xfade's `fade`: the outgoing scene's weight falls from 1 by 1/crossfade a frame.
            let j = k - scenes[open[1].index].start
            try ComposeProfile.measure("filter.crossfade") { () throws(MediaError) in
                try Self.blend(taken[0], taken[1], keep: 1 - Double(j) / Double(max(1, crossfade)))
            }
        } else if taken.count > 2 {
            throw MediaError("render video frame", detail: "\(taken.count) scenes overlap at frame \(k)")
        }
        av_frame_move_ref(frame, taken[0])
        frame.pointee.pts = Int64(k)
        position += 1
        try ComposeProfile.measure("filter.captions") { () throws(MediaError) in
            try burner?.burn(frame, milliseconds: Int64(k) * 1000 / Int64(fps))
        }
        return true
    }

    /// This scene's frame for the current position (the caller's to free).
    private func take(_ o: Open) throws(MediaError) -> UnsafeMutablePointer<AVFrame> {
        if o.pending == nil && !o.ended { o.pending = try pull(o.graph) }
        guard let current = o.pending else {
            throw MediaError("render video frame", detail: "scene \(o.index + 1)'s picture gave no frames")
        }
        o.taken += 1
        if o.taken < scenes[o.index].frames && !o.ended {
            if let ahead = try pull(o.graph) {
                o.pending = ahead
                return current
            }
            o.ended = true
        }
        if o.taken < scenes[o.index].frames {
            // Held: a new reference to the same picture.
            guard let copy = av_frame_clone(current) else { throw MediaError("allocate frame", detail: "out of memory") }
            return copy
        }
        o.pending = nil
        return current
    }

    private func pull(_ graph: FilterGraph) throws(MediaError) -> UnsafeMutablePointer<AVFrame>? {
        guard let frame = av_frame_alloc() else { throw MediaError("allocate frame", detail: "out of memory") }
        do {
            if try graph.next(into: frame) { return frame }
        } catch { freeFrame(frame); throw error }
        freeFrame(frame)
        return nil
    }

    /// `a` becomes `a` x keep + `b` x (1 - keep), plane by plane (both yuv420p of one size), rounded.
    static func blend(_ a: UnsafeMutablePointer<AVFrame>, _ b: UnsafeMutablePointer<AVFrame>, keep: Double) throws(MediaError) {
        let yuv = AV_PIX_FMT_YUV420P.rawValue
        guard a.pointee.format == yuv, b.pointee.format == yuv, a.pointee.width == b.pointee.width, a.pointee.height == b.pointee.height else {
            throw MediaError("crossfade", detail: "scene pictures differ: \(a.pointee.width)x\(a.pointee.height) format \(a.pointee.format) "
                             + "and \(b.pointee.width)x\(b.pointee.height) format \(b.pointee.format)")
        }
        try check(av_frame_make_writable(a), "make frame writable for a crossfade")
        let wa = Int32((min(1, max(0, keep)) * 256).rounded()), wb = 256 - wa
        let w = Int(a.pointee.width), h = Int(a.pointee.height)
        for (p, (cols, rows)) in [(w, h), ((w + 1) / 2, (h + 1) / 2), ((w + 1) / 2, (h + 1) / 2)].enumerated() {
            let da = ps_frame_data(a, Int32(p))!, sa = Int(ps_frame_linesize(a, Int32(p)))
            let db = ps_frame_data(b, Int32(p))!, sb = Int(ps_frame_linesize(b, Int32(p)))
            for row in 0..<rows {
                let ra = da + row * sa, rb = db + row * sb
                for x in 0..<cols { ra[x] = UInt8(truncatingIfNeeded: (Int32(ra[x]) * wa + Int32(rb[x]) * wb + 128) >> 8) }
            }
        }
    }
}
