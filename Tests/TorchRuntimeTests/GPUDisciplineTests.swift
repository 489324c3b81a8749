import Foundation
import Testing
@testable import TorchRuntime

/// What the GPU path decides, proven on the CPU: refusals from a given free figure, precision per device, the
/// out-of-memory retry against real allocation failures from libtorch, the sidecar's memory fields.
extension TorchRuntimeTests {
    @Suite struct GPUDiscipline {
        @Test func aComponentThatDoesNotFitIsRefusedWithTheFigures() throws {
            let gib: Int64 = 1 << 30
            #expect(MemoryFit.refusal(pack: "wan", component: "denoiser", device: .cuda(0), needBytes: 3 * gib,
                                      freeBytes: 4 * gib, limitBytes: nil) == nil)
            let byFree = try #require(MemoryFit.refusal(pack: "wan", component: "denoiser", device: .cuda(0), needBytes: 3 * gib,
                                                        freeBytes: 2 * gib, limitBytes: nil))
            #expect(byFree == .doesNotFit(pack: "wan", component: "denoiser", device: .cuda(0), needBytes: 3 * gib,
                                          freeBytes: 2 * gib, limitBytes: nil))
            let text = byFree.description
            #expect(text.contains("model pack 'wan'") && text.contains("denoiser") && text.contains("3072 MiB")
                    && text.contains("2048 MiB free on cuda:0"), "\(text)")
            // The configured limit counts even when the device has room.
            let byLimit = try #require(MemoryFit.refusal(pack: "wan", component: "vae", device: .cuda(1), needBytes: 3 * gib,
                                                         freeBytes: 70 * gib, limitBytes: 2 * gib))
            #expect(byLimit.description.contains("device.memory_limit_gb allows 2048 MiB"))
            #expect(byLimit.pack == "wan")
            // Nothing known (the CPU without a limit): no check.
            #expect(MemoryFit.available(freeBytes: nil, limitBytes: nil) == nil)
            #expect(MemoryFit.deviceFreeBytes(.cpu) == nil)
        }

        @Test func theManagerRefusesBeforeLoading() async throws {
            // The real manager path, with the free figure a small GPU would report.
            let manager = ModelManager(store: try Fixtures.store(), device: .cpu, freeMemory: { _ in 1 << 10 })
            var ran = false
            let error = await #expect(throws: ModelPackError.self) {
                try await manager.withModel(pack: "tiny-video", component: "denoiser") { _ in ran = true }
            }
            guard case .doesNotFit(let pack, let component, _, let need, let free, nil)? = error else {
                Issue.record("expected doesNotFit, got \(String(describing: error))"); return
            }
            #expect(pack == "tiny-video" && component == "denoiser" && free == 1 << 10)
            let estimate = try Fixtures.store().pack(named: "tiny-video").memoryEstimate(of: "denoiser")
            #expect(need == estimate)
            #expect(!ran)
            let loads = await manager.loadCount, resident = await manager.residentKeys
            #expect(loads == 0 && resident.isEmpty)
            // The manager is not left busy: the next use (with room) runs.
            let roomy = ModelManager(store: try Fixtures.store(), device: .cpu, memoryLimitBytes: 1 << 40, freeMemory: { _ in nil })
            try await roomy.withModel(pack: "tiny-video", component: "denoiser") { #expect($0.dtype == .float32) }
            let limited = ModelManager(store: try Fixtures.store(), device: .cpu, memoryLimitBytes: 1, freeMemory: { _ in nil })
            await #expect(throws: ModelPackError.self) { try await limited.withModel(pack: "tiny-voice", component: "vocoder") { _ in } }
            // The refusal handed the turn back: the same manager answers again (it would hang otherwise).
            await #expect(throws: ModelPackError.self) { try await manager.withModel(pack: "tiny-voice", component: "vocoder") { _ in } }
        }

        @Test func precisionPerDevice() throws {
            // fp32 on the CPU whatever the pack says; the pack's dtype on CUDA (pack validation refuses any other).
            let dir = try Fixtures.scratch("dtype")
            let copy = try Fixtures.copyPack("tiny-voice", into: dir)
            let json = copy.appendingPathComponent("pack.json")
            for (written, onCUDA) in [("bfloat16", DType.bfloat16), ("float16", .float16), ("float32", .float32), ("fp16", .float16)] {
                var object = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as! [String: Any]
                object["dtype"] = written
                try JSONSerialization.data(withJSONObject: object).write(to: json)
                let pack = try ModelStore(root: dir).pack(named: "tiny-voice")
                #expect(pack.dtype(on: .cuda(0)) == onCUDA, "\(written)")
                #expect(pack.dtype(on: .cpu) == .float32, "\(written)")
            }
            #expect(Device.cuda(0).defaultDType == .float16 && Device.cpu.defaultDType == .float32)
        }

        @Test func aHalfPrecisionLoadRunsAndReadsBackAsFloat() async throws {
            // What CUDA gets (weights cast at load, outputs in the same precision), on the CPU with bf16, which
            // libtorch's CPU kernels cover: readers must convert, or they fail on a GPU.
            let manager = ModelManager(store: try Fixtures.store(), device: .cpu, dtype: .bfloat16)
            // (The text encoder: 1.13's CPU bf16 transposed convolution, in the vocoder, miscounts channels.)
            let tokens = try Tensor(ids(5, modulo: 256), shape: [1, 5])
            let (out, reference) = try await manager.withModel(pack: "tiny-video", component: "text_encoder") { module in
                #expect(module.dtype == .bfloat16)
                let out = try module.forward(tokens)[0]
                let fp32 = try TorchModule(path: module.path, device: .cpu, dtype: .float32)
                return (out, try fp32.forward(tokens)[0].scalars(as: Float.self))
            }
            #expect(out.dtype == .bfloat16 && out.count == reference.count)
            #expect(throws: TorchError.self) { try out.scalars(as: Float.self) }
            let values = try out.scalars(as: Float.self, convert: true)
            // bf16 keeps 8 bits of mantissa: close to fp32, not equal.
            let worst = zip(values, reference).map { abs($0 - $1) }.max() ?? .infinity
            let scale = reference.map(abs).max() ?? 0
            #expect(values.allSatisfy(\.isFinite) && scale > 0 && worst <= 0.05 * scale, "worst \(worst), scale \(scale)")
            #expect(await manager.drainRecords().first?.dtype == .bfloat16)
        }

        @Test func outOfMemoryRetriesSmallerThenFailsTyped() throws {
            #expect(OutOfMemoryRetry.sizes(from: 12) == [12, 6, 3, 1])
            #expect(OutOfMemoryRetry.sizes(from: 1) == [1])
            #expect(OutOfMemoryRetry.sizes(from: 9, minimum: 4) == [9, 4])
            // Real allocation failures from libtorch's allocator (hundreds of TiB: more than any address space),
            // reported through the shim as out-of-memory, for the sizes above 2.
            func step(_ size: Int) throws -> Int {
                if size > 2 { _ = try Tensor(shape: [size, 1 << 44], repeating: Float(0)) }
                return size
            }
            var tried: [Int] = []
            let done = try OutOfMemoryRetry.run(from: 8, what: "frames") { size in
                tried.append(size)
                return try step(size)
            }
            #expect(done == 2 && tried == [8, 4, 2])
            do {
                _ = try Tensor(shape: [4, 1 << 44], repeating: Float(0))
                Issue.record("a 256 TiB tensor was allocated")
            } catch {
                #expect(error.code == .outOfMemory, "\(error)")
            }
            // Always out of memory: a typed error naming every size, then nothing more is tried.
            tried = []
            let error = #expect(throws: OutOfMemoryAfterRetries.self) {
                try OutOfMemoryRetry.run(from: 4, what: "latent frames per call") { size -> Int in
                    tried.append(size)
                    _ = try Tensor(shape: [size + 2, 1 << 44], repeating: Float(0))
                    return size
                }
            }
            #expect(tried == [4, 2, 1] && error?.sizes == [4, 2, 1])
            #expect(error?.description.hasPrefix("out of memory with latent frames per call at 4, then 2, then 1") == true)
            // Any other error passes through at once.
            tried = []
            #expect(throws: TorchError.self) {
                try OutOfMemoryRetry.run(from: 4, what: "x") { size -> Int in
                    tried.append(size)
                    throw TorchError(.torch, "shape mismatch", context: "test")
                }
            }
            #expect(tried == [4])
        }

        @Test func recordsCarryRSSBesideTheDevicePeak() async throws {
            let manager = ModelManager(store: try Fixtures.store(), device: .cpu)
            try await manager.withModel(pack: "tiny-voice", component: "vocoder") { _ in }
            let record = try #require(await manager.drainRecords().first)
            #expect(record.peakRSSBytes > 0 && record.peakGPUBytes == nil)
            let json = String(decoding: try JSONEncoder().encode(record), as: UTF8.self)
            #expect(json.contains("\"peak_rss_bytes\"") && !json.contains("peak_gpu_bytes"))
        }

        @Test func aCPUBuildSaysSoForCUDAQuestions() throws {
            let report = TorchRuntime.describe()
            #expect(report.available && report.version != nil, "\(report)")
            if !TorchRuntime.builtWithCUDA {
                #expect(!report.cudaBuild && report.devices.isEmpty && report.driver == nil)
                #expect(throws: TorchError.self) { try TorchRuntime.cudaMemoryInfo(0) }
            }
        }
    }
}
