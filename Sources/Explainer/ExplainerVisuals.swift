import Captions
import Engines
import Foundation
import Manifest
import Media

/// The `explainer` visuals engine: for a scene with no picture, a designed card of what its narration says (see
/// PhraseFinder for how it is found), revealed in time with the voice; a scene with its own image or clip is shown
/// as the procedural engine shows it.
public struct ExplainerVisuals: VisualsEngine {
    public init() {}

    public var identity: EngineIdentity { EngineIdentity(name: "explainer", version: "1") }

    public func picture(for scene: SceneCanvas, progress: @Sendable (Double) -> Void) throws(EngineError) -> ScenePicture {
        if scene.image != nil || scene.video != nil { return try ProceduralVisuals().picture(for: scene, progress: progress) }
        let text = scene.narration ?? scene.prompt ?? ""
        let script = Self.script(for: scene, text: text)
        let palette = CardPalette(jobSeed: scene.visuals.seed ?? scene.jobSeed, scene: scene.index, style: scene.visuals.style)
        let (w, h, fps, frames) = (scene.width, scene.height, scene.fps, scene.frames)
        // Fail here, in the visuals stage, with the scene named, rather than mid-encode.
        do { _ = try ScriptPainter(script: script, width: w, height: h) } catch {
            throw EngineError(code: "visuals.card_failed", message: "scene \(scene.index + 1): the explainer card could not be set: \(error)",
                              field: "scenes[\(scene.index)].visuals")
        }
        progress(1)
        return .frames(FrameStream(width: w, height: h, pixelFormat: .yuv420p) {
            try CardFrames(script: script, palette: palette, width: w, height: h, fps: fps, frames: frames)
        })
    }

    /// The scene's card as an ASS script (public for tests and the bench: what the frames will show).
    public static func script(for scene: SceneCanvas, text: String) -> String {
        let idea = PhraseFinder.idea(in: text)
        let duration = Double(scene.frames) / Double(max(1, scene.fps))
        let palette = CardPalette(jobSeed: scene.visuals.seed ?? scene.jobSeed, scene: scene.index, style: scene.visuals.style)
        var card = CardScript(idea: idea, layout: CardLayout(width: scene.width, height: scene.height, captions: scene.captions), palette: palette,
                              duration: duration, variant: scene.index)
        // The card and the title would set type over each other: the card waits for the title to leave.
        card.notBefore = scene.titleUntil
        let clock = VoiceClock(script: text, words: scene.spokenWords, narrationOffset: scene.narrationOffset,
                               narrationDuration: scene.narrationDuration ?? max(0.1, duration - scene.narrationOffset))
        return card.document(time: clock.time)
    }
}

/// When the voice reaches a place in the script: the captions' own alignment of the voice's word times onto the
/// script's words, shifted to the scene's clock. Without word times (a silent scene) the text is spread evenly.
struct VoiceClock {
    let words: [TimedWord]
    let offset: Double
    let length: Int
    let duration: Double

    init(script: String, words voice: [Narration.Word], narrationOffset: Double, narrationDuration: Double) {
        words = voice.isEmpty ? [] : CaptionAligner.align(script: script, voice: voice, duration: narrationDuration)
        offset = narrationOffset
        length = max(1, script.unicodeScalars.count)
        duration = narrationDuration
    }

    func time(_ scalarOffset: Int) -> Double {
        if let w = words.first(where: { $0.word.range.upperBound > scalarOffset }) { return offset + w.start }
        if let last = words.last { return offset + last.end }
        return offset + duration * Double(min(scalarOffset, length)) / Double(length)
    }
}
