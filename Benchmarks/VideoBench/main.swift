// VideoBench: the diffusion engine on a pack, outside the pipeline, printing one JSON object.
//
//   VideoBench bench --models DIR [--pack tiny-video] [--frames 23] [--fps 16] [--steps 6] [--guidance 4]
//                    [--width 128] [--height 80] [--threads 1] [--rounds 3]
//       seconds per denoising step and per section (best round's median), plus the plan (sections, shapes).
//   VideoBench step --models DIR --pack NAME --width W --height H --frames N --fps F [--steps 1] [--reps 2]
//                   [--device cpu|cuda] [--dump DIR]
//       the engine's own sampler (`generate`, text encoder and denoiser kept resident) `reps` times; per-step and
//       per-forward seconds, process CPU seconds, peak memory beside the pack's estimate; with --dump, the step's
//       inputs (noise, text embeddings) and the engine's output latents as raw float32 for
//       Benchmarks/wan_step_bench.py, which runs the same step in Python torch and compares.
//   VideoBench rss --models DIR [--frames N] [--image PNG] ...
//       renders one scene (denoise + decode every frame, frames discarded) in this fresh process and prints its
//       peak RSS: the largest of the model manager's per-use peaks and the window still open at the end.
//
// Benchmarks/video-bench.sh runs `bench` beside Benchmarks/video_bench.py (the same TorchScript denoiser driven
// by a Python loop) and prints the ratio.
import Engines
import Foundation
import Manifest
import Media
import TorchRuntime
import VideoDiffusion

let argv = Array(CommandLine.arguments.dropFirst())
let mode = argv.first ?? "bench"
let opts: [String: String] = {
    var out: [String: String] = [:]
    var rest = ArraySlice(argv.dropFirst())
    while let key = rest.first, key.hasPrefix("--"), rest.count >= 2 {
        out[String(key.dropFirst(2))] = rest[rest.startIndex + 1]
        rest = rest.dropFirst(2)
    }
    return out
}()
@MainActor func opt(_ k: String, _ d: String) -> String { opts[k] ?? d }
guard let models = opts["models"] else {
    FileHandle.standardError.write(Data("usage: VideoBench bench|rss --models DIR [--frames N] [--steps N] ...\n".utf8))
    exit(2)
}
TorchRuntime.threads = Int(opt("threads", "1"))!

let store = ModelStore(root: URL(fileURLWithPath: models))
let device: Device = opts["device"].flatMap { Device($0) } ?? .cpu
// `step` keeps the text encoder and the denoiser resident together (a budget larger than both), so repetitions
// time the step, not reloads; the other modes keep the engine's one-component discipline.
let manager = ModelManager(store: store, device: device, memoryBudgetBytes: mode == "step" ? Int64(1) << 50 : nil)
let engine = DiffusionVisuals(store: store, manager: manager, device: device, memoryLimitBytes: mode == "step" ? Int64(1) << 50 : nil)
let visuals: [String: Any] = ["engine": "diffusion", "style": "soft", "pack": opt("pack", "tiny-video"), "steps": Int(opt("steps", "6"))!,
                              "guidance": Double(opt("guidance", "4"))!, "seed": 7]
let decoded = try JSONDecoder().decode(JobManifest.Visuals.self, from: JSONSerialization.data(withJSONObject: visuals))
let scene = SceneCanvas(index: 0, width: Int(opt("width", "128"))!, height: Int(opt("height", "80"))!, fps: Int(opt("fps", "16"))!,
                        frames: Int(opt("frames", "23"))!, prompt: "a red sun over the sea", image: opts["image"], visuals: decoded, jobSeed: 1)

/// User + system CPU seconds of this process (all threads): steadier than wall time on a shared machine.
func processCPUSeconds() -> Double {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
}

func median(_ v: [Double]) -> Double { let s = v.sorted(); return s.isEmpty ? 0 : s[s.count / 2] }

/// Runs async work to completion from top-level code (this tool has nothing else to do meanwhile).
func wait<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let box = LockedBox<Result<T, any Error>>()
    let sem = DispatchSemaphore(value: 0)
    Task.detached { do { box.value = .success(try await body()) } catch { box.value = .failure(error) }; sem.signal() }
    sem.wait()
    return try box.value!.get()
}

final class LockedBox<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var v: T?
    var value: T? { get { lock.lock(); defer { lock.unlock() }; return v } set { lock.lock(); v = newValue; lock.unlock() } }
}

