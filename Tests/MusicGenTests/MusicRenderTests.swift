import Engines
import Foundation
import Manifest
@testable import MusicGen
import Pipeline
import Testing
import TestSupport

/// `music: {engine: musicgen}` through the real pipeline: the bed is made once, named with the pack's hash, and a
/// second render of the same manifest takes it from the stage cache.
@Suite(.serialized, .enabled(if: MusicTestPack.pack.enabled, MusicTestPack.needs)) struct MusicRenderTests {
    static let manifest = """
    title: A Quiet Harbour
    seed: 3
    output: {width: 160, height: 90, fps: 10, quality: draft}
    voice: {engine: espeak, voice: en-us}
    music: {engine: musicgen, pack: tiny-musicgen, seed: 9, guidance: 3, temperature: 1, volume: 0.5}
    captions: off
    scenes:
      - narration: The harbour is quiet this morning.
      - narration: Boats wait for the tide.
    """

    @Test func aMusicGenBedRendersAndIsCached() async throws {
        let models = try MusicTestPack.models(), engine = try MusicTestPack.engine()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("musicgen-render-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("harbour.yaml")
        try Data(Self.manifest.utf8).write(to: path)
        var engines = EngineSet.embedded
        engines.music[.musicgen] = engine
        let pack = try engine.pack(named: MusicTestPack.name).0
        func render(_ name: String) async throws -> Sidecar {
            let out = dir.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            let pipeline = Pipeline(options: PipelineOptions(outbox: out, cache: dir.appendingPathComponent("cache"), models: models),
                                    engines: engines)
            return try await pipeline.run(manifestPath: path.path, jobID: name)
        }
        let first = try await render("first")
        #expect(first.state == .done)
        #expect(first.engines["music"] == "musicgen 1 pack:\(pack.identity.prefix(12))", "\(first.engines)")
        #expect(first.stages["music"]?.cached == false)
        let second = try await render("second")
        #expect(second.stages["music"]?.cached == true)
    }
}
