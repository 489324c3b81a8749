import Manifest

/// The engines a pipeline can use, by the names manifests give them. The embedded ones are always
/// here; model engines are added by whoever knows the models folder (the CLI, the daemon).
public struct EngineSet: Sendable {
    public var speech: [JobManifest.Voice.Engine: any SpeechEngine]
    public var visuals: [JobManifest.Visuals.Engine: any VisualsEngine]
    public var music: [JobManifest.Music.Engine: any MusicEngine]
    /// The model uses (loads, peak memory) since the last call, from the model manager the model engines
    /// share; the pipeline drains it after each stage into the sidecar. Nil without model engines.
    public var drainModelUses: (@Sendable () async -> [ModelUse])?

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
        if let kokoro = speech[.kokoro], kokoro.canSpeak(voice) {
            resolved = kokoro.adopting(voice)
            resolved.engine = .kokoro
        } else {
            resolved.engine = speech[.piper].map { $0.canSpeak(voice) } == true ? .piper : .espeak
        }
        return resolved
    }

    /// The manifest with every `auto` voice replaced by the engine that will speak it (for checks that depend on it).
    public func resolvingVoices(_ m: JobManifest) -> JobManifest {
        var out = m
        out.voice = resolve(m.voice)
        for i in out.scenes.indices { out.scenes[i].voice = resolve(m.scenes[i].voice) }
        return out
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
