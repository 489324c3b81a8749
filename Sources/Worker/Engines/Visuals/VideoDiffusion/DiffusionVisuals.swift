import Dispatch
import Engines
import Foundation
import Manifest
import Media
import Synchronization
import TorchRuntime

/// The `diffusion` visuals engine: flow-matching latent video diffusion through libtorch, section by section.
///
/// In the visuals stage: first, for all of the job's scenes at once (`prepare`), the text encoder (prompt and the
/// empty negative prompt), then the VAE encoder for the scenes with an image; then scene by scene the denoiser
/// for every step of every section. Each is a use of the model manager, which keeps one component resident, so
/// peak memory is the largest component and each component loads once per job, not once per scene.
/// The latents (small: 48x or more smaller than the frames) are kept; frames are decoded later, a chunk at a
/// time, as the composition pulls them through a `FrameStream` (VAE decoder).
public struct DiffusionVisuals: VisualsEngine {
    public let store: ModelStore
    public let manager: ModelManager
    /// Memory a component may take when loaded; nil: MemAvailable on the CPU, unchecked on CUDA.
    public let memoryLimitBytes: Int64?

    /// The manager's device (read once: the manager is an actor).
    public let device: Device
    /// What `prepare` computed for each scene (text embeddings, image latents), taken by `source`.
    let prepared = Prepared()

    public init(store: ModelStore, manager: ModelManager, device: Device = .preferred, memoryLimitBytes: Int64? = nil) {
        self.store = store
        self.manager = manager
        self.device = device
        self.memoryLimitBytes = memoryLimitBytes
    }

    public var identity: EngineIdentity { EngineIdentity(name: "diffusion", version: "1") }

    public func prepare(_ scenes: [SceneCanvas]) async {
        prepared.clear()
        let plans = scenes.compactMap { try? plan(for: $0) }  // a scene that cannot be planned fails in `source`
        for (_, group) in Dictionary(grouping: plans, by: { $0.pack.name }).sorted(by: { $0.key < $1.key }) {
            let pack = group[0].pack
            do {
                let tokenizer = try Tokenizer(settings: group[0].settings.text, packDirectory: pack.directory)
                try checkMemory(pack, ["text_encoder"] + (group.contains { $0.scene.image != nil } ? ["vae_encoder"] : []))
                try await withComponent(pack.name, "text_encoder") { encoder in
                    for p in group { self.prepared.put(.text, p, try await self.encodeText(p, tokenizer: tokenizer, encoder)) }
                }
                let images = group.filter { $0.scene.image != nil }
                if !images.isEmpty {
                    try await withComponent(pack.name, "vae_encoder") { encoder in
                        for p in images { self.prepared.put(.image, p, try await self.encodeImage(p, encoder)) }
                    }
                }
            } catch {
                continue  // `source` redoes the work scene by scene and reports the error with its scene
            }
        }
    }

    public func picture(for scene: SceneCanvas, progress: @Sendable (Double) -> Void) async throws(EngineError) -> ScenePicture {
        do {
            let plan = try plan(for: scene)
            let (latents, _) = try await generate(plan, progress: progress)
            return .frames(frameStream(plan, latents))
        } catch {
            throw EngineError(code: "visuals.\(error.code)", message: error.message,
                              field: error.code == "pack_missing" || error.code == "pack" ? "scenes[\(scene.index)].visuals.pack" : nil)
        }
    }

    // MARK: - generation

    /// Per-step and per-section wall times of the last generation (for the benchmark).
    public struct Stats: Sendable {
        public var stepSeconds: [Double] = []
        /// The denoiser call alone, per step (the rest of a step is Swift: tensors in, guidance, Euler).
        public var forwardSeconds: [Double] = []
        public var sectionSeconds: [Double] = []
        public var textSeconds = 0.0
        public var imageSeconds = 0.0
    }

    /// The scene's latent frames, each `channels * h * w` floats (channel-major).
    public struct Latents: Sendable {
        public var frames: [[Float]]
        public var channels: Int
        public var height: Int
        public var width: Int
    }

