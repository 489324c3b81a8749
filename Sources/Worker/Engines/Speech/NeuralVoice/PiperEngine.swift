import Dispatch
import Engines
import Foundation
import Manifest
import Synchronization
import TorchRuntime

/// The Piper-specific part of a `vits-piper` speech pack's pack.json (see Docs/piper-voice.md).
public struct PiperPackConfig: Sendable, Decodable {
    public struct Ids: Sendable, Decodable { public var pad: String; public var bos: String; public var eos: String }
    public struct Inference: Sendable, Decodable {
        public var noiseScale: Double
        public var lengthScale: Double
        public var noiseW: Double
        enum CodingKeys: String, CodingKey { case noiseScale = "noise_scale", lengthScale = "length_scale", noiseW = "noise_w" }
    }
    public var espeakVoice: String
    public var phonemeIdMap: [String: [Int]]
    public var phonemeMap: [String: [String]]?
    public var ids: Ids?
    public var inference: Inference?
    public var sampleRate: Int
    public var hopLength: Int?

    enum CodingKeys: String, CodingKey {
        case ids, inference
        case espeakVoice = "espeak_voice", phonemeIdMap = "phoneme_id_map", phonemeMap = "phoneme_map"
        case sampleRate = "sample_rate", hopLength = "hop_length"
    }

    public var convention: PiperText.IDConvention {
        PiperText.IDConvention(idMap: phonemeIdMap, phonemeMap: phonemeMap ?? [:], pad: ids?.pad ?? "_", bos: ids?.bos ?? "^", eos: ids?.eos ?? "$")
    }
}

/// The scales one synthesis runs with.
public struct PiperScales: Sendable, Equatable {
    public var noiseScale: Double
    public var lengthScale: Double
    public var noiseW: Double
    public init(noiseScale: Double, lengthScale: Double, noiseW: Double) {
        self.noiseScale = noiseScale; self.lengthScale = lengthScale; self.noiseW = noiseW
    }
}

/// A Piper VITS voice (`voice: {engine: piper, pack: joe-medium, rate: 1.0}`) run through libtorch.
///
/// Text is phonemized by espeak-ng in the `prostudio-espeak` helper (`EspeakPhonemizer`), cut into sentences
/// (`PiperText`), and each sentence goes through the pack's `synthesizer` (TorchScript) on the `ModelManager`,
/// with the noise seeded from a fixed seed and the sentence's ids, so the same text always gives the same
/// samples. Sentences are joined with a short pause, their edges faded so nothing clicks. Word timings come
/// from the per-id durations the model returns. `rate` sets `length_scale` (pack default / rate); `noise_scale`
/// and `noise_w` come from the manifest, else the pack. `pitch` does not apply to this voice.
public final class PiperEngine: SpeechEngine {
    public static let component = "synthesizer"
    public static let defaultPack = "joe-medium"
    public static let installCommand = "Tools/export/install-piper-voice"
    public static let version = "1"
    /// Silence between sentences (Piper's default `sentence_silence`).
    public static let sentencePause = 0.2
    /// Fade at each sentence's edges, so a join never steps.
    public static let edgeFade = 0.005
    /// The fixed seed the per-sentence noise seeds derive from.
    public static let seed: UInt64 = 0x5052_4F53_5455_4449

    public let store: ModelStore
    public let manager: ModelManager
    private let warmed = Mutex<TorchModule?>(nil)

    /// `manager` must be over `store` (the daemon shares one manager between its model engines).
    public init(store: ModelStore, manager: ModelManager) { self.store = store; self.manager = manager }

    /// A voice over the packs in `models`, on the CPU (or CUDA when present), with its own model manager.
    public convenience init(models: URL) {
        let store = ModelStore(root: models)
        self.init(store: store, manager: ModelManager(store: store))
    }

    public var identity: EngineIdentity { EngineIdentity(name: "piper", version: Self.version) }
    public var sentenceJoinPause: Double { Self.sentencePause }

