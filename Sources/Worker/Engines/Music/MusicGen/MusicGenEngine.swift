import Dispatch
import Engines
import Foundation
import Manifest
import Synchronization
import TorchRuntime
import VideoDiffusion

/// The `musicgen` music engine: `music: {engine: musicgen, pack: NAME, prompt, mood, seed, guidance, temperature}`.
///
/// Text (the prompt, else one made from the mood) -> the pack's T5 `text_encoder` -> the codebook `decoder`,
/// window by window (each window continues from the last `prompt_frames` of the one before, so any length
/// takes one window's memory) with MusicGen's delay pattern, its KV cache and classifier-free guidance in one
/// batch -> the EnCodec `codec_decoder`, chunk by chunk with crossfades -> resampled to the job's rate, stereo,
/// faded in and out, exactly `frames` long. Each component is one use of the shared ModelManager (one model
/// resident at a time): the encoder once, the decoder for every window, then the codec.
/// `bed` and `effect` block until the model work is done: call them from a thread of your own (the pipeline's),
/// never from the cooperative pool, whose threads the model work needs.
public final class MusicGenEngine: MusicEngine {
    public static let version = "1"
    public static let exportCommand = "Tools/export/export-musicgen"

    public let store: ModelStore
    public let manager: ModelManager

    /// What the last `bed` did, for benchmarks and tests.
    public struct Report: Sendable, Equatable {
        public var windows = 0
        public var frames = 0
        public var decoderCalls = 0
        public var generateSeconds = 0.0
        /// Process CPU time of the decoding (on a shared machine, steadier than wall time).
        public var generateCPUSeconds = 0.0
        public var decodeSeconds = 0.0
        public var textTokens = 0
    }
    private let lastReport = Mutex(Report())
    public var report: Report { lastReport.withLock { $0 } }

    /// The manager's device (an actor's, read once here); on the CPU each component's pack.json estimate is
    /// checked against MemAvailable before a bed starts.
    public let device: Device
    /// Overrides MemAvailable for that check (tests, a daemon's budget).
    public let memoryLimitBytes: Int64?

    public init(store: ModelStore, manager: ModelManager, device: Device = .preferred, memoryLimitBytes: Int64? = nil) {
        self.store = store; self.manager = manager; self.device = device; self.memoryLimitBytes = memoryLimitBytes
    }

    public convenience init(models: URL, memoryLimitBytes: Int64? = nil) {
        let store = ModelStore(root: models)
        self.init(store: store, manager: ModelManager(store: store, device: .cpu), device: .cpu, memoryLimitBytes: memoryLimitBytes)
    }

    public var identity: EngineIdentity { EngineIdentity(name: "musicgen", version: Self.version) }

    public func identity(for music: JobManifest.Music) -> EngineIdentity {
        var id = identity
        id.packHash = music.pack.flatMap { try? store.pack(named: $0).identity }
        return id
    }

    // MARK: - the pack

    /// The pack and its MusicGen settings, or an error naming the pack and what to do.
    public func pack(named name: String?) throws(MusicGenError) -> (ModelPack, MusicGenSettings) {
        guard let name, !name.isEmpty else {
            throw MusicGenError("pack_missing", "the musicgen engine needs music.pack: the name of an installed music pack (see `prostudio models list`)")
        }
        let root = store.root.path
        let pack: ModelPack
        do { pack = try store.pack(named: name) } catch {
            switch error {
            case .modelsFolderMissing, .packNotFound:
                throw MusicGenError("pack_missing", "music pack '\(name)' is not installed in \(root): export one with " +
                                    "`\(Self.exportCommand) --from CHECKPOINT --out \(root)` (or `--tiny` for a test pack) and render with `--models \(root)`")
            default:
                throw MusicGenError("pack_invalid", "\(error)")
            }
        }
        guard pack.kind == .music, pack.manifest.architecture == MusicGenSettings.architecture else {
            throw MusicGenError("pack_invalid", "model pack '\(name)' is a \(pack.kind.rawValue) pack of architecture " +
                                "'\(pack.manifest.architecture)', not a musicgen music pack (kind music, architecture musicgen)")
        }
        let settings: MusicGenSettings
        do { settings = try JSONDecoder().decode(MusicGenSettings.self, from: pack.json) } catch {
            throw MusicGenError("pack_invalid", "model pack '\(name)': pack.json lacks the musicgen fields (text, musicgen, hop_length, ...): \(error); re-export it with \(Self.exportCommand)")
        }
        let problems = settings.problems()
        guard problems.isEmpty else {
            throw MusicGenError("pack_invalid", "model pack '\(name)': \(problems.joined(separator: "; ")); re-export it with \(Self.exportCommand)")
        }
        return (pack, settings)
    }

