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
