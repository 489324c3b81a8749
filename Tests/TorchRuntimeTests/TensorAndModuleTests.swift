import Checksum
import Foundation
import Testing
@testable import TorchRuntime

/// One serialized tree: the RSS test must not see other tests' allocations, and the machine is small.
@Suite(.serialized) struct TorchRuntimeTests {}

extension TorchRuntimeTests {
    @Suite struct Runtime {
        @Test func facts() {
            #expect(TorchRuntime.version.hasPrefix("1.") || TorchRuntime.version.hasPrefix("2."))
            // libtorch's own rule: CUDA is available exactly when it sees a device; a CPU build sees none.
            #expect(TorchRuntime.cudaAvailable == (TorchRuntime.cudaDeviceCount > 0))
            if !TorchRuntime.builtWithCUDA { #expect(TorchRuntime.cudaDeviceCount == 0) }
            #expect(TorchRuntime.cudaDeviceNames().count == TorchRuntime.cudaDeviceCount)
            #expect(TorchRuntime.processRSSBytes > 0)
            let mem = TorchRuntime.memory(on: .cpu)
            #expect(mem.allocatedBytes > 0 && mem.peakBytes >= mem.allocatedBytes / 2)
            let before = TorchRuntime.threads
            TorchRuntime.threads = 1
            #expect(TorchRuntime.threads == 1)
            TorchRuntime.threads = before
        }

        @Test func devicesParse() {
            #expect(Device("cpu") == .cpu)
            #expect(Device("cuda") == .cuda(0))
            #expect(Device("cuda:3") == .cuda(3))
            #expect(Device("tpu") == nil)
            #expect(Device("cuda:x") == nil)
            #expect(DType(name: "fp16") == .float16 && DType(name: "bf16") == .bfloat16)
        }

        @Test func sha256MatchesKnownDigests() {
            #expect(SHA256.hex(of: Data()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
            #expect(SHA256.hex(of: Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
            let long = Data(repeating: 0x61, count: 1_000_000)
            #expect(SHA256.hex(of: long) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        }
    }

    @Suite struct Tensors {
        @Test func roundTripsValuesShapeAndType() throws {
            let values: [Float] = [1, 2.5, -3, 4, 5, 6]
            let t = try Tensor(values, shape: [2, 3])
            #expect(t.shape == [2, 3])
            #expect(t.count == 6)
            #expect(t.dtype == .float32)
            #expect(t.device == .cpu)
            #expect(try t.scalars(as: Float.self) == values)

            let l = try Tensor([Int64](arrayLiteral: 7, -8, 9))
            #expect(l.dtype == .int64 && l.shape == [3])
            #expect(try l.scalars(as: Int64.self) == [7, -8, 9])

            let b = try Tensor([true, false, true])
            #expect(try b.scalars(as: Bool.self) == [true, false, true])

            let half = try t.to(dtype: .float16)
            #expect(half.dtype == .float16)
            #expect(try half.scalars(as: Float16.self).map(Float.init) == values)
            let bf = try t.to(dtype: .bfloat16)
            #expect(try bf.scalars(as: Float.self, convert: true) == values)  // all exact in bf16

            let same = try t.to(.cpu, dtype: .float32)
            #expect(same === t)  // nothing to change: no copy

            let filled = try Tensor(shape: [2, 2], of: Float.self) { Float($0) }
            #expect(try filled.scalars(as: Float.self) == [0, 1, 2, 3])
            #expect(try Tensor(shape: [0, 4], repeating: Float(1)).count == 0)
            #expect(try Tensor([Float(2.5)], shape: []).item() == 2.5)
        }

        @Test func reportsBadShapesAndTypes() throws {
            let e1 = #expect(throws: TorchError.self) { try Tensor([Float](repeating: 0, count: 5), shape: [2, 3]) }
            #expect(e1?.code == .invalidArgument)
            #expect(e1?.message.contains("24 bytes") == true)
            let e2 = #expect(throws: TorchError.self) { try Tensor([Float](), shape: [-1]) }
            #expect(e2?.code == .invalidArgument)
            let t = try Tensor([Float](repeating: 0, count: 4))
            let e3 = #expect(throws: TorchError.self) { try t.scalars(as: Int64.self) }
            #expect(e3?.code == .dtypeMismatch)
            // One past the last device: a device that does not exist where CUDA is, CUDA itself refused where it is not.
            let e4 = #expect(throws: TorchError.self) { try t.to(.cuda(TorchRuntime.cudaDeviceCount)) }
            #expect(e4?.code == (TorchRuntime.cudaAvailable ? .invalidArgument : .unsupported), "\(e4?.message ?? "")")
        }

        @Test func crossesTasks() async throws {
            let t = try Tensor(wave(64), shape: [8, 8])
            let sums = try await withThrowingTaskGroup(of: Float.self) { group in
                for _ in 0..<4 { group.addTask { try t.scalars(as: Float.self).reduce(0, +) } }
                return try await group.reduce(into: [Float]()) { $0.append($1) }
            }
            #expect(Set(sums).count == 1)
        }
    }

    @Suite struct Numerics {
        /// Every tiny-pack component and named method, against python3-torch on the same file and inputs.
        @Test func matchesPythonTorch() async throws {
            let ctxShape = [1, 12, 32]
            // The video denoiser's packed context: start image, 2 recent frames, 2 older (coarse) ones, slot mask.
            let packedContext: [ReferenceCase.Arg] = [
                .floats(wave(4 * 8 * 8, phase: 5), [1, 4, 1, 8, 8]), .floats(wave(4 * 2 * 8 * 8, phase: 6), [1, 4, 2, 8, 8]),
                .floats(wave(4 * 2 * 8 * 8, phase: 7), [1, 4, 2, 8, 8]), .floats([1, 1, 0, 1, 0], [1, 5]),
            ]
            let cases: [ReferenceCase] = [
                .init(file: try Fixtures.componentPath("tiny-video", "text_encoder"), method: "forward",
                      args: [.longs(ids(12, modulo: 256), [1, 12])]),
                .init(file: try Fixtures.componentPath("tiny-video", "text_encoder"), method: "pooled",
                      args: [.longs(ids(12, modulo: 256), [1, 12]), .bool(true)]),
                .init(file: try Fixtures.componentPath("tiny-video", "denoiser"), method: "forward",
                      args: [.floats(wave(4 * 2 * 8 * 8), [1, 4, 2, 8, 8]), .floats([0.3], [1]),
                             .floats(wave(12 * 32, scale: 0.5, phase: 1), ctxShape)] + packedContext),
                .init(file: try Fixtures.componentPath("tiny-video", "denoiser"), method: "step",
                      args: [.floats(wave(4 * 2 * 8 * 8), [1, 4, 2, 8, 8]), .double(0.75), .double(-0.125),
                             .floats(wave(12 * 32, scale: 0.5, phase: 1), ctxShape)] + packedContext),
                .init(file: try Fixtures.componentPath("tiny-video", "vae_decoder"), method: "forward",
                      args: [.floats(wave(4 * 2 * 6 * 8, phase: 2), [1, 4, 2, 6, 8])]),
                .init(file: try Fixtures.componentPath("tiny-video", "vae_encoder"), method: "forward",
                      args: [.floats(wave(3 * 2 * 16 * 16, phase: 3), [1, 3, 2, 16, 16])]),
                .init(file: try Fixtures.componentPath("tiny-voice", "vocoder"), method: "forward",
                      args: [.floats(wave(20 * 9, phase: 4), [1, 20, 9])]),
                .init(file: try Fixtures.componentPath("tiny-music", "lm"), method: "forward",
                      args: [.longs(ids(2 * 10, modulo: 64), [1, 2, 10])]),
                .init(file: try Fixtures.componentPath("tiny-music", "lm"), method: "next_logits",
                      args: [.longs(ids(2 * 10, modulo: 64), [1, 2, 10]), .int(4)]),
                .init(file: try Fixtures.componentPath("tiny-music", "codec_decoder"), method: "forward",
                      args: [.longs(ids(2 * 6, modulo: 64), [1, 2, 6])]),
            ]
            let reference = try pythonReference(cases)
            TorchRuntime.threads = 1
            for (c, expected) in zip(cases, reference) {
                let module = try TorchModule(path: c.file, device: .cpu)
                let outputs = try module.call(c.method, try c.torchArgs())
                let label = "\(URL(fileURLWithPath: c.file).lastPathComponent).\(c.method)"
                try #require(outputs.count == expected.count, "\(label): output count")
                for (got, want) in zip(outputs, expected) {
                    #expect(got.shape == want.shape, "\(label): shape")
                    #expect(got.dtype?.rawValue == want.dtype, "\(label): dtype")
                    let values = try got.scalars(as: Double.self, convert: true)
                    var worst = 0.0
                    for (a, b) in zip(values, want.data) { worst = max(worst, abs(a - b) / (1 + abs(b))) }
                    #expect(values.count == want.data.count)
                    #expect(worst <= 1e-5, "\(label): max relative difference \(worst)")
                }
                #expect(!outputs.isEmpty)
            }
        }
    }
}

extension TorchRuntimeTests.Numerics {
    /// Loading in another precision casts the weights, and inputs follow the module's dtype by default.
    @Test func castsWeightsAndInputsToTheModuleDType() throws {
        let path = try Fixtures.componentPath("tiny-voice", "vocoder")
        let mel = try Tensor(wave(20 * 5), shape: [1, 20, 5])
        let fp32 = try TorchModule(path: path, dtype: .float32).forward(mel)[0]
        let fp64Module = try TorchModule(path: path, dtype: .float64)
        #expect(fp64Module.dtype == .float64)
        let fp64 = try fp64Module.forward(mel)[0]
        #expect(fp64.dtype == .float64)
        let a = try fp32.scalars(as: Float.self), b = try fp64.scalars(as: Double.self)
        #expect(zip(a, b).allSatisfy { abs(Double($0) - $1) < 1e-4 })
        // Integer inputs keep their type (token ids must not become floats).
        let lm = try TorchModule(path: try Fixtures.componentPath("tiny-music", "lm"), dtype: .float64)
        let logits = try lm.forward(try Tensor(ids(2 * 4, modulo: 64), shape: [1, 2, 4]))[0]
        #expect(logits.dtype == .float64 && logits.shape == [1, 2, 4, 64])
    }
}