    public func identity(for voice: JobManifest.Voice) -> EngineIdentity {
        var id = identity
        id.packHash = try? store.pack(named: voice.pack ?? Self.defaultPack).identity
        return id
    }

    /// The pack is installed and speaks the voice's language (`en-us` asks for an English pack).
    public func canSpeak(_ voice: JobManifest.Voice) -> Bool {
        guard let (_, config) = try? pack(named: voice.pack ?? Self.defaultPack) else { return false }
        func language(_ v: String) -> Substring { v.lowercased().split(separator: "-").first ?? "" }
        return language(config.espeakVoice) == language(voice.voice)
    }

    /// The pack and its Piper fields, or an error that says how to install it.
    public func pack(named name: String) throws(EngineError) -> (ModelPack, PiperPackConfig) {
        let pack = try store.speechPack(named: name, engine: "piper", architecture: "vits-piper", repair: "; `\(Self.installCommand) --force \(store.root.path)` re-exports it")
        do {
            return (pack, try JSONDecoder().decode(PiperPackConfig.self, from: pack.json))
        } catch {
            throw EngineError(code: "speech.pack_invalid",
                              message: "model pack '\(name)': pack.json lacks the Piper fields (espeak_voice, phoneme_id_map, ...): \(error); `\(Self.installCommand) --force \(store.root.path)` re-exports it",
                              field: "voice.pack")
        }
    }

    /// A manifest voice for this engine (as `voice: {engine: piper, pack: PACK, rate: RATE}` reads), for callers
    /// without a manifest: benchmarks and tests.
    public static func voice(pack: String = defaultPack, rate: Double = 1, volume: Double = 1) -> JobManifest.Voice {
        let json = #"{"engine":"piper","voice":"en-us","pack":"\#(pack)","rate":\#(rate),"pitch":1,"volume":\#(volume)}"#
        return try! JSONDecoder().decode(JobManifest.Voice.self, from: Data(json.utf8))
    }

    public func scales(for voice: JobManifest.Voice, config: PiperPackConfig) -> PiperScales {
        let base = config.inference
        return PiperScales(noiseScale: voice.noiseScale ?? base?.noiseScale ?? 0.667,
                           lengthScale: (base?.lengthScale ?? 1) / max(voice.rate, 0.01),
                           noiseW: voice.noiseW ?? base?.noiseW ?? 0.8)
    }

    /// Text → the pack's sentences (phoneme ids and word spans), via espeak-ng in the helper process.
    public func sentences(_ text: String, config: PiperPackConfig) throws(EngineError) -> [PiperText.Sentence] {
        let clauses = PiperText.splitClauses(text)
        let ipa = try EspeakPhonemizer.ipa(lines: PiperText.phonemizerLines(clauses), voice: config.espeakVoice)
        return PiperText.sentences(clauses: clauses, ipa: ipa, convention: config.convention)
    }

    public func synthesize(_ text: String, voice: JobManifest.Voice) async throws(EngineError) -> Narration {
        try await narrate(text, voice: voice)
    }

    /// The narration of `text`. `scales` overrides the manifest-derived scales (tests run with the noise off).
    public func narrate(_ text: String, voice: JobManifest.Voice, scales override: PiperScales? = nil) async throws(EngineError) -> Narration {
        let name = voice.pack ?? Self.defaultPack
        let (_, config) = try pack(named: name)
        let sentences = try self.sentences(text, config: config)
        let scales = override ?? self.scales(for: voice, config: config)
        let hop = config.hopLength ?? 256
        let outputs: [SentenceAudio]
        do {
            outputs = try await manager.withModel(pack: name, component: Self.component) { module in
                try await TorchExecutor.run { try self.run(module, sentences, scales) }
            }
        } catch let error as EngineError {
            throw error
        } catch {
            throw EngineError(code: "speech.failed", message: "the piper voice (pack '\(name)') failed: \(error)")
        }
        return Self.join(sentences: sentences, audio: outputs, sampleRate: config.sampleRate, hop: hop, gain: Float(voice.volume))
    }


