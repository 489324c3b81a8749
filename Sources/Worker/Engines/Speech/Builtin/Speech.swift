import Foundation
import Manifest

/// Narration for one scene: mono samples and when the voice says each word.
public struct Narration: Sendable, Equatable {
    public struct Word: Sendable, Equatable, Codable {
        public var text: String
        /// Seconds from the start of `samples`.
        public var start: Double
        public var end: Double
        /// Where the word starts in the text given to `synthesize`, in Unicode scalars, when the voice knows it.
        /// Captions take their text from the script and use this (or `text`, read forward) only to place times.
        public var source: Int?
        public init(text: String, start: Double, end: Double, source: Int? = nil) {
            self.text = text; self.start = start; self.end = end; self.source = source
        }
    }
    public var sampleRate: Int
    public var samples: [Float]
    public var words: [Word]
    /// The audio's length when its samples are kept elsewhere (spooled to disk while a long job runs; `samples`
    /// is then empty): captions and the timeline need the words and the length, not the audio.
    public var detachedFrames: Int?
    public init(sampleRate: Int, samples: [Float], words: [Word]) { self.sampleRate = sampleRate; self.samples = samples; self.words = words }
    /// Words and length only, the samples held on disk.
    public init(sampleRate: Int, frames: Int, words: [Word]) {
        self.init(sampleRate: sampleRate, samples: [], words: words)
        detachedFrames = frames
    }
    public var duration: Double { Double(detachedFrames ?? samples.count) / Double(sampleRate) }
}

public protocol SpeechEngine: Sendable {
    var identity: EngineIdentity { get }
    /// Who makes narrations for this voice: a model engine adds the hash of the pack `voice` names, so the
    /// stage cache and the sidecar tell packs apart. Defaults to `identity`.
    func identity(for voice: JobManifest.Voice) -> EngineIdentity
    /// Async: a model voice awaits the shared model manager. An engine with nothing to await (espeak-ng) may
    /// implement it synchronously.
    func synthesize(_ text: String, voice: JobManifest.Voice) async throws(EngineError) -> Narration
    /// Whether this engine can speak `voice` here (its pack installed, its language the voice's): what
    /// `voice: {engine: auto}` asks before choosing a model voice. Defaults to true.
    func canSpeak(_ voice: JobManifest.Voice) -> Bool
    /// Silence the engine puts between two sentences of one text: the pipeline speaks a long narration a few
    /// sentences at a time and joins the parts with it, so the joined audio is what one call would give.
    /// Defaults to none (the voice's own pauses end each part).
    var sentenceJoinPause: Double { get }
    /// An `auto` voice this engine was chosen for, with the engine's own fields filled in (the pack it will use,
    /// not Piper's default the manifest carries). Defaults to the voice as it is.
    func adopting(_ voice: JobManifest.Voice) -> JobManifest.Voice
}

extension SpeechEngine {
    public func identity(for voice: JobManifest.Voice) -> EngineIdentity { identity }
    public func canSpeak(_ voice: JobManifest.Voice) -> Bool { true }
    public var sentenceJoinPause: Double { 0 }
    public func adopting(_ voice: JobManifest.Voice) -> JobManifest.Voice { voice }
}