    /// The text the model is conditioned on: the prompt, else one made from the mood and the job's title.
    public static func prompt(for music: JobManifest.Music) -> String {
        if let p = music.prompt?.trimmingCharacters(in: .whitespacesAndNewlines), !p.isEmpty { return p }
        let mood: String = switch music.mood {
        case .calm: "calm, gentle ambient piano and soft strings"
        case .uplifting: "uplifting, bright acoustic guitar and light drums"
        case .dramatic: "dramatic, epic orchestral strings and drums"
        case .mysterious: "mysterious, dark ambient synth pads"
        case .playful: "playful, upbeat pizzicato strings and xylophone"
        case .melancholy: "melancholy, slow sad piano"
        }
        let title = music.title?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        return "\(mood), instrumental background music" + (title.isEmpty ? "" : " for \"\(title)\"")
    }

    /// Sampling for a manifest: its guidance, temperature and seed, else the pack's defaults and the job seed.
    public static func sampling(for music: JobManifest.Music, settings: MusicGenSettings, jobSeed: UInt64) -> MusicSampling {
        MusicSampling(guidance: music.guidance ?? settings.musicgen.guidance,
                      temperature: music.temperature ?? settings.musicgen.temperature,
                      topK: settings.musicgen.topK, topP: settings.musicgen.topP, seed: music.seed ?? jobSeed)
    }

    // MARK: - MusicEngine

    public func bed(frames: Int, sampleRate: Int, music: JobManifest.Music, seed: UInt64, emit: @escaping @Sendable ([Float]) -> Void) async throws(EngineError) {
        do {
            let (pack, settings) = try pack(named: music.pack)
            let sampling = Self.sampling(for: music, settings: settings, jobSeed: seed)
            try await render(pack, settings, text: Self.prompt(for: music), frames: frames, sampleRate: sampleRate,
                       sampling: sampling, fadeIn: 0.5, fadeOut: 2, emit: emit)
        } catch {
            throw Self.engineError(error, field: "music.pack")
        }
    }

    public func identity(for sfx: JobManifest.SoundEffect) -> EngineIdentity {
        var id = identity
        id.packHash = try? store.pack(named: sfx.pack).identity
        return id
    }

    /// A scene's effect: the same model path as a bed (an AudioGen-style pack of the same architecture), the
    /// pack's sampling defaults, short fades.
    public func effect(_ sfx: JobManifest.SoundEffect, frames: Int, sampleRate: Int, seed: UInt64) async throws(EngineError) -> [Float] {
        do {
            let (pack, settings) = try pack(named: sfx.pack)
            let g = settings.musicgen
            let sampling = MusicSampling(guidance: g.guidance, temperature: g.temperature, topK: g.topK, topP: g.topP, seed: seed)
            let out = SampleBox()
            try await render(pack, settings, text: sfx.prompt, frames: frames, sampleRate: sampleRate, sampling: sampling,
                       fadeIn: 0.01, fadeOut: min(0.25, Double(frames) / Double(sampleRate) / 4)) { out.append($0) }
            return out.take()
        } catch {
            throw Self.engineError(error, field: "scenes.sfx.pack")
        }
    }

