import Foundation
import Testing
@testable import TorchRuntime

extension TorchRuntimeTests {
    @Suite struct Errors {
        @Test func missingFile() {
            let e = #expect(throws: TorchError.self) { try TorchModule(path: "/nonexistent/denoiser.pt") }
            #expect(e?.code == .notFound)
            #expect(e?.description.contains("/nonexistent/denoiser.pt") == true)
        }

        @Test func corruptFiles() throws {
            let dir = try Fixtures.scratch("corrupt")
            let garbage = dir.appendingPathComponent("garbage.pt")
            try Data("this is not a TorchScript archive".utf8).write(to: garbage)
            let e1 = #expect(throws: TorchError.self) { try TorchModule(path: garbage.path) }
            #expect(e1?.code == .loadFailed)

            let good = try Data(contentsOf: URL(fileURLWithPath: try Fixtures.componentPath("tiny-voice", "vocoder")))
            let truncated = dir.appendingPathComponent("truncated.pt")
            try good.prefix(good.count / 2).write(to: truncated)
            let e2 = #expect(throws: TorchError.self) { try TorchModule(path: truncated.path) }
            #expect(e2?.code == .loadFailed)

            let empty = dir.appendingPathComponent("empty.pt")
            try Data().write(to: empty)
            #expect(throws: TorchError.self) { try TorchModule(path: empty.path) }
        }

        @Test func badDevice() throws {
            let path = try Fixtures.componentPath("tiny-voice", "vocoder")
            if !TorchRuntime.cudaAvailable {
                let e = #expect(throws: TorchError.self) { try TorchModule(path: path, device: .cuda(0)) }
                #expect(e?.code == .unsupported)
                #expect(e?.message.contains("CUDA") == true)
            }
            let e2 = #expect(throws: TorchError.self) { try TorchModule(path: path, device: .cpu, dtype: .int64) }
            #expect(e2?.code == .invalidArgument)
        }

        @Test func wrongInputs() throws {
            let vocoder = try TorchModule(path: try Fixtures.componentPath("tiny-voice", "vocoder"))
            let mel = try Tensor(wave(20 * 4), shape: [1, 20, 4])
            // count
            let e1 = #expect(throws: TorchError.self) { try vocoder.forward(mel, mel) }
            #expect(e1?.code == .torch)
            #expect(e1?.message.contains("argument") == true)
            let e0 = #expect(throws: TorchError.self) { try vocoder.forward([]) }
            #expect(e0?.code == .torch)
            // shape: 7 mel bins where 20 are expected
            let e2 = #expect(throws: TorchError.self) { try vocoder.forward(try Tensor(wave(7 * 4), shape: [1, 7, 4])) }
            #expect(e2?.code == .torch)
            // dtype: integers into a conv, without the automatic cast
            let ints = try Tensor(ids(80, modulo: 5), shape: [1, 20, 4])
            let e3 = #expect(throws: TorchError.self) { try vocoder.forward([.tensor(ints)], convertInputs: false) }
            #expect(e3?.code == .torch)
            // dtype: floats where token ids are expected
            let encoder = try TorchModule(path: try Fixtures.componentPath("tiny-video", "text_encoder"))
            let e4 = #expect(throws: TorchError.self) { try encoder.forward(try Tensor(wave(8), shape: [1, 8])) }
            #expect(e4?.code == .torch)
            // a scalar where a tensor belongs
            let e5 = #expect(throws: TorchError.self) { try encoder.forward([.int(3)]) }
            #expect(e5?.code == .torch)
            // no such method
            let e6 = #expect(throws: TorchError.self) { try encoder.call("decode", [.tensor(mel)]) }
            #expect(e6?.code == .noSuchMethod)
            // the module still works after all that
            #expect(try vocoder.forward(mel)[0].shape == [1, 4 * 256])
            // and an unloaded module refuses politely
            vocoder.unload()
            vocoder.unload()
            #expect(!vocoder.isLoaded)
            let e7 = #expect(throws: TorchError.self) { try vocoder.forward(mel) }
            #expect(e7?.code == .unloaded)
        }
    }

    @Suite struct Packs {
        @Test func listsAndVerifiesTheTinyPacks() throws {
            let store = try Fixtures.store()
            let packs = try store.list()
            #expect(packs.map(\.name) == ["tiny-kokoro", "tiny-music", "tiny-video", "tiny-voice"])
            let video = try store.pack(named: "tiny-video")
            #expect(video.kind == .video)
            #expect(video.componentNames == ["denoiser", "text_encoder", "vae_decoder", "vae_encoder"])
            #expect(video.manifest.latent == LatentGeometry(channels: 4, temporalCompression: 1, spatialCompression: 4))
            #expect(video.sizeOnDisk() > 100_000)
            #expect(video.identity.count == 64)
            let checks = try video.verify(load: true, device: .cpu)
            #expect(checks.count == 4)
            #expect(checks.allSatisfy { $0.loadSeconds != nil })
            #expect(try store.pack(named: "tiny-voice").manifest.sampleRate == 16000)
        }

