import Engines
import Foundation
import Manifest
import Media

/// Where every scene sits in the finished video. Built from the narration, so picture and voice are in
/// sync by construction: a scene lasts as long as its narration plus padding, rounded to whole frames.
public struct Timeline: Sendable, Equatable {
    public struct Scene: Sendable, Equatable {
        public var startFrame: Int
        public var frames: Int
        /// Seconds from the scene's start to its first word.
        public var narrationOffset: Double
        public var narrationDuration: Double
    }

    public static let leadIn = 0.25
    public static let tail = 0.45

    public var fps: Int
    public var scenes: [Scene]
    /// Crossfade length in frames (0 for cuts).
    public var transitionFrames: Int

    public var totalFrames: Int { scenes.last.map { $0.startFrame + $0.frames } ?? 0 }
    public var duration: Double { Double(totalFrames) / Double(fps) }

    public init(manifest: JobManifest, narrationDurations: [Double]) {
        fps = manifest.output.fps
        var start = 0
        scenes = zip(manifest.scenes, narrationDurations).map { scene, spoken in
            let seconds = Timeline.leadIn + spoken + Timeline.tail + scene.pause
            let frames = max(1, Int((seconds * Double(manifest.output.fps)).rounded(.up)))
            defer { start += frames }
            return Scene(startFrame: start, frames: frames, narrationOffset: Timeline.leadIn, narrationDuration: spoken)
        }
        let shortest = scenes.map(\.frames).min() ?? 0
        if manifest.transitions.kind == .crossfade && scenes.count > 1 {
            // A fade may not eat more than half of the shortest scene.
            transitionFrames = min(Int((manifest.transitions.duration * Double(fps)).rounded()), shortest / 2)
        } else {
            transitionFrames = 0
        }
    }

    public func start(of index: Int) -> Double { Double(scenes[index].startFrame) / Double(fps) }
}

enum Captions {
    static let maxSeconds = 3.5

    /// Characters that fit on one caption line: about half the font size per character, 85% of the width.
    static func lineLength(width: Int, fontSize: Int) -> Int {
        min(48, max(16, Int(0.85 * Double(width) / (0.5 * Double(fontSize)))))
    }

    /// Cues from word timings: short lines, broken at sentence ends, each inside its scene's narration.
    static func cues(for narrations: [Narration], timeline: Timeline, maxCharacters: Int = 42) -> [Cue] {
        var cues: [Cue] = []
        for (index, narration) in narrations.enumerated() {
            let offset = timeline.start(of: index) + timeline.scenes[index].narrationOffset
            var words: [Narration.Word] = []
            func flush() {
                guard let first = words.first, let last = words.last else { return }
                cues.append(Cue(start: offset + first.start, end: offset + last.end, text: words.map(\.text).joined(separator: " ")))
                words = []
            }
            for word in narration.words {
                let text = (words.map(\.text) + [word.text]).joined(separator: " ")
                if let first = words.first, text.count > maxCharacters || word.end - first.start > maxSeconds { flush() }
                words.append(word)
                if let c = word.text.last, ".!?…".contains(c) { flush() }
            }
            flush()
        }
        // Never overlap: a cue ends no later than the next begins.
        for i in cues.indices.dropLast() where cues[i].end > cues[i + 1].start { cues[i].end = cues[i + 1].start }
        return cues.filter { $0.end > $0.start }
    }
}

enum VideoGraph {
    /// Joins the scenes' sources into one graph ending in `[out]`, with crossfades and burned captions.
    static func assemble(sources: [VisualSource], timeline: Timeline, assFile: String?) -> (graph: String, images: [String: String]) {
        var parts = sources.map(\.chain)
        var images: [String: String] = [:]
        for s in sources { images.merge(s.images) { a, _ in a } }
        var last = "s0"
        if sources.count > 1 {
            if timeline.transitionFrames > 0 {
                let d = Double(timeline.transitionFrames) / Double(timeline.fps)
                for i in 1..<sources.count {
                    let label = "x\(i)"
                    parts.append("[\(last)][s\(i)]xfade=transition=fade:duration=\(d):offset=\(timeline.start(of: i))[\(label)]")
                    last = label
                }
            } else {
                parts.append((0..<sources.count).map { "[s\($0)]" }.joined() + "concat=n=\(sources.count):v=1:a=0[cat]")
                last = "cat"
            }
        }
        if let assFile {
            parts.append("[\(last)]ass=filename='\(escape(assFile))',format=yuv420p[out]")
        } else {
            parts.append("[\(last)]format=yuv420p[out]")
        }
        return (parts.joined(separator: ";"), images)
    }

    /// Filter-graph quoting: inside '...' only the quote itself needs care.
    static func escape(_ path: String) -> String { path.replacingOccurrences(of: "'", with: "'\\''") }
}
