import Foundation
import Manifest
import Media

/// The thumbnail (NAME.jpg): a picture of the video drawn again without captions, highlight or lower third, in the
/// platform's size, with the title set as a designed title (wrapped, sized to fit, on a shade that keeps it
/// readable on any picture). `poster: {captions: true}` keeps the old way: the video's own frame as it plays.
enum Thumbnail {
    /// Which scene and how far into it (seconds): the time `poster.time` names, else the middle of the first
    /// scene that has a picture of its own (an image, a clip or generated frames) rather than a plain
    /// background, else the middle of the first scene. The middle keeps away from crossfades and the title card's
    /// fade, and for a moving picture shows it halfway through its motion.
    static func moment(_ m: JobManifest, pictures: [ScenePicture], timeline: Timeline) -> (scene: Int, offset: Double) {
        let seconds = { (i: Int) in Double(timeline.scenes[i].frames) / Double(timeline.fps) }
        if let t = m.poster.time {
            let i = pictures.indices.last { timeline.start(of: $0) <= t } ?? 0
            return (i, min(max(0, t - timeline.start(of: i)), seconds(i)))
        }
        let i = pictures.indices.first { i in
            if case .background = pictures[i] { return false }
            return true
        } ?? 0
        return (i, seconds(i) / 2)
    }

    /// Draws the thumbnail to `path` (a JPEG).
    static func render(_ m: JobManifest, pictures: [ScenePicture], timeline: Timeline, style: CaptionStyle, to path: String,
                       work: URL) throws(MediaError) {
        let (w, h) = PosterSize.of(m)
        let (scene, offset) = moment(m, pictures: pictures, timeline: timeline)
        let total = max(1, timeline.scenes[scene].frames)
        // A short run of frames standing for the whole scene, so a still's zoom and pan is where it would be
        // `offset` into it; a clip is entered at that point; generated frames are read up to it (at most 2 s).
        let at = min(1, max(0, offset * Double(timeline.fps) / Double(total)))
        var picture = pictures[scene]
        var frames = min(total, 11)
        var posterFrame = Int((at * Double(frames - 1)).rounded())
        switch picture {
        case .clip(var clip):
            // Where the scene is `offset` in: a looping clip wraps around, a held one stops at its last frame.
            // Seeking past the end would give the filter nothing to draw.
            let length = (try? MediaReader.probe(clip.path))?.duration ?? 0
            let room = max(0, length - clip.start - 0.2)
            let into = clip.loop ? offset.truncatingRemainder(dividingBy: max(room, 0.001)) : min(offset, room)
            clip.start += room > 0 ? into : 0
            picture = .clip(clip)
            frames = min(total, 2); posterFrame = 0
        case .frames:
            posterFrame = min(total - 1, Int(offset * Double(timeline.fps)), 2 * timeline.fps)
            frames = posterFrame + 1
        case .still, .background:
            break
        }
        var overlays: [TextOverlay] = []
        if m.poster.title, let title = m.title, !title.isEmpty {
            overlays.append(TextOverlay(text: title, start: 0, end: 3600, kind: .poster))
        }
        let c = Composition(outputPath: work.appendingPathComponent("poster.mp4").path, width: w, height: h, fps: timeline.fps,
                            frameCount: frames, scenes: [.init(picture: picture, start: 0, frames: frames)], crossfadeFrames: 0,
                            overlays: overlays, textStyle: style, audio: [Float](repeating: 0, count: 2 * 48_000 * frames / timeline.fps + 2048),
                            quality: .draft, posterFrame: posterFrame, posterPath: path)
        _ = try Composer.compose(c)
        try? FileManager.default.removeItem(atPath: c.outputPath)
    }
}
