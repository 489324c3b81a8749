// PiperBench: real-time factor of a Piper pack through the Swift libtorch runtime, for Tools/export/bench_piper.py
// (which runs it beside onnxruntime on the same sentences and prints the ratio).
//
//   PiperBench MODELS_DIR PACK IDS.json [REPEAT] [TEXT]
//
// IDS.json: [[id, ...], ...], one list per sentence (what piper_phonemize.py makes of the bench paragraph).
// One intra-op thread, graph-executor optimisation off (TorchModule.load's default), the pack's default noise,
// one warm-up call, then REPEAT passes over the sentences, one forward each; the best pass counts.
// With TEXT, also times PiperEngine.narrate(TEXT) end to end (espeak helper + synthesis + join).
// Prints one JSON object: rtf, synth/audio seconds, peak RSS (VmHWM) of this process, load seconds.
import Foundation
import Manifest
import NeuralVoice
import TorchRuntime

@main
struct PiperBench {
    static func main() async throws {
        let args = CommandLine.arguments
        guard args.count >= 4 else {
            FileHandle.standardError.write(Data("usage: PiperBench MODELS_DIR PACK IDS.json [REPEAT] [TEXT]\n".utf8))
            exit(2)
        }
        let models = URL(fileURLWithPath: args[1]), packName = args[2]
        let sentences = try JSONDecoder().decode([[Int]].self, from: Data(contentsOf: URL(fileURLWithPath: args[3])))
        let repeatCount = args.count > 4 ? Int(args[4]) ?? 3 : 3
        let text = args.count > 5 ? args[5] : nil
        TorchRuntime.threads = 1

        let engine = PiperEngine(models: models)
        let (_, config) = try engine.pack(named: packName)
        let voice = PiperEngine.voice(pack: packName)
        let scales = engine.scales(for: voice, config: config)
        let rssBefore = TorchRuntime.memory(on: .cpu).peakBytes

        let t0 = ContinuousClock.now
        let (loadAndWarm, best, bestCPU, samples) = try await engine.manager.withModel(pack: packName, component: PiperEngine.component) { module in
            try await TorchExecutor.run { () throws -> (Double, Double, Double, Int) in
                _ = try PiperEngine.forward(module, ids: sentences[0], scales: scales)  // warm-up
                let warm = (ContinuousClock.now - t0).secondsDouble
                var best = Double.infinity, bestCPU = Double.infinity, samples = 0
                for _ in 0..<max(1, repeatCount) {
                    let start = ContinuousClock.now, cpu0 = cpuSeconds()
                    var n = 0
                    for ids in sentences {
                        TorchRuntime.manualSeed(PiperEngine.seed(for: ids))
                        n += try PiperEngine.forward(module, ids: ids, scales: scales).samples.count
                    }
                    best = min(best, (ContinuousClock.now - start).secondsDouble)
                    bestCPU = min(bestCPU, cpuSeconds() - cpu0)
                    samples = n
                }
                return (warm, best, bestCPU, samples)
            }
        }
        let audio = Double(samples) / Double(config.sampleRate)
        var result: [String: Any] = [
            "backend": "swift-libtorch",
            "torch": TorchRuntime.version,
            "sentences": sentences.count,
            "phoneme_ids": sentences.reduce(0) { $0 + $1.count },
            "audio_seconds": (audio * 1000).rounded() / 1000,
            "synth_seconds": (best * 1000).rounded() / 1000,
            "rtf": (best / audio * 10000).rounded() / 10000,
            "cpu_seconds": (bestCPU * 1000).rounded() / 1000,
            "cpu_rtf": (bestCPU / audio * 10000).rounded() / 10000,
            "load_and_warmup_seconds": (loadAndWarm * 100).rounded() / 100,
            "rss_before_model_bytes": rssBefore,
        ]
        if let text {
            let start = ContinuousClock.now
            let n = try await engine.narrate(text, voice: voice)
            let s = (ContinuousClock.now - start).secondsDouble
            result["narrate_seconds"] = (s * 1000).rounded() / 1000
            result["narrate_audio_seconds"] = (n.duration * 1000).rounded() / 1000
            result["narrate_rtf"] = (s / n.duration * 10000).rounded() / 10000
            result["narrate_words"] = n.words.count
        }
        result["peak_rss_bytes"] = TorchRuntime.memory(on: .cpu).peakBytes
        let json = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
        print(String(decoding: json, as: UTF8.self))
    }
}

extension Duration {
    var secondsDouble: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// CPU time of the whole process (one intra-op thread: the forwards' own time, whatever else runs on the machine).
func cpuSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
