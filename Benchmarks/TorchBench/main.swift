// TorchBench: times one TorchScript method called N times from Swift through the shim, and reports a
// pack's load time and RSS. Benchmarks/torch-bench.sh runs it beside Benchmarks/torch_bench.py (the same
// module, inputs and thread count in Python torch) and prints the ratio.
//
//   TorchBench --module FILE [--method forward] --input float32:1x4x4x16x16 [--input int64:1x16] ...
//              [--scalar float:0.5] [--iters 50] [--warmup 5] [--threads 1] [--pack DIR]
// Prints one JSON object on stdout.
import Foundation
import TorchRuntime

@main
struct TorchBench {
    static func main() throws {
        var args = Array(CommandLine.arguments.dropFirst())
        var module: String?
        var method = "forward"
        var inputs: [String] = []
        var iters = 50, warmup = 5, threads = 1
        var pack: String?
        func value() -> String {
            guard !args.isEmpty else { usage("missing value") }
            return args.removeFirst()
        }
        while !args.isEmpty {
            switch args.removeFirst() {
            case "--module": module = value()
            case "--method": method = value()
            case "--input", "--scalar": inputs.append(value())
            case "--iters": iters = Int(value()) ?? iters
            case "--warmup": warmup = Int(value()) ?? warmup
            case "--threads": threads = Int(value()) ?? threads
            case "--pack": pack = value()
            case let other: usage("unknown argument \(other)")
            }
        }
        TorchRuntime.threads = threads
        var report: [String: Any] = ["threads": TorchRuntime.threads, "libtorch": TorchRuntime.version]

        if let pack {
            // Load every component of a pack once, as the manager would one after another.
            let p = try ModelPack(directory: URL(fileURLWithPath: pack))
            let before = TorchRuntime.processRSSBytes
            var loads: [String: Double] = [:]
            var peak = before
            var modules: [TorchModule] = []
            for c in p.componentNames {
                let start = ContinuousClock.now
                modules.append(try TorchModule(path: try p.component(c).1.path, device: .cpu))
                loads[c] = seconds(ContinuousClock.now - start)
                peak = max(peak, TorchRuntime.processRSSBytes)
            }
            let loaded = TorchRuntime.processRSSBytes
            modules.forEach { $0.unload() }
            TorchRuntime.emptyCache()
            report["pack"] = [
                "name": p.name, "load_seconds": loads, "load_seconds_total": loads.values.reduce(0, +),
                "rss_before_bytes": before, "rss_all_loaded_bytes": loaded,
                "rss_after_unload_bytes": TorchRuntime.processRSSBytes, "size_bytes": p.sizeOnDisk(),
            ] as [String: Any]
        }

        if let module {
            let rssBefore = TorchRuntime.processRSSBytes
            let loadStart = ContinuousClock.now
            let m = try TorchModule(path: module, device: .cpu)
            let loadSeconds = seconds(ContinuousClock.now - loadStart)
            let rssLoaded = TorchRuntime.processRSSBytes
            let values = try inputs.map(makeInput)
            for _ in 0..<warmup { _ = try m.call(method, values) }
            var times: [Double] = []
            var cpu: [Double] = []
            for _ in 0..<iters {
                let start = ContinuousClock.now
                let cpuStart = threadCPUSeconds()
                _ = try m.call(method, values)
                cpu.append(threadCPUSeconds() - cpuStart)
                times.append(seconds(ContinuousClock.now - start))
            }
            times.sort()
            cpu.sort()
            report["module"] = [
                "file": module, "method": method, "iters": iters, "load_seconds": loadSeconds,
                "mean_ms": times.reduce(0, +) / Double(times.count) * 1000, "median_ms": times[times.count / 2] * 1000,
                "min_ms": times[0] * 1000, "cpu_median_ms": cpu[cpu.count / 2] * 1000, "cpu_min_ms": cpu[0] * 1000,
                "rss_before_load_bytes": rssBefore, "rss_loaded_bytes": rssLoaded,
                "rss_after_run_bytes": TorchRuntime.processRSSBytes,
            ] as [String: Any]
        }
        let data = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }

    /// `float32:1x4x8x8` (filled with sin(i * 0.001)), `int64:1x16` (i % 64), `float:0.5`, `int:3`, `bool:true`.
    static func makeInput(_ spec: String) throws -> TorchValue {
        let parts = spec.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { usage("bad input \(spec)") }
        switch parts[0] {
        case "float": return .double(Double(parts[1]) ?? 0)
        case "int": return .int(Int(parts[1]) ?? 0)
        case "bool": return .bool(parts[1] == "true")
        default: break
        }
        let shape = parts[1].split(separator: "x").compactMap { Int($0) }
        switch parts[0] {
        case "float32": return .tensor(try Tensor(shape: shape, of: Float.self) { Float(sin(Double($0) * 0.001)) })
        case "int64": return .tensor(try Tensor(shape: shape, of: Int64.self) { Int64($0 % 64) })
        default: usage("bad input type in \(spec)")
        }
    }

    /// CPU time of this thread: with one intra-op thread libtorch computes on the caller's thread, and CPU
    /// time is far less disturbed than wall time by other work on a shared machine.
    static func threadCPUSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    static func usage(_ why: String) -> Never {
        FileHandle.standardError.write(Data("TorchBench: \(why)\nsee the comment at the top of Benchmarks/TorchBench/main.swift\n".utf8))
        exit(2)
    }
}
