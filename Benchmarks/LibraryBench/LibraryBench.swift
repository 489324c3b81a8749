// LibraryBench: the library engine's two costs, for Benchmarks/library-bench.sh (which runs Python beside it).
//
//   LibraryBench MODELS_DIR TEXTS.txt [BATCH] [ITEMS]
//
// 1. indexing: embeds every line of TEXTS.txt (the descriptions Python embeds too) in batches of BATCH (32),
//    after one warm-up batch, one intra-op thread; tokenizer + libtorch forward + pooling, as `library index` does.
// 2. search: ITEMS (10,000) unit vectors (the embeddings tiled), 100 queries, top-5 each; mean and worst ms.
// Prints one JSON object.
import Foundation
import Library
import TorchRuntime

@main
struct LibraryBench {
    static func main() throws {
        let args = CommandLine.arguments
        guard args.count >= 3 else {
            FileHandle.standardError.write(Data("usage: LibraryBench MODELS_DIR TEXTS.txt [BATCH] [ITEMS]\n".utf8))
            exit(2)
        }
        let texts = try String(contentsOfFile: args[2], encoding: .utf8).split(separator: "\n").map(String.init)
        let batch = args.count > 3 ? Int(args[3]) ?? 32 : 32
        let itemCount = args.count > 4 ? Int(args[4]) ?? 10_000 : 10_000
        TorchRuntime.threads = 1
        let encoder = try SentenceEncoder(store: ModelStore(root: URL(fileURLWithPath: args[1])))
        let t0 = ContinuousClock.now
        let module = try encoder.loadModule()
        _ = try encoder.embed(Array(texts.prefix(batch)), module: module, batchSize: batch)
        let warm = (ContinuousClock.now - t0).seconds
        let t1 = ContinuousClock.now, c1 = cpuSeconds()
        let vectors = try encoder.embed(texts, module: module, batchSize: batch)
        let indexSeconds = (ContinuousClock.now - t1).seconds, indexCPU = cpuSeconds() - c1
        let tokT = ContinuousClock.now
        for t in texts { _ = encoder.tokenizer.encode(t, maxTokens: encoder.config.maxTokens) }
        let tokenizeSeconds = (ContinuousClock.now - tokT).seconds

        let dim = encoder.dimension
        var matrix = [Float](); matrix.reserveCapacity(itemCount * dim)
        while matrix.count < itemCount * dim { matrix.append(contentsOf: vectors.prefix(itemCount * dim - matrix.count)) }
        let items = (0..<itemCount).map { LibraryItem(path: "item\($0).jpg", kind: .image, description: "", source: .name, contentHash: "", size: 1, modified: 0) }
        let index = LibraryIndex(folder: URL(fileURLWithPath: "/"), items: items, matrix: matrix, dimension: dim)
        var times: [Double] = []
        for q in 0..<100 {
            let query = Array(vectors[((q % texts.count) * dim)..<((q % texts.count + 1) * dim)])
            let s = ContinuousClock.now
            _ = index.search(query, top: 5)
            times.append((ContinuousClock.now - s).seconds * 1000)
        }
        let out: [String: Any] = [
            "engine": "swift libtorch \(TorchRuntime.version)", "threads": TorchRuntime.threads, "batch": batch, "count": texts.count,
            "seconds": (indexSeconds * 1000).rounded() / 1000, "cpu_seconds": (indexCPU * 1000).rounded() / 1000, "tokenize_seconds": (tokenizeSeconds * 1000).rounded() / 1000,
            "load_and_warmup_seconds": (warm * 1000).rounded() / 1000,
            "search_items": itemCount, "search_mean_ms": (times.reduce(0, +) / Double(times.count) * 1000).rounded() / 1000,
            "search_max_ms": ((times.max() ?? 0) * 1000).rounded() / 1000,
        ]
        print(String(decoding: try JSONSerialization.data(withJSONObject: out, options: [.sortedKeys]), as: UTF8.self))
    }
}

/// User + system CPU time of this process: steadier than wall time on a machine others are using.
func cpuSeconds() -> Double {
    var u = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
    return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
