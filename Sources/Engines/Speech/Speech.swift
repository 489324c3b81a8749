import Foundation
import Manifest

/// Narration for one scene: mono samples and when each word starts.
public struct Narration: Sendable, Equatable {
    public struct Word: Sendable, Equatable, Codable {
        public var text: String
        /// Seconds from the start of `samples`.
        public var start: Double
        public var end: Double
        public init(text: String, start: Double, end: Double) { self.text = text; self.start = start; self.end = end }
    }
    public var sampleRate: Int
    public var samples: [Float]
    public var words: [Word]
    public init(sampleRate: Int, samples: [Float], words: [Word]) { self.sampleRate = sampleRate; self.samples = samples; self.words = words }
    public var duration: Double { Double(samples.count) / Double(sampleRate) }
}

public protocol SpeechEngine: Sendable {
    var identity: EngineIdentity { get }
    /// Who makes narrations for this voice: a model engine adds the hash of the pack `voice` names, so the
    /// stage cache and the sidecar tell packs apart. Defaults to `identity`.
    func identity(for voice: JobManifest.Voice) -> EngineIdentity
    func synthesize(_ text: String, voice: JobManifest.Voice) throws(EngineError) -> Narration
}

extension SpeechEngine {
    public func identity(for voice: JobManifest.Voice) -> EngineIdentity { identity }
}
