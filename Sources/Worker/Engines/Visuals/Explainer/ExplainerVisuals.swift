import Captions
import Engines
import Foundation
import Library
import Manifest
import Media
import Synchronization
import TorchRuntime

/// The `explainer` visuals engine: for a scene with no picture, a designed card of what its narration says (see
/// PhraseFinder for how it is found), revealed in time with the voice; a scene with its own image or clip is shown
/// as the procedural engine shows it.
public struct ExplainerVisuals: VisualsEngine {
    /// Where icons come from: the embedding pack's store, the icon font, and the folder the icon index is cached in.
    public struct Icons: Sendable {
        public var store: ModelStore
        public var font: String
        public var cache: URL?
        public var minScore: Float
        public init(store: ModelStore, font: String = IconFont.defaultPath, cache: URL? = nil, minScore: Float = IconIndex.defaultMinScore) {
            self.store = store; self.font = font; self.cache = cache; self.minScore = minScore
        }
        /// Both the font and the MiniLM pack are installed.
        public var available: Bool {
            FileManager.default.fileExists(atPath: font) && (try? store.pack(named: SentenceEncoder.defaultPack)) != nil
        }
    }

    /// The icon chosen per scene in `prepare` (scene index -> icon name).
    final class Choices: Sendable {
        let byScene = Mutex<[Int: String]>([:])
    }

    let icons: Icons?
    let choices = Choices()

    /// `icons`: nil, or not installed, and the cards are type only.
    public init(icons: Icons? = nil) { self.icons = icons.flatMap { $0.available ? $0 : nil } }

    /// Version 2: icons on figure and list cards, negated icons never chosen.
    public var identity: EngineIdentity {
        EngineIdentity(name: "explainer", version: "2", packHash: icons.flatMap { try? $0.store.pack(named: SentenceEncoder.defaultPack).identity })
    }

    /// Embeds every picture-less scene's narration once and picks its icon (best effort: a failure leaves type only,
    /// logged nowhere but the card). The encoder is loaded here and released when this returns.
    public func prepare(_ scenes: [SceneCanvas]) async {
        guard let icons else { return }
        let wanted = scenes.filter { $0.image == nil && $0.video == nil && !($0.narration ?? "").isEmpty }
        guard !wanted.isEmpty else { return }
        do {
            let encoder = try SentenceEncoder(store: icons.store)
            let module = try encoder.loadModule()
            let index = try IconIndex.load(names: try IconFont.names(path: icons.font), encoder: encoder, module: module, cache: icons.cache)
            let queries = try encoder.embed(wanted.map { $0.narration ?? "" }, module: module)
            var picked: [Int: String] = [:]
            for (i, scene) in wanted.enumerated() {
                let q = Array(queries[(i * index.dimension)..<((i + 1) * index.dimension)])
                // Nothing contradicts the words: below the threshold the card is type only.
                if let best = index.best(for: q), best.score >= icons.minScore { picked[scene.index] = best.name }
            }
            choices.byScene.withLock { $0 = picked }
        } catch {
            choices.byScene.withLock { $0 = [:] }
        }
    }

    public func picture(for scene: SceneCanvas, progress: @Sendable (Double) -> Void) throws(EngineError) -> ScenePicture {
        if scene.image != nil || scene.video != nil { return try ProceduralVisuals().picture(for: scene, progress: progress) }
        let text = scene.narration ?? scene.prompt ?? ""
        let script = Self.script(for: scene, text: text, icon: choices.byScene.withLock { $0[scene.index] })
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
    public static func script(for scene: SceneCanvas, text: String, icon: String? = nil) -> String {
        let idea = PhraseFinder.idea(in: text)
        let duration = Double(scene.frames) / Double(max(1, scene.fps))
        let palette = CardPalette(jobSeed: scene.visuals.seed ?? scene.jobSeed, scene: scene.index, style: scene.visuals.style)
        var card = CardScript(idea: idea, layout: CardLayout(width: scene.width, height: scene.height, captions: scene.captions), palette: palette,
                              duration: duration, variant: scene.index)
        // The card and the title would set type over each other: the card waits for the title to leave.
        card.notBefore = scene.titleUntil
        card.icon = icon
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
