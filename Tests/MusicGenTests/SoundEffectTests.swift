import Engines
import Foundation
import Manifest
import Media
@testable import MusicGen
import Pipeline
import Testing
import TestSupport

/// Per-scene `sfx: {prompt, at, duration, pack, volume}`: the manifest fields, the engine's effect, and the mix.
@Suite(.serialized) struct SoundEffectTests {
    func load(_ yaml: String) throws(ManifestErrors) -> JobManifest {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sfx-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("job.yaml").path
        _ = FileManager.default.createFile(atPath: path, contents: Data(yaml.utf8))
        return try ManifestLoader.load(path: path)
    }

    @Test func fieldsDefaultsAndThePackFromMusic() throws {
        let m = try load("""
        music: {engine: musicgen, pack: tiny-musicgen}
        scenes:
          - narration: Waves.
            sfx: {prompt: waves on a beach, at: 0.5}
          - narration: Gulls.
            sfx: {prompt: gulls, duration: 1.5, volume: 0.8, pack: other-pack}
          - Nothing here.
        """)
        #expect(m.scenes[0].sfx == JobManifest.SoundEffect(prompt: "waves on a beach", at: 0.5, duration: 2, pack: "tiny-musicgen", volume: 0.5))
        #expect(m.scenes[1].sfx == JobManifest.SoundEffect(prompt: "gulls", at: 0, duration: 1.5, pack: "other-pack", volume: 0.8))
        #expect(m.scenes[2].sfx == nil)
    }

    @Test func anEffectNeedsAPackAndAPrompt() throws {
        #expect {
            _ = try load("""
            music: {mood: calm}
            scenes:
              - narration: Waves.
                sfx: {prompt: waves}
              - narration: Gulls.
                sfx: {pack: p, duration: 40}
            """)
        } throws: { error in
            guard let e = error as? ManifestErrors else { return false }
            let fields = Set(e.errors.compactMap(\.field))
            return fields == ["scenes[0].sfx.pack", "scenes[1].sfx.prompt", "scenes[1].sfx.duration"]
        }
    }

    /// The engine's effect: exactly the asked length, stereo, not silent, repeatable for a seed.
    @Test(.enabled(if: MusicTestPack.pack.enabled, MusicTestPack.needs)) func theEngineMakesAnEffect() async throws {
        let engine = try MusicTestPack.engine()
        let sfx = JobManifest.SoundEffect(prompt: "waves on a beach", at: 0, duration: 0.5, pack: MusicTestPack.name, volume: 1)
        let a = try await engine.effect(sfx, frames: 24_000, sampleRate: 48_000, seed: 4)
        #expect(a.count == 48_000)
        #expect(a.contains { abs($0) > 1e-6 })
        let b = try await engine.effect(sfx, frames: 24_000, sampleRate: 48_000, seed: 4)
        #expect(b == a)
        #expect(engine.identity(for: sfx).packHash == (try engine.pack(named: MusicTestPack.name).0.identity))
    }

    /// Through the pipeline: a scene's effect is rendered (and cached like the bed); with the music bed silenced
    /// (volume 0), the effect's window is louder than the same span of a render without it.
    @Test(.enabled(if: MusicTestPack.pack.enabled, MusicTestPack.needs)) func aSceneEffectIsMixedIn() async throws {
        let models = try MusicTestPack.models(), engine = try MusicTestPack.engine()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sfx-render-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var engines = EngineSet.embedded
        engines.music[.musicgen] = engine
        func render(_ name: String, sfx: String) async throws -> [Float] {
            let yaml = """
            seed: 3
            output: {width: 160, height: 90, fps: 10, quality: draft}
            voice: {engine: espeak, voice: en-us, volume: 0}
            music: {engine: musicgen, pack: tiny-musicgen, volume: 0}
            captions: off
            scenes:
              - narration: Quiet.
                pause: 1.5\(sfx)
            """
            let path = dir.appendingPathComponent("\(name).yaml")
            try Data(yaml.utf8).write(to: path)
            let out = dir.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            let pipeline = Pipeline(options: PipelineOptions(outbox: out, cache: dir.appendingPathComponent("cache"), models: models), engines: engines)
            let sidecar = try await pipeline.run(manifestPath: path.path, jobID: name)
            #expect(sidecar.state == .done)
            return try MediaReader.audioSamples(out.appendingPathComponent("\(name).mp4").path)
        }
        let plain = try await render("plain", sfx: "")
        let with = try await render("with", sfx: "\n    sfx: {prompt: waves on a beach, at: 0.5, duration: 1, volume: 1}")
        func rms(_ s: [Float], _ a: Double, _ b: Double) -> Float {
            let x = s[(Int(a * 48_000) * 2)..<min(s.count, Int(b * 48_000) * 2)]
            return (x.reduce(0) { $0 + $1 * $1 } / Float(max(1, x.count))).squareRoot()
        }
        #expect(rms(with, 0.6, 1.4) > 10 * max(rms(plain, 0.6, 1.4), 1e-5), "with \(rms(with, 0.6, 1.4)), plain \(rms(plain, 0.6, 1.4))")
    }
}
