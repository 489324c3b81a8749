import Foundation
import Manifest
import Media

/// What the visuals stage knows about one scene when it asks for pictures.
public struct SceneCanvas: Sendable {
    public var index: Int
    public var width: Int
    public var height: Int
    public var fps: Int
    /// Frames this scene's source must provide (scene length plus any transition overlap).
    public var frames: Int
    public var prompt: String?
    public var image: String?
    public var visuals: JobManifest.Visuals
    public var jobSeed: UInt64
    /// Where a cover crop of the image centres (x, y in 0...1); nil: the middle.
    public var focus: [Double]?
    /// The scene's own footage, where it starts, and whether it loops (else holds) when shorter than the scene.
    public var video: String? = nil
    public var videoStart: Double = 0
    public var videoLoops = true
    /// The scene's spoken text (the `library` engine matches pictures by it and the prompt).
    public var narration: String?
    /// The voice's word times for `narration` (seconds from the narration's start), where it starts in the scene and
    /// how long it lasts: speech runs before visuals, so an engine can show words as they are spoken (`explainer`).
    public var spokenWords: [Narration.Word] = []
    public var narrationOffset: Double = 0
    public var narrationDuration: Double? = nil
    /// The title card is burned over this scene until then (seconds from its start; 0: no title over it).
    public var titleUntil: Double = 0
    /// The burned captions' style and most lines (nil when captions are not burned): where type of its own must
    /// not go.
    public var captions: (style: CaptionStyle, maxLines: Int)? = nil
    public init(index: Int, width: Int, height: Int, fps: Int, frames: Int, prompt: String?, image: String?, visuals: JobManifest.Visuals,
                jobSeed: UInt64, focus: [Double]? = nil, narration: String? = nil) {
        self.index = index; self.width = width; self.height = height; self.fps = fps; self.frames = frames
        self.prompt = prompt; self.image = image; self.visuals = visuals; self.jobSeed = jobSeed; self.focus = focus
        self.narration = narration
    }

    /// The scene's seed: the visuals seed (or the job's), mixed with the scene and its prompt so scenes differ.
    /// Only the image's file name counts: the same job in another folder must look the same.
    public var seed: UInt64 {
        let imageName = image.map { ($0 as NSString).lastPathComponent } ?? ""
        return SeededRandom.hash("\(index)|\(prompt ?? "")|\(imageName)", seed: visuals.seed ?? jobSeed)
    }
}

public protocol VisualsEngine: Sendable {
    var identity: EngineIdentity { get }
    /// Called in the visuals stage, scene by scene: what the scene shows, described for Media to draw. Heavy work
    /// (a model's denoising) belongs here, with `progress` (0...1) reported as it goes; frames may be produced
    /// later, as compose pulls them.
    func picture(for scene: SceneCanvas, progress: @Sendable (Double) -> Void) async throws(EngineError) -> ScenePicture
    /// Called once in the visuals stage before the first `picture`, with every scene this engine will draw. A model
    /// engine runs each of its components over all of them here, one load each, instead of reloading them scene
    /// by scene (the model manager keeps one resident). Best effort: what fails here is redone, and reported, by
    /// `picture`. The default does nothing.
    func prepare(_ scenes: [SceneCanvas]) async
    /// The user's media the engine chose for the scene (the `library` engine), for the sidecar; nil by default.
    func media(for scene: SceneCanvas) -> SceneMedia?
}

extension VisualsEngine {
    public func prepare(_ scenes: [SceneCanvas]) async {}
    public func media(for scene: SceneCanvas) -> SceneMedia? { nil }
}
