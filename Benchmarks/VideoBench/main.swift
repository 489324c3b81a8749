// VideoBench: the diffusion engine on a pack, outside the pipeline, printing one JSON object.
//
//   VideoBench bench --models DIR [--pack tiny-video] [--frames 23] [--fps 16] [--steps 6] [--guidance 4]
//                    [--width 128] [--height 80] [--threads 1] [--rounds 3]
//       seconds per denoising step and per section (best round's median), plus the plan (sections, shapes).
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
let manager = ModelManager(store: store, device: .cpu)
let engine = DiffusionVisuals(store: store, manager: manager, device: .cpu)
let visuals: [String: Any] = ["engine": "diffusion", "style": "soft", "pack": opt("pack", "tiny-video"), "steps": Int(opt("steps", "6"))!,
                              "guidance": Double(opt("guidance", "4"))!, "seed": 7]
let decoded = try JSONDecoder().decode(JobManifest.Visuals.self, from: JSONSerialization.data(withJSONObject: visuals))
let scene = SceneCanvas(index: 0, width: Int(opt("width", "128"))!, height: Int(opt("height", "80"))!, fps: Int(opt("fps", "16"))!,
                        frames: Int(opt("frames", "23"))!, prompt: "a red sun over the sea", image: opts["image"], visuals: decoded, jobSeed: 1)

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
    case "rss":
        guard case .frames(let stream) = try engine.picture(for: scene, progress: { _ in }) else { fatalError("not frames") }
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
            let (_, stats) = try engine.generate(plan, progress: { _ in })
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