    public struct SentenceAudio: Sendable {
        public var samples: [Float]
        public var durations: [Float]
    }

    /// Runs on the torch executor: warm-up once per loaded module, then one forward per sentence.
    func run(_ module: TorchModule, _ sentences: [PiperText.Sentence], _ scales: PiperScales) throws -> [SentenceAudio] {
        try warmUp(module)
        return try sentences.map { s in
            TorchRuntime.manualSeed(Self.seed(for: s.ids))
            return try Self.forward(module, ids: s.ids, scales: scales)
        }
    }

    /// The first forward of a fresh module costs seconds (oneDNN primitives): pay it at load, on a short input.
    func warmUp(_ module: TorchModule) throws {
        if warmed.withLock({ $0 === module }) { return }
        _ = try Self.forward(module, ids: [1, 0, 20, 0, 59, 0, 24, 0, 2], scales: PiperScales(noiseScale: 0, lengthScale: 1, noiseW: 0))
        warmed.withLock { $0 = module }
    }

    /// One forward: ids [1, T] → (audio, per-id frame durations).
    public static func forward(_ module: TorchModule, ids: [Int], scales: PiperScales) throws -> SentenceAudio {
        let input = try Tensor(ids.map(Int64.init), shape: [1, ids.count])
        let out = try module.forward([.tensor(input), .double(scales.noiseScale), .double(scales.lengthScale), .double(scales.noiseW)])
        guard out.count == 2 else {
            throw EngineError(code: "speech.failed", message: "the piper synthesizer returned \(out.count) tensors, not (audio, durations)")
        }
        return SentenceAudio(samples: try out[0].scalars(as: Float.self, convert: true), durations: try out[1].scalars(as: Float.self, convert: true))
    }

    /// Per-sentence noise seed: the fixed seed and the sentence's ids (the same sentence sounds the same
    /// wherever it appears).
    public static func seed(for ids: [Int]) -> UInt64 {
        SeededRandom.hash(ids.map(String.init).joined(separator: ","), seed: seed)
    }

    /// Sentences end to end with `sentencePause` of silence between them and faded edges; words placed by the
    /// frames before them.
    static func join(sentences: [PiperText.Sentence], audio: [SentenceAudio], sampleRate: Int, hop: Int, gain: Float) -> Narration {
        var samples: [Float] = []
        var words: [Narration.Word] = []
        let pause = Int(Self.sentencePause * Double(sampleRate))
        let fade = max(1, Int(Self.edgeFade * Double(sampleRate)))
        for (k, (sentence, out)) in zip(sentences, audio).enumerated() {
            if k > 0 { samples += [Float](repeating: 0, count: pause) }
            let offset = samples.count
            var chunk = out.samples
            let n = chunk.count
            for i in 0..<min(fade, n / 2) {
                let g = Float(i) / Float(fade)
                chunk[i] *= g
                chunk[n - 1 - i] *= g
            }
            samples += chunk.map { max(-1, min(1, $0 * gain)) }
            // Frames before each id: a prefix sum of the durations.
            var before = [0.0]
            for d in out.durations { before.append(before.last! + Double(d)) }
            let seconds = Double(hop) / Double(sampleRate)
            let total = Double(n) / Double(sampleRate)
            for w in sentence.words where !w.text.isEmpty {
                let lo = min(w.ids.lowerBound, before.count - 1), hi = min(w.ids.upperBound, before.count - 1)
                let start = Double(offset) / Double(sampleRate) + min(before[lo] * seconds, total)
                let end = Double(offset) / Double(sampleRate) + min(before[hi] * seconds, total)
                words.append(Narration.Word(text: w.text, start: start, end: max(start, end)))
            }
        }
        return Narration(sampleRate: sampleRate, samples: samples, words: words)
    }
}
