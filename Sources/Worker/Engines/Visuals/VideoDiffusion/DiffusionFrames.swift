import Dispatch
import Engines
import Foundation
import Manifest
import Media
import Synchronization
import TorchRuntime

/// Frames out of a scene's latents, decoded a chunk at a time as the composition pulls them.
extension DiffusionVisuals {
    func frameStream(_ plan: Plan, _ latents: Latents) -> FrameStream {
        let manager = self.manager
        let engine = self
        return FrameStream(width: plan.genWidth, height: plan.genHeight) {
            SceneFrames(engine: engine, plan: plan, latents: latents, manager: manager)
}
    }
}

/// Pulls a scene's frames at the output fps: decodes latent chunks through the VAE decoder as they are
/// needed, keeps at most two chunks of frames, and blends neighbouring native frames when the pack's fps
/// differs from the output's.
final class SceneFrames: FrameIterator {
    let engine: DiffusionVisuals
    let plan: DiffusionVisuals.Plan
    let latents: DiffusionVisuals.Latents
    private var chunks: [Int: [[UInt8]]] = [:]
    private var emitted = 0
    /// How many decoder calls this iterator made (tests check decoding is chunked).
    private(set) var decodeCalls = 0

    init(engine: DiffusionVisuals, plan: DiffusionVisuals.Plan, latents: DiffusionVisuals.Latents, manager: ModelManager) {
        self.engine = engine
        self.plan = plan
        self.latents = latents
    }

    var nativeCount: Int { latents.frames.count * plan.settings.latent.temporalCompression }

    func next() throws -> [UInt8]? {
        guard emitted < plan.scene.frames else { return nil }
        let t = Double(emitted) * plan.settings.fps / Double(plan.scene.fps)
        emitted += 1
        let a = min(Int(t), nativeCount - 1), b = min(a + 1, nativeCount - 1)
        let frac = t - Double(a)
        let fa = try frame(a)
        if frac < 1e-6 || a == b { return fa }
        let fb = try frame(b)
        let wb = Float(frac), wa = 1 - wb
        return [UInt8](unsafeUninitializedCapacity: fa.count) { out, n in
            for i in 0..<fa.count { out[i] = UInt8(min(255, (wa * Float(fa[i]) + wb * Float(fb[i])).rounded())) }
            n = fa.count
        }
    }

    private func frame(_ n: Int) throws -> [UInt8] {
        let tc = plan.settings.latent.temporalCompression
        let per = plan.settings.vae.decodeChunk
        let chunk = (n / tc) / per
        if chunks[chunk] == nil {
            chunks[chunk] = try decode(chunk)
            for k in chunks.keys where k < chunk - 1 { chunks.removeValue(forKey: k) }
        }
        return chunks[chunk]![n - chunk * per * tc]
    }

    /// Latent frames [chunk*per, (chunk+1)*per), decoded. An out-of-memory decodes the same frames in smaller
    /// pieces (halving, down to one latent frame per call) before the job fails; a traced decoder takes a fixed
    /// number of frames, so it gets no smaller piece.
    private func decode(_ chunk: Int) throws -> [[UInt8]] {
        let per = plan.settings.vae.decodeChunk
        let lo = chunk * per, hi = min(latents.frames.count, lo + per)
        if plan.settings.trace?.decodeFrames != nil { return try decode(lo, hi) }
        do {
            return try OutOfMemoryRetry.run(from: hi - lo, what: "latent frames per vae_decoder call",
                                            isOutOfMemory: { ($0 as? EngineFailure)?.outOfMemoryInStep == true }) { piece in
                var frames: [[UInt8]] = []
                for a in stride(from: lo, to: hi, by: piece) { frames += try decode(a, min(hi, a + piece)) }
                return frames
            }
        } catch let e as OutOfMemoryAfterRetries {
            throw EngineFailure("out_of_memory", "model pack '\(plan.pack.name)': vae_decoder \(e.description); free GPU memory "
                                + "(another process may hold it) or render a smaller size")
        }
    }

    /// Latent frames [lo, hi) with `decode_overlap` frames of context before them, decoded.
    private func decode(_ lo: Int, _ hi: Int) throws -> [[UInt8]] {
        let overlap = plan.settings.vae.decodeOverlap
        let tc = plan.settings.latent.temporalCompression
        let from = max(0, lo - overlap), to = hi
        let c = latents.channels, hw = latents.height * latents.width
        var input: [[Float]?] = Array(latents.frames[from..<to])
        // Traced decoders take a fixed number of frames: repeat the first frame in front (where the past is
        // missing) and the last one behind, and drop what they decode to.
        var front = 0
        if let fixed = plan.settings.trace?.decodeFrames {
            front = overlap - (lo - from)
            input = [[Float]?](repeating: input.first!, count: front) + input
            input += [[Float]?](repeating: input.last!, count: max(0, fixed - input.count))
        }
        let count = input.count
        let block = DiffusionVisuals.pack(input, channels: c, hw: hw)
        let shape = [1, c, count, latents.height, latents.width]
        let engine = self.engine, pack = plan.pack.name
        decodeCalls += 1
        let pixels: [Float] = try runBlocking { () async throws -> [Float] in
            let input = try Tensor(block, shape: shape)
            return try await engine.withComponent(pack, "vae_decoder") { vae in
                try await vae.callAsync("forward", [.tensor(input)])[0].scalars(as: Float.self, convert: true)
            }
        }
        let fw = plan.genWidth, fh = plan.genHeight, fhw = fw * fh
        let total = count * tc
        guard pixels.count == 3 * total * fhw else {
            throw EngineFailure("pack", "model pack '\(pack)': vae_decoder returned \(pixels.count) values, expected 3 x \(total) x \(fh) x \(fw)")
        }
        var frames: [[UInt8]] = []
        for f in ((front + lo - from) * tc)..<((front + hi - from) * tc) {
            frames.append([UInt8](unsafeUninitializedCapacity: fhw * 3) { out, n in
                pixels.withUnsafeBufferPointer { px in
                    for ch in 0..<3 {
                        let src = ch * total * fhw + f * fhw
                        for q in 0..<fhw {
                            let v = (px[src + q] + 1) * 127.5
                            out[q * 3 + ch] = UInt8(max(0, min(255, v.rounded())))
                        }
                    }
                }
                n = fhw * 3
            })
        }
        return frames
    }
}

/// Runs async work from the composer's thread, which pulls frames synchronously (Media's `FrameIterator`) while it
/// encodes: the one place an engine still waits for the model manager. The job's own stages are async; this runs
/// inside compose, on the job's thread, never on the cooperative pool.
func runBlocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws(EngineFailure) -> T {
    let box = Mutex<Result<T, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    Task.detached {
        let r: Result<T, any Error>
        do { r = .success(try await body()) } catch { r = .failure(error) }
        box.withLock { $0 = r }
        done.signal()
    }
    done.wait()
    switch box.withLock({ $0 })! {
    case .success(let v): return v
    case .failure(let e as EngineFailure): throw e
    case .failure(let e): throw EngineFailure("model", "\(e)")
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