    public func generate(_ plan: Plan, progress: @Sendable (Double) -> Void) async throws(EngineFailure) -> (Latents, Stats) {
        let p = plan
        let tokenizer = try Tokenizer(settings: p.settings.text, packDirectory: p.pack.directory)
        try checkMemory(p.pack, ["text_encoder", "denoiser", "vae_decoder"] + (p.scene.image == nil ? [] : ["vae_encoder"]))
        do { return try await sample(p, tokenizer: tokenizer, progress: progress) } catch let e as EngineFailure { throw e } catch {
            throw EngineFailure("model", "\(error)")
        }
    }

    private func sample(_ p: Plan, tokenizer: Tokenizer, progress: @Sendable (Double) -> Void) async throws -> (Latents, Stats) {
        var stats = Stats()
        let pack = p.pack.name
        let c = p.settings.latent.channels, h = p.latentHeight, w = p.latentWidth, hw = h * w
        let cfg = p.guidance > 1
        let batch = Self.batch(p)

        // 1. Text: prompt and (for guidance) the empty negative prompt, one batch (`prepare` did it for the job).
        var clock = ContinuousClock.now
        let text: Tensor
        if let t = prepared.take(.text, p) { text = t } else {
            text = try await withComponent(pack, "text_encoder") { try await encodeText(p, tokenizer: tokenizer, $0) }
        }
        stats.textSeconds = (ContinuousClock.now - clock).seconds

        // 2. Image-to-video: the scene image through the VAE encoder conditions the first section.
        var startLatent: [Float]?
        if p.scene.image != nil {
            clock = ContinuousClock.now
            if let z = prepared.take(.image, p) { startLatent = try z.scalars(as: Float.self, convert: true) } else {
                let z = try await withComponent(pack, "vae_encoder") { try await encodeImage(p, $0) }
                startLatent = try z.scalars(as: Float.self, convert: true)
            }
            stats.imageSeconds = (ContinuousClock.now - clock).seconds
        }

        // 3. The denoiser, every step of every section, in one residency.
        let sec = p.settings.sections
        let win = sec.window, kr = sec.recent, ko = sec.old, group = sec.oldGroup
        let sigmas = FlowMatch.sigmas(steps: p.steps, shift: p.settings.scheduler.shift)
        let scale = p.settings.scheduler.timestepScale
        let totalSteps = Double(p.sections * p.steps)
        var history: [[Float]] = []
        history.reserveCapacity(p.sections * win)
        try await withComponent(pack, "denoiser") { (denoiser: TorchModule) async throws in
            for s in 0..<p.sections {
                let sectionStart = ContinuousClock.now
                let base = s * win
                // Packed context, nearest first: `recent` frames as they are; `old` slots each the mean of a group.
                var mask: [Float] = [startLatent == nil ? 0 : 1]
                var recentFrames: [[Float]?] = []
                for k in 0..<kr {
                    let i = base - 1 - k
                    recentFrames.append(i >= 0 ? history[i] : nil)
                    mask.append(i >= 0 ? 1 : 0)
                }
                var oldFrames: [[Float]?] = []
                for j in 0..<ko {
                    let hi = base - kr - j * group, lo = max(0, hi - group)
                    if hi <= 0 { oldFrames.append(nil); mask.append(0); continue }
                    var mean = [Float](repeating: 0, count: c * hw)
                    for i in lo..<hi { for q in 0..<mean.count { mean[q] += history[i][q] } }
                    let inv = 1 / Float(hi - lo)
                    for q in 0..<mean.count { mean[q] *= inv }
                    oldFrames.append(mean)
                    mask.append(1)
                }
                let startT = try Tensor(Self.repeated(startLatent ?? [Float](repeating: 0, count: c * hw), batch), shape: [batch, c, 1, h, w])
                let recentT = try Tensor(Self.repeated(Self.pack(recentFrames, channels: c, hw: hw), batch), shape: [batch, c, kr, h, w])
                let oldT = try Tensor(Self.repeated(Self.pack(oldFrames, channels: c, hw: hw), batch), shape: [batch, c, ko, h, w])
                let maskT = try Tensor(Self.repeated(mask, batch), shape: [batch, mask.count])

                var noise = GaussianNoise(seed: SeededRandom.hash("section \(s)", seed: p.seed))
                var x = noise.sample(c * win * hw)  // (C, window, h, w) at sigma = 1
                var firstNoise: [Float]?
                if startLatent != nil && s == 0 {
                    var eps: [Float] = []
                    for ch in 0..<c { eps.append(contentsOf: x[(ch * win * hw)..<(ch * win * hw + hw)]) }
                    firstNoise = eps
                }
                for i in 0..<p.steps {
                    let stepStart = ContinuousClock.now
                    let sigma = sigmas[i], next = sigmas[i + 1]
                    let xT = try Tensor(Self.repeated(x, batch), shape: [batch, c, win, h, w])
                    let tT = try Tensor([Float](repeating: Float(sigma * scale), count: batch), shape: [batch])
                    let forwardStart = ContinuousClock.now
                    let out = try await denoiser.callAsync("forward", [.tensor(xT), .tensor(tT), .tensor(text), .tensor(startT), .tensor(recentT), .tensor(oldT), .tensor(maskT)])
                    stats.forwardSeconds.append((ContinuousClock.now - forwardStart).seconds)
                    guard let vt = out.first, vt.count == batch * x.count else {
                        throw EngineFailure("pack", "model pack '\(pack)': the denoiser returned \(out.first?.shape ?? []), expected [\(batch), \(c), \(win), \(h), \(w)]")
                    }
                    let v = try vt.scalars(as: Float.self, convert: true)
                    let velocity = batch == 1 ? v : cfg ? FlowMatch.guide(v, guidance: p.guidance) : Array(v.prefix(x.count))
                    FlowMatch.euler(&x, velocity, dt: next - sigma)
                    // Image-to-video: the first latent frame is the image's, noised to the current level (it is
                    // exactly the image latent at sigma 0), so the scene starts on the picture.
                    if let z = startLatent, let eps = firstNoise {
                        let a = Float(1 - next), b = Float(next)
                        for ch in 0..<c {
                        let xo = ch * win * hw, zo = ch * hw
                        for q in 0..<hw {
                            let zi: Float = z[zo + q], ei: Float = eps[zo + q]
                            x[xo + q] = a * zi + b * ei
                        }
                    }
                    }
                    stats.stepSeconds.append((ContinuousClock.now - stepStart).seconds)
                    progress(Double(s * p.steps + i + 1) / totalSteps)
                }
                for t in 0..<win where history.count < p.latentFrames {
                    var frame: [Float] = []
                    frame.reserveCapacity(c * hw)
                    for ch in 0..<c {
                        let o = ch * win * hw + t * hw
                        frame.append(contentsOf: x[o..<(o + hw)])
                    }
                    history.append(frame)
                }
                stats.sectionSeconds.append((ContinuousClock.now - sectionStart).seconds)
            }
        }
        return (Latents(frames: history, channels: c, height: h, width: w), stats)
    }

