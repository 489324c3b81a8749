import Foundation
import Testing
@testable import TorchRuntime

extension TorchRuntimeTests {
    @Suite struct Manager {
        @Test func alternatingComponentsAreNeverResidentTogether() async throws {
            let manager = ModelManager(store: try Fixtures.store(), device: .cpu)
            let mel = try Tensor(wave(20 * 3), shape: [1, 20, 3])
            let codes = try Tensor(ids(2 * 3, modulo: 64), shape: [1, 2, 3])
            for round in 0..<3 {
                let audio = try await manager.withModel(pack: "tiny-voice", component: "vocoder") { module in
                    #expect(await manager.residentKeys == [.init(pack: "tiny-voice", component: "vocoder")], "round \(round)")
                    return try module.forward(mel)[0].shape
                }
                #expect(audio == [1, 3 * 256])
                let music = try await manager.withModel(pack: "tiny-music", component: "codec_decoder") { module in
                    #expect(await manager.residentKeys == [.init(pack: "tiny-music", component: "codec_decoder")])
                    return try await module.callAsync("forward", [.tensor(codes)])[0].shape
                }
                #expect(music == [1, 1, 3 * 320])
            }
            #expect(await manager.maxResident == 1)
            #expect(await manager.loadCount == 6)
            let records = await manager.drainRecords()
            #expect(records.count == 6)
            #expect(records.allSatisfy { $0.loaded && $0.peakMemoryBytes > 0 && $0.memorySource == "process_peak_rss" })
            #expect(records.first?.packIdentity.count == 64)
            // records encode for the sidecar
            let json = try JSONEncoder().encode(records)
            #expect(String(decoding: json, as: UTF8.self).contains("\"peak_memory_bytes\""))
            await manager.unloadAll()
            #expect(await manager.residentKeys.isEmpty)
        }

        @Test func theSameComponentTwiceLoadsOnce() async throws {
            let manager = ModelManager(store: try Fixtures.store(), device: .cpu)
            var first: TorchModule?
            for _ in 0..<2 {
                try await manager.withModel(pack: "tiny-video", component: "text_encoder") { module in
                    if let first { #expect(first === module) } else { first = module }
                    _ = try module.call("pooled", [.tensor(try Tensor(ids(5, modulo: 256), shape: [1, 5])), .bool(false)])
                }
            }
            #expect(await manager.loadCount == 1)
            let records = await manager.drainRecords()
            #expect(records.map(\.loaded) == [true, false])
            #expect(records[1].loadSeconds == 0)
            // switching unloads the previous module for real
            try await manager.withModel(pack: "tiny-video", component: "vae_decoder") { _ in }
            #expect(first?.isLoaded == false)
        }

        @Test func aBudgetKeepsSeveralAndEvictsTheOldest() async throws {
            let store = try Fixtures.store()
            let video = try store.pack(named: "tiny-video")
            let two = video.memoryEstimate(of: "text_encoder") + video.memoryEstimate(of: "denoiser")
            let manager = ModelManager(store: store, device: .cpu, memoryBudgetBytes: two)
            for component in ["text_encoder", "denoiser", "text_encoder", "denoiser"] {
                try await manager.withModel(pack: "tiny-video", component: component) { _ in }
            }
            #expect(await manager.loadCount == 2)
            #expect(await manager.maxResident == 2)
            try await manager.withModel(pack: "tiny-video", component: "vae_decoder") { _ in }
            let keys = Set(await manager.residentKeys.map(\.component))
            #expect(keys.contains("vae_decoder") && keys.count <= 2)
            #expect(!keys.contains("text_encoder"))  // least recently used goes first
        }

        @Test func concurrentUsersTakeTurns() async throws {
            let manager = ModelManager(store: try Fixtures.store(), device: .cpu)
            let components = ["vocoder", "vocoder", "vocoder", "vocoder"]
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (i, c) in components.enumerated() {
                    let pack = "tiny-voice"
                    group.addTask {
                        try await manager.withModel(pack: pack, component: c) { module in
                            let mel = try Tensor(wave(20 * (i + 1)), shape: [1, 20, i + 1])
                            _ = try await module.callAsync("forward", [.tensor(mel)])
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(await manager.loadCount == 1)
            #expect(await manager.drainRecords().count == 4)
        }

        @Test func unknownPackOrComponent() async throws {
            let manager = ModelManager(store: try Fixtures.store(), device: .cpu)
            await #expect(throws: ModelPackError.self) {
                try await manager.withModel(pack: "nope", component: "x") { _ in }
            }
            await #expect(throws: ModelPackError.componentNotFound(pack: "tiny-voice", component: "x", available: ["vocoder"])) {
                try await manager.withModel(pack: "tiny-voice", component: "x") { _ in }
            }
            // a failed use releases the turn: the next one proceeds
            try await manager.withModel(pack: "tiny-voice", component: "vocoder") { _ in }
        }
    }

    @Suite struct Memory {
        /// Load and unload every component of a pack 50 times (with a forward, a failing call, a missing
        /// and a corrupt file each time):
        /// RSS must come back to within a small margin of where it was after warm-up.
        @Test func loadUnloadFiftyTimesDoesNotGrowRSS() throws {
            let pack = try Fixtures.store().pack(named: "tiny-video")
            let paths = try pack.componentNames.map { try pack.component($0).1.path }
            let ids = try Tensor(ids(8, modulo: 256), shape: [1, 8])
            let corrupt = try Fixtures.scratch("rss").appendingPathComponent("corrupt.pt")
            let good = try Data(contentsOf: URL(fileURLWithPath: paths[0]))
            try good.prefix(good.count / 3).write(to: corrupt)
            func cycle() throws {
                for path in paths {
                    let module = try TorchModule(path: path, device: .cpu)
                    if path.hasSuffix("text_encoder.pt") { _ = try module.forward(ids) }
                    _ = try? module.forward([.int(1), .int(2), .int(3), .int(4)])  // error path
                    _ = try? TorchModule(path: path + ".missing")
                    _ = try? TorchModule(path: corrupt.path)
                    module.unload()
                }
            }
            for _ in 0..<5 { try cycle() }  // allocator arenas and libtorch's lazy state settle
            let start = TorchRuntime.processRSSBytes
            for _ in 0..<50 { try cycle() }
            let end = TorchRuntime.processRSSBytes
            let growth = end - start
            print("RSS over 50 load/unload cycles of tiny-video: \(start / 1024) KiB -> \(end / 1024) KiB (\(growth / 1024) KiB)")
            #expect(growth < 24 << 20, "RSS grew by \(growth / 1024) KiB over 50 load/unload cycles")
        }
    }
}