do {
    let plan = try engine.plan(for: scene)
    var report: [String: Any] = [
        "pack": plan.pack.name, "sections": plan.sections, "steps": plan.steps, "guidance": plan.guidance,
        "latent_frames": plan.latentFrames, "window": plan.settings.sections.window,
        "latent_shape": [plan.settings.latent.channels, plan.settings.sections.window, plan.latentHeight, plan.latentWidth],
        "generation": [plan.genWidth, plan.genHeight], "threads": TorchRuntime.threads, "libtorch": TorchRuntime.version,
    ]
    switch mode {
    case "step":
        var rounds: [[String: Double]] = []
        var latents: DiffusionVisuals.Latents?
        for _ in 0..<Int(opt("reps", "2"))! {
            let cpu0 = processCPUSeconds()
            let (lat, stats) = try await engine.generate(plan, progress: { _ in })
            rounds.append(["step_s": stats.stepSeconds.first ?? 0, "forward_s": stats.forwardSeconds.first ?? 0,
                           "generate_cpu_s": processCPUSeconds() - cpu0, "text_s": stats.textSeconds])
            latents = lat
        }
        let uses = try wait { await manager.drainRecords() }
        report["rounds"] = rounds
        report["load_s"] = Dictionary(uses.filter(\.loaded).map { ($0.component, $0.loadSeconds) }, uniquingKeysWith: +)
        report["peak_memory_bytes"] = TorchRuntime.memory(on: device).peakBytes
        report["peak_rss_bytes"] = TorchRuntime.memory(on: .cpu).peakBytes
        report["estimate_bytes"] = plan.pack.memoryEstimate(of: "denoiser")
        report["device"] = "\(device)"
        report["timestep_scale"] = plan.settings.scheduler.timestepScale
        report["shift"] = plan.settings.scheduler.shift
        if let dir = opts["dump"], let lat = latents {
            // The step's inputs, derived as the engine derives them (section 0's seeded noise; prompt and empty
            // prompt through the pack's tokenizer and text encoder), and its output in (C, T, h, w) order.
            let (c, h, w, win) = (lat.channels, lat.height, lat.width, plan.settings.sections.window)
            var noise = GaussianNoise(seed: SeededRandom.hash("section 0", seed: plan.seed))
            let x0 = noise.sample(c * win * h * w)
            let tokenizer = try Tokenizer(settings: plan.settings.text, packDirectory: plan.pack.directory)
            let batch = plan.settings.trace?.batch ?? (plan.guidance > 1 ? 2 : 1)
            let ids = tokenizer.encode(scene.prompt ?? "") + (batch == 2 ? tokenizer.encode("") : [])
            let text: [Float] = try wait {
                try await manager.withModel(pack: plan.pack.name, component: "text_encoder") { enc in
                    let t = try Tensor(ids, shape: [batch, plan.settings.text.maxTokens])
                    return try await enc.callAsync("forward", [.tensor(t)])[0].to(.cpu).scalars(as: Float.self, convert: true)
                }
            }
            var x1 = [Float](repeating: 0, count: c * win * h * w)
            for t in 0..<min(win, lat.frames.count) {
                for ch in 0..<c { for q in 0..<(h * w) { x1[ch * win * h * w + t * h * w + q] = lat.frames[t][ch * h * w + q] } }
            }
            let folder = URL(fileURLWithPath: dir)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for (name, v) in [("x0", x0), ("text", text), ("x1", x1)] {
                try v.withUnsafeBytes { Data($0) }.write(to: folder.appendingPathComponent(name + ".f32"))
            }
            report["dump"] = dir
            report["text_shape"] = [batch, plan.settings.text.maxTokens, text.count / max(1, batch * plan.settings.text.maxTokens)]
        }
    case "rss":
        guard case .frames(let stream) = try await engine.picture(for: scene, progress: { _ in }) else { fatalError("not frames") }
        let it = try stream.makeIterator()
        var frames = 0
        while try it.next() != nil { frames += 1 }
        let uses = try wait { await manager.drainRecords() }
        report["frames"] = frames
        var byComponent: [String: Int64] = [:]
        for u in uses { byComponent[u.component] = max(byComponent[u.component] ?? 0, u.peakMemoryBytes) }
        report["peak_rss_bytes_by_component"] = byComponent
        report["peak_rss_bytes"] = (uses.map(\.peakMemoryBytes) + [TorchRuntime.memory(on: .cpu).peakBytes]).max()!
        report["max_resident"] = try wait { await manager.maxResident }
    default:
        var best: (step: Double, section: Double)?
        var rounds: [[String: Double]] = []
        for _ in 0..<Int(opt("rounds", "3"))! {
            let (_, stats) = try await engine.generate(plan, progress: { _ in })
            // The first section's first step includes the denoiser's warm-up: leave it out of the median.
            let step = median(Array(stats.stepSeconds.dropFirst())), section = median(stats.sectionSeconds)
            rounds.append(["step_s": step, "section_s": section, "text_s": stats.textSeconds,
                           "forward_s": median(Array(stats.forwardSeconds.dropFirst()))])
            if best == nil || step < best!.step { best = (step, section) }
        }
        report["rounds"] = rounds
        report["step_s"] = best!.step
        report["section_s"] = best!.section
    }
    let data = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
} catch {
    FileHandle.standardError.write(Data("VideoBench: \(error)\n".utf8))
    exit(1)
}