    /// Traced packs take a fixed batch; with batch 2 and no guidance the conditional half is used.
    static func batch(_ p: Plan) -> Int { p.settings.trace?.batch ?? (p.guidance > 1 ? 2 : 1) }

    /// The prompt and (for batch 2) the empty negative prompt through the text encoder, kept on the CPU.
    func encodeText(_ p: Plan, tokenizer: Tokenizer, _ encoder: TorchModule) async throws -> Tensor {
        let batch = Self.batch(p)
        let ids = tokenizer.encode(p.scene.prompt ?? "") + (batch == 2 ? tokenizer.encode("") : [])
        let idTensor = try Tensor(ids, shape: [batch, p.settings.text.maxTokens])
        return try await encoder.callAsync("forward", [.tensor(idTensor)])[0].to(.cpu)
    }

    /// The scene image's latent through the VAE encoder, [1, C, 1, h, w] on the CPU.
    func encodeImage(_ p: Plan, _ encoder: TorchModule) async throws -> Tensor {
        guard let image = p.scene.image else { throw EngineFailure("image", "scene \(p.scene.index) has no image") }
        let rgb: [UInt8]
        do { rgb = try MediaReader.rgbFrame(image, width: p.genWidth, height: p.genHeight) } catch {
            throw EngineFailure("image", "scene image \(image) could not be read for image-to-video: \(error)")
        }
        let hwImg = p.genWidth * p.genHeight
        let pixels = try Tensor(shape: [1, 3, 1, p.genHeight, p.genWidth], of: Float.self) { i in
            let ch = i / hwImg, pos = i % hwImg
            return Float(rgb[pos * 3 + ch]) / 127.5 - 1
        }
        let z = try await encoder.callAsync("forward", [.tensor(pixels)])[0]
        let (c, h, w) = (p.settings.latent.channels, p.latentHeight, p.latentWidth)
        guard z.shape == [1, c, 1, h, w] else {
            throw EngineFailure("pack", "model pack '\(p.pack.name)': vae_encoder returned \(z.shape), expected [1, \(c), 1, \(h), \(w)]")
        }
        return try z.to(.cpu)
    }

