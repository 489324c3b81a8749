import Manifest

/// The engines a pipeline can use, by the names manifests give them. The embedded ones are always
/// here; model engines are added by whoever knows the models folder (the CLI, the daemon).
public struct EngineSet: Sendable {
    public var speech: [JobManifest.Voice.Engine: any SpeechEngine]
    public var visuals: [JobManifest.Visuals.Engine: any VisualsEngine]
    public var music: [JobManifest.Music.Engine: any MusicEngine]
    /// The model uses (loads, peak memory) since the last call, from the model manager the model engines
    /// share; the pipeline drains it after each stage into the sidecar. Nil without model engines.
    public var drainModelUses: (@Sendable () -> [ModelUse])?

    public init(speech: [JobManifest.Voice.Engine: any SpeechEngine], visuals: [JobManifest.Visuals.Engine: any VisualsEngine],
                music: [JobManifest.Music.Engine: any MusicEngine]) {
        self.speech = speech; self.visuals = visuals; self.music = music
    }

    /// espeak-ng, procedural pictures, procedural or file music: no weights, no GPU.
    public static let embedded = EngineSet(speech: [.espeak: EspeakEngine()], visuals: [.procedural: ProceduralVisuals()],
                                           music: [.procedural: ProceduralMusic(), .file: FileMusic()])

    static func unavailable(_ kind: String, _ name: String, field: String) -> EngineError {
        EngineError(code: "\(kind).engine_unavailable",
                    message: "the \(kind) engine \"\(name)\" is not available here: it needs its model pack installed and `--models DIR` pointing at it (see `prostudio models list`)",
                    field: field)
    }

    public func speechEngine(_ e: JobManifest.Voice.Engine, field: String = "voice.engine") throws(EngineError) -> any SpeechEngine {
        guard let engine = speech[e] else { throw Self.unavailable("speech", e.rawValue, field: field) }
        return engine
    }

    /// `voice` with `auto` settled: a Kokoro voice when a Kokoro pack for its language is installed (the
    /// engine then finds that pack itself), else the Piper voice when it can speak it here, else espeak-ng.
    public func resolve(_ voice: JobManifest.Voice) -> JobManifest.Voice {
        guard voice.engine == .auto else { return voice }
        var resolved = voice
        if speech[.kokoro].map({ $0.canSpeak(voice) }) == true {
            resolved.engine = .kokoro
        } else {
            resolved.engine = speech[.piper].map { $0.canSpeak(voice) } == true ? .piper : .espeak
        }
        return resolved
    }

    public func visualsEngine(_ e: JobManifest.Visuals.Engine, field: String) throws(EngineError) -> any VisualsEngine {
        guard let engine = visuals[e] else { throw Self.unavailable("visuals", e.rawValue, field: field) }
        return engine
    }

    public func musicEngine(_ e: JobManifest.Music.Engine) throws(EngineError) -> any MusicEngine {
        guard let engine = music[e] else { throw Self.unavailable("music", e.rawValue, field: "music.engine") }
        return engine
    }
}

/// A model component's uses within one stage, summed: how often it was loaded and called, the time that
/// took and the highest memory seen. The sidecar lists one per component.
public struct ModelUse: Sendable, Codable, Equatable {
    public var pack: String
    public var component: String
    public var device: String
    public var loads: Int
    public var uses: Int
    public var load_seconds: Double
    public var use_seconds: Double
    public var peak_memory_bytes: Int64
    /// Peak process RSS while the component was loaded and used (every device).
    public var peak_rss_bytes: Int64?
    /// Peak of the CUDA caching allocator while the component was loaded and used (CUDA only).
    public var peak_gpu_bytes: Int64?
    public init(pack: String, component: String, device: String, loads: Int, uses: Int, loadSeconds: Double, useSeconds: Double,
                peakMemoryBytes: Int64, peakRSSBytes: Int64? = nil, peakGPUBytes: Int64? = nil) {
        self.pack = pack; self.component = component; self.device = device; self.loads = loads; self.uses = uses
        load_seconds = loadSeconds; use_seconds = useSeconds; peak_memory_bytes = peakMemoryBytes
        peak_rss_bytes = peakRSSBytes; peak_gpu_bytes = peakGPUBytes
    }
}
