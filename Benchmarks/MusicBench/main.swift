import Foundation
import Manifest
import Synchronization
import MusicGen
import TorchRuntime

/// MusicBench: the musicgen engine on one pack, timed (Benchmarks/music-bench.sh runs it beside transformers).
///
///   MusicBench tokens  MODELS PACK FRAMES GUIDANCE      decoder steps per second (greedy), as JSON
///   MusicBench bed     MODELS PACK SECONDS              a whole bed at 48 kHz: compute seconds and peak RSS, as JSON
@main
struct MusicBench {
    static func main() async throws {
        let args = CommandLine.arguments
        guard args.count >= 5 else {
            FileHandle.standardError.write(Data("usage: MusicBench tokens MODELS PACK FRAMES GUIDANCE | bed MODELS PACK SECONDS\n".utf8))
            exit(2)
        }
        let engine = MusicGenEngine(models: URL(fileURLWithPath: args[2]))
        let pack = args[3]
        switch args[1] {
        case "tokens":
            let frames = Int(args[4])!
            let guidance = args.count > 5 ? Double(args[5])! : 1
            let (_, settings) = try engine.pack(named: pack)
            let ids: [Int64] = [5, 9, 1]
            // Warm-up (load and first shapes), then the timed run on the loaded decoder.
            _ = try await engine.generate(pack: pack, settings: settings, ids: ids, frames: 8, sampling: .greedy(guidance: guidance))
            _ = try await engine.generate(pack: pack, settings: settings, ids: ids, frames: frames, sampling: .greedy(guidance: guidance))
            let r = engine.report
            let steps = frames + settings.codebooks - 1
            print(#"{"steps": \#(steps), "seconds": \#(r.generateSeconds), "steps_per_second": \#(Double(steps) / r.generateSeconds), "cpu_seconds": \#(r.generateCPUSeconds), "steps_per_cpu_second": \#(Double(steps) / r.generateCPUSeconds), "windows": \#(r.windows)}"#)
        case "bed":
            let seconds = Double(args[4])!
            let rate = 48000
            let frames = Int(seconds * Double(rate))
            let json = #"{"engine":"musicgen","mood":"calm","volume":0.25,"pack":"\#(pack)"}"#
            let music = try JSONDecoder().decode(JobManifest.Music.self, from: Data(json.utf8))
            let baseline = TorchRuntime.processRSSBytes
            // The model manager resets the kernel's peak RSS at every load: sample RSS from a thread instead.
            let sampler = RSSSampler()
            let start = ContinuousClock.now
            let bed = try await engine.bed(frames: frames, sampleRate: rate, music: music, seed: 1)
            let elapsed = ContinuousClock.now - start
            let wall = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let peak = sampler.stop()
            let r = engine.report
            let bedBytes = bed.count * MemoryLayout<Float>.size
            print(#"{"seconds_of_audio": \#(seconds), "compute_seconds": \#(wall), "compute_per_audio_second": \#(wall / seconds), "generate_seconds": \#(r.generateSeconds), "decode_seconds": \#(r.decodeSeconds), "windows": \#(r.windows), "peak_rss_bytes": \#(peak), "rss_before_bytes": \#(baseline), "bed_buffer_bytes": \#(bedBytes), "peak_minus_bed_bytes": \#(peak - Int64(bedBytes))}"#)
        default:
            FileHandle.standardError.write(Data("MusicBench: unknown mode \(args[1])\n".utf8))
            exit(2)
        }
    }
}

/// Peak RSS by polling /proc/self/statm every 2 ms on its own thread.
final class RSSSampler: Sendable {
    private let peak = Atomic<Int64>(0)
    private let running = Atomic<Bool>(true)
    private let done = DispatchSemaphore(value: 0)

    init() {
        Thread.detachNewThread { [self] in
            while running.load(ordering: .relaxed) {
                let now = TorchRuntime.processRSSBytes
                if now > peak.load(ordering: .relaxed) { peak.store(now, ordering: .relaxed) }
                usleep(2000)
            }
            done.signal()
        }
    }

    func stop() -> Int64 {
        running.store(false, ordering: .relaxed)
        done.wait()
        return max(peak.load(ordering: .relaxed), TorchRuntime.processRSSBytes)
    }
}