    /// Per-scene encoder outputs from `prepare`, until `source` takes them. Keyed by what determines them (scene,
    /// pack, prompt or image, sizes), so a stale or another job's entry can never be taken for the wrong input.
    final class Prepared: Sendable {
        enum Kind { case text, image }
        private let entries = Mutex<[String: Tensor]>([:])
        func key(_ kind: Kind, _ p: Plan) -> String {
            switch kind {
            case .text: "text|\(p.scene.index)|\(p.pack.identity)|\(DiffusionVisuals.batch(p))|\(p.scene.prompt ?? "")"
            case .image: "image|\(p.scene.index)|\(p.pack.identity)|\(p.genWidth)x\(p.genHeight)|\(p.scene.image ?? "")"
            }
        }
        func put(_ kind: Kind, _ p: Plan, _ t: Tensor) { entries.withLock { $0[key(kind, p)] = t } }
        func take(_ kind: Kind, _ p: Plan) -> Tensor? { entries.withLock { $0.removeValue(forKey: key(kind, p)) } }
        func clear() { entries.withLock { $0.removeAll() } }
    }

    /// One use of a pack component through the manager, with load failures told as the engine's errors.
    func withComponent<R>(_ pack: String, _ component: String, _ body: (TorchModule) async throws -> R) async throws -> R {
        do {
            return try await manager.withModel(pack: pack, component: component, body)
        } catch let e as ModelPackError {
            if case .loadFailed(_, _, _, let t) = e, t.code == .outOfMemory {
                throw EngineFailure("out_of_memory", "\(e.description); free memory (another job or program may hold it) or use a smaller pack")
            }
            if case .doesNotFit = e { throw EngineFailure("out_of_memory", e.description) }
            throw EngineFailure("pack", e.description)
        } catch let e as TorchError {
            if e.code == .outOfMemory {
                var failure = EngineFailure("out_of_memory", "model pack '\(pack)': \(component) ran out of memory (\(e.message)); use a smaller output or a smaller pack")
                failure.outOfMemoryInStep = true
                throw failure
            }
            throw EngineFailure("model", "model pack '\(pack)': \(component) failed: \(e.description)")
        }
    }

    /// Refuses up front when a component's estimate exceeds what is free: a clear error instead of a killed daemon.
    func checkMemory(_ pack: ModelPack, _ components: [String]) throws(EngineFailure) {
        if let m = MemoryFit.firstMisfit(pack, components, device: device, limitBytes: memoryLimitBytes) {
            throw EngineFailure("out_of_memory", "model pack '\(pack.name)': component \(m.component) needs about \(m.needBytes >> 20) MiB "
                                + "(pack.json estimate) but only \(m.availableBytes >> 20) MiB are available; free memory, run on a machine with more, "
                                + "or use a smaller pack")
        }
    }

    /// Frames (each channel-major C*h*w, nil = zeros) to one (C, K, h, w) block.
    static func pack(_ frames: [[Float]?], channels c: Int, hw: Int) -> [Float] {
        let k = frames.count
        var out = [Float](repeating: 0, count: c * k * hw)
        for (j, f) in frames.enumerated() {
            guard let f else { continue }
            for ch in 0..<c {
                let dst = ch * k * hw + j * hw
                out.replaceSubrange(dst..<(dst + hw), with: f[(ch * hw)..<((ch + 1) * hw)])
            }
        }
        return out
    }

    static func repeated(_ v: [Float], _ n: Int) -> [Float] {
        n == 1 ? v : Array([[Float]](repeating: v, count: n).joined())
    }

}