    /// Text -> codes (window by window) -> audio at `sampleRate`, stereo, faded, exactly `frames` long, handed to
    /// `emit` block by block as the codec decodes it (the codes are small; the audio is never held whole).
    func render(_ pack: ModelPack, _ settings: MusicGenSettings, text: String, frames: Int, sampleRate: Int,
                sampling: MusicSampling, fadeIn: Double, fadeOut: Double, emit: @escaping @Sendable ([Float]) -> Void) async throws {
        try checkMemory(pack)
        let tokenizer: Tokenizer
        do { tokenizer = try Tokenizer(settings: settings.text, packDirectory: pack.directory) } catch {
            throw MusicGenError("pack_invalid", "model pack '\(pack.name)': \(error.message)")
        }
        let ids = Self.textIDs(tokenizer, text, pad: settings.text.padID)
        // Enough codec frames to cover the audio (no spare one: 30 s must stay one 1,500-frame window, not open
        // a second for a frame); the resampled audio is cut to exactly `frames`.
        let codecFrames = max(1, (frames * settings.frameRate + sampleRate - 1) / sampleRate)
        let name = pack.name
        let codes = try await generate(pack: name, settings: settings, ids: ids, frames: codecFrames, sampling: sampling)
        let start = ContinuousClock.now
        let fades = Fades.Envelope(frames: frames, sampleRate: sampleRate, fadeIn: fadeIn, fadeOut: fadeOut)
        let writer = BedWriter(frames: frames, from: settings.sampleRate, to: sampleRate, fades: fades, emit: emit)
        try await decode(pack: name, settings: settings, codes: codes) { writer.put($0) }
        writer.finish()
        lastReport.withLock { $0.decodeSeconds = (ContinuousClock.now - start).seconds }
    }

    static func engineError(_ error: any Error, field: String) -> EngineError {
        if let e = error as? MusicGenError {
            return EngineError(code: "music.\(e.code)", message: e.message, field: e.code.hasPrefix("pack") ? field : nil)
        }
        return EngineError(code: "music.model", message: "musicgen: \(error)")
    }

    // MARK: - stages (public for tests and benchmarks)

    /// Token ids for `text` without the tokenizer's right padding (one prompt: transformers pads nothing).
    public static func textIDs(_ tokenizer: Tokenizer, _ text: String, pad: Int) -> [Int64] {
        var ids = tokenizer.encode(text)
        while ids.count > 1, ids.last == Int64(pad) { ids.removeLast() }
        return ids
    }

    /// The T5 states for `ids`: (1, L, D), on the CPU.
    public func encode(pack: String, ids: [Int64]) async throws -> Tensor {
        try await use(pack, "text_encoder") { module in
            let t = try Tensor(ids, shape: [1, ids.count])
            let mask = try Tensor([Int64](repeating: 1, count: ids.count), shape: [1, ids.count])
            return try module.forward([.tensor(t), .tensor(mask)])[0]
        }
    }

    /// `frames` frames of codes (K rows), window by window. With `prompt` (K rows of frames), the first window
    /// continues it as an audio prompt and the prompt is not part of the result.
    public func generate(pack: String, settings: MusicGenSettings, ids: [Int64], frames: Int, sampling: MusicSampling,
                         prompt: [[Int32]]? = nil) async throws -> [[Int32]] {
        let states = try await encode(pack: pack, ids: ids)
        let k = settings.codebooks
        let window = settings.musicgen.windowFrames
        let overlap = settings.musicgen.promptFrames
        let result = try await use(pack, "decoder") { decoder -> ([[Int32]], Int, Int, Double, Double) in
            let start = ContinuousClock.now  // after the load: tokens/s is the decoding alone
            let cpu = Self.processCPUSeconds()
            let mask = try Tensor([Int64](repeating: 1, count: ids.count), shape: [1, ids.count])
            let condition = try CodebookGenerator.condition(decoder, states: states, mask: mask, guided: sampling.guided)
            var sampler = TokenSamplerState(sampling, card: settings.card)
            var codes = [[Int32]](repeating: [], count: k)
            var context = prompt ?? [[Int32]](repeating: [], count: k)
            if let p = prompt, p.count != k || Set(p.map(\.count)).count != 1 || p[0].count >= window {
                throw MusicGenError("invalid_prompt", "an audio prompt needs \(k) rows of equal length under \(window) frames")
            }
            var windows = 0
            var calls = 0
            while codes[0].count < frames {
                let n = min(window - context[0].count, frames - codes[0].count)
                let (w, c) = try CodebookGenerator.window(decoder, condition: condition, prompt: context, newFrames: n,
                                                          settings: settings, sampler: &sampler)
                let p = context[0].count
                for cb in 0..<k { codes[cb].append(contentsOf: w[cb][p...]) }
                windows += 1
                calls += c
                // The next window continues from the last `overlap` frames made so far.
                let keep = min(overlap, codes[0].count)
                context = codes.map { Array($0.suffix(keep)) }
            }
            return (codes, windows, calls, (ContinuousClock.now - start).seconds, Self.processCPUSeconds() - cpu)
        }
        lastReport.withLock {
            $0 = Report(windows: result.1, frames: frames, decoderCalls: result.2, generateSeconds: result.3, generateCPUSeconds: result.4, decodeSeconds: 0,
                        textTokens: ids.count)
        }
        return result.0
    }

