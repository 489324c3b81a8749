import Foundation
import Manifest

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
    public init(index: Int, width: Int, height: Int, fps: Int, frames: Int, prompt: String?, image: String?, visuals: JobManifest.Visuals, jobSeed: UInt64) {
        self.index = index; self.width = width; self.height = height; self.fps = fps; self.frames = frames
        self.prompt = prompt; self.image = image; self.visuals = visuals; self.jobSeed = jobSeed
    }

    /// The scene's seed: the visuals seed (or the job's), mixed with the scene and its prompt so scenes differ.
    public var seed: UInt64 {
        SeededRandom.hash("\(index)|\(prompt ?? "")|\(image ?? "")", seed: visuals.seed ?? jobSeed)
    }
}

/// A scene's picture as a libavfilter chain: `chain` ends in the pad `[label]`; `images` are still
/// inputs the chain reads by their labels.
public struct VisualSource: Sendable, Equatable {
    public var chain: String
    public var images: [String: String]
    public init(chain: String, images: [String: String]) { self.chain = chain; self.images = images }
}

public protocol VisualsEngine: Sendable {
    var identity: EngineIdentity { get }
    func source(for scene: SceneCanvas, output label: String) throws(EngineError) -> VisualSource
}