        @Test func missingPackAndFolder() throws {
            let store = try Fixtures.store()
            let e = #expect(throws: ModelPackError.self) { try store.pack(named: "big-video") }
            #expect(e == .packNotFound(name: "big-video", folder: store.root.path, available: ["tiny-kokoro", "tiny-music", "tiny-video", "tiny-voice"]))
            #expect(e?.description.contains("big-video") == true)
            let none = ModelStore(root: URL(fileURLWithPath: "/nonexistent/models"))
            let e2 = #expect(throws: ModelPackError.self) { try none.list() }
            #expect(e2?.description.contains("--models") == true)
        }

        @Test func brokenPacksNameThePackAndFile() async throws {
            let dir = try Fixtures.scratch("broken")
            // a weight file changed on disk
            let changed = try Fixtures.copyPack("tiny-voice", into: dir)
            let file = changed.appendingPathComponent("vocoder.pt")
            var bytes = try Data(contentsOf: file)
            bytes[bytes.count / 2] ^= 0xff
            try bytes.write(to: file)
            let e1 = #expect(throws: ModelPackError.self) { try ModelPack(directory: changed).verify() }
            guard case .hashMismatch(let pack, let component, let path, _, _) = e1 else {
                Issue.record("expected a hash mismatch, got \(String(describing: e1))"); return
            }
            #expect(pack == "tiny-voice" && component == "vocoder" && path == file.path)
            #expect(e1?.description.contains("reinstall") == true)

            // a component file deleted
            let store = ModelStore(root: dir)
            try FileManager.default.removeItem(at: file)
            let e2 = #expect(throws: ModelPackError.self) { try store.pack(named: "tiny-voice").component("vocoder") }
            #expect(e2 == .fileMissing(pack: "tiny-voice", component: "vocoder", file: file.path))
            let e3 = #expect(throws: ModelPackError.self) { try store.pack(named: "tiny-voice").component("decoder") }
            #expect(e3 == .componentNotFound(pack: "tiny-voice", component: "decoder", available: ["vocoder"]))

            // pack.json missing, unparsable, incomplete
            let music = try Fixtures.copyPack("tiny-music", into: dir)
            let json = music.appendingPathComponent("pack.json")
            let original = try Data(contentsOf: json)
            try FileManager.default.removeItem(at: json)
            #expect(throws: ModelPackError.manifestMissing(pack: "tiny-music", file: json.path)) { try store.pack(named: "tiny-music") }
            try Data("{ not json".utf8).write(to: json)
            let e4 = #expect(throws: ModelPackError.self) { try store.pack(named: "tiny-music") }
            #expect(e4?.description.contains(json.path) == true)
            var object = try JSONSerialization.jsonObject(with: original) as! [String: Any]
            object.removeValue(forKey: "sample_rate")
            try JSONSerialization.data(withJSONObject: object).write(to: json)
            let e5 = #expect(throws: ModelPackError.self) { try store.pack(named: "tiny-music") }
            #expect(e5?.description.contains("sample_rate") == true)
            object.removeValue(forKey: "kind")
            try JSONSerialization.data(withJSONObject: object).write(to: json)
            let e6 = #expect(throws: ModelPackError.self) { try store.pack(named: "tiny-music") }
            #expect(e6?.description.contains("kind") == true)

            // a corrupt weight file whose hash was not checked still fails to load, clearly
            let video = try Fixtures.copyPack("tiny-video", into: dir)
            try Data("garbage".utf8).write(to: video.appendingPathComponent("vae_decoder.pt"))
            let manager = ModelManager(store: store, device: .cpu)
            await #expect(throws: ModelPackError.self) {
                try await manager.withModel(pack: "tiny-video", component: "vae_decoder") { _ in }
            }
            // scan still reports the good packs beside the broken ones
            let results = try store.scan()
            #expect(results.count == 3)
        }
    }
}

extension TorchRuntimeTests.Errors {
    @Test func messagesAreReadable() throws {
        let vocoder = try TorchModule(path: try Fixtures.componentPath("tiny-voice", "vocoder"))
        let e = #expect(throws: TorchError.self) { try vocoder.forward(try Tensor(wave(7 * 4), shape: [1, 7, 4])) }
        // The interpreter's tracebacks stay in `message`; the description ends in the failure itself.
        #expect(e?.summary.hasPrefix("RuntimeError: Given groups=1") == true)
        #expect(e?.description.contains("expected input[1, 7, 4] to have 20 channels") == true)
        #expect(e?.description.contains("Traceback") == false)
        let e2 = #expect(throws: TorchError.self) { try vocoder.forward([]) }
        #expect(e2?.description.contains("missing value for argument 'mel'") == true)
    }
}