    /// The codec's audio (mono, the pack's rate) for `codes`, block by block.
    public func decode(pack: String, settings: MusicGenSettings, codes: [[Int32]], emit: @escaping @Sendable ([Float]) -> Void) async throws {
        let codec = ChunkedCodec(chunkFrames: settings.musicgen.codecChunkFrames, overlapFrames: settings.musicgen.codecOverlapFrames,
                                 hop: settings.hopLength, codebooks: settings.codebooks)
        try await use(pack, "codec_decoder") { module in try codec.decode(module, frames: codes, emit: emit) }
    }

    /// The whole decode in one array (tests).
    public func decodeAll(pack: String, settings: MusicGenSettings, codes: [[Int32]]) async throws -> [Float] {
        let box = Mutex<[Float]>([])
        try await decode(pack: pack, settings: settings, codes: codes) { block in box.withLock { $0 += block } }
        return box.withLock { $0 }
    }

    // MARK: - plumbing

    /// One use of a component on the manager, the work on the torch thread; pack errors said as pack errors.
    private func use<R: Sendable>(_ pack: String, _ component: String, _ body: @escaping @Sendable (TorchModule) throws -> R) async throws -> R {
        do {
            return try await manager.withModel(pack: pack, component: component) { module in
                try await TorchExecutor.run { try body(module) }
            }
        } catch let e as ModelPackError {
            if case .doesNotFit = e { throw MusicGenError("out_of_memory", e.description) }
            throw MusicGenError("pack_invalid", e.description)
        } catch let e as TorchError {
            throw MusicGenError(e.code == .outOfMemory ? "out_of_memory" : "model", "model pack '\(pack)': \(component) failed: \(e.description)")
        }
    }

    /// Refuses up front when a component's estimate exceeds what is free: a clear error, not a killed daemon.
    func checkMemory(_ pack: ModelPack) throws(MusicGenError) {
        if let m = MemoryFit.firstMisfit(pack, ["text_encoder", "decoder", "codec_decoder"], device: device, limitBytes: memoryLimitBytes) {
            throw MusicGenError("out_of_memory", "music pack '\(pack.name)': component \(m.component) needs about \(m.needBytes >> 20) MiB "
                                + "(pack.json estimate) but only \(m.availableBytes >> 20) MiB are available; free memory or use a smaller pack")
        }
    }

    static func processCPUSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }
}

/// The bed being written: codec audio in, resampled, duplicated to stereo, faded, exactly `frames` long, out
/// to `emit` a block at a time (silence after the codec's last sample, should it fall short).
final class BedWriter: Sendable {
    private struct State {
        var written = 0
        var resampler: StreamingResampler
    }
    private let state: Mutex<State>
    let frames: Int
    let fades: Fades.Envelope
    let emit: @Sendable ([Float]) -> Void

    init(frames: Int, from: Int, to: Int, fades: Fades.Envelope, emit: @escaping @Sendable ([Float]) -> Void) {
        self.frames = frames
        self.fades = fades
        self.emit = emit
        state = Mutex(State(resampler: StreamingResampler(from: from, to: to)))
    }

    func put(_ block: [Float]) {
        state.withLock { s in write(s.resampler.process(block), into: &s) }
    }

    func finish() {
        state.withLock { s in
            write(s.resampler.finish(), into: &s)
            while s.written < frames {
                let n = min(Fades.window, frames - s.written)
                var silence = [Float](repeating: 0, count: 2 * n)
                fades.apply(&silence, from: s.written)
                emit(silence)
                s.written += n
            }
        }
    }

    private func write(_ block: [Float], into s: inout State) {
        let n = min(block.count, frames - s.written)
        guard n > 0 else { return }
        var out = [Float](repeating: 0, count: 2 * n)
        for k in 0..<n { out[2 * k] = block[k]; out[2 * k + 1] = block[k] }
        fades.apply(&out, from: s.written)
        s.written += n
        emit(out)
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
