import Engines
import Foundation
import Manifest
import Media

/// Music: one bed for the whole job, streamed by the engine to the stage cache (or the work folder) and read back a
/// window at a time when compose mixes it; then each scene's sound effect (`sfx`, from the musicgen engine), added
/// after the bed is ducked.
struct MusicStage: JobStage {
    let manifest: JobManifest
    let timeline: Timeline
    let engines: EngineSet
    let sampleRate: Int
    var stage: Stage { .music }

    struct Soundtrack {
        var bed: URL?
        var effects: [SoundtrackMix.Effect]
    }

    /// What a bed is made from: a model engine's identity names its pack's hash, so the key changes when the pack does;
    /// a `file` bed's file by its size and modification time.
    struct BedInputs: CacheInputs {
        var engine: EngineIdentity
        var music: JobManifest.Music
        var fileStamp: String
        var seed: UInt64
        var samples: Int
        var folder: String { "music" }
        var parts: [String] { ["music", engine.description, engine.packHash ?? "", "\(music)", fileStamp, "\(seed)", "\(samples)"] }
    }

    struct EffectInputs: CacheInputs {
        var engine: EngineIdentity
        var sfx: JobManifest.SoundEffect
        var seed: UInt64
        var frames: Int
        var folder: String { "music" }
        var parts: [String] { ["sfx", engine.description, engine.packHash ?? "", "\(sfx)", "\(seed)", "\(frames)"] }
    }

    var totalSamples: Int { timeline.totalFrames * sampleRate / timeline.fps }

    func run(_ job: JobRun) async throws(PipelineError) -> StageOutcome<Soundtrack> {
        var engine: (any MusicEngine)?
        if manifest.music.engine != .none {
            do { engine = try engines.musicEngine(manifest.music.engine) } catch { throw PipelineError(error, stage: "music") }
        }
        let bed: URL?
        if let engine {
            bed = try await self.bed(engine, job)
        } else {
            bed = nil
        }
        let effects = try await soundEffects(job)
        return StageOutcome(value: Soundtrack(bed: bed, effects: effects), engine: engine?.identity(for: manifest.music).description ?? "none",
                            listsEngine: engine != nil)
    }

    func bed(_ engine: any MusicEngine, _ job: JobRun) async throws(PipelineError) -> URL {
        let fileStamp = manifest.music.file.map { path in
            let attrs = try? FileManager.default.attributesOfItem(atPath: path)
            return "\(path)|\(attrs?[.size] ?? 0)|\((attrs?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)"
        } ?? ""
        let inputs = BedInputs(engine: engine.identity(for: manifest.music), music: manifest.music, fileStamp: fileStamp,
                               seed: manifest.seed, samples: totalSamples)
        let total = totalSamples
        if let file = job.cached(inputs, valid: { JobRun.sampleCount($0) == total * 2 }) { return file }
        return try await job.spool(inputs) { (writer: SampleFile.Writer) async throws(PipelineError) in
            do {
                try await engine.bed(frames: total, sampleRate: sampleRate, music: manifest.music, seed: manifest.seed) { writer.write($0) }
            } catch { throw PipelineError(error, stage: "music") }
        }
    }

    /// Each scene's `sfx` at its volume, placed `at` seconds into its scene: their files, read when compose reaches them.
    func soundEffects(_ job: JobRun) async throws(PipelineError) -> [SoundtrackMix.Effect] {
        guard manifest.scenes.contains(where: { $0.sfx != nil }) else { return [] }
        let engine: any MusicEngine
        do { engine = try engines.musicEngine(.musicgen) } catch { throw PipelineError(error, stage: "music") }
        var effects: [SoundtrackMix.Effect] = []
        for (i, scene) in manifest.scenes.enumerated() {
            guard let sfx = scene.sfx else { continue }
            try job.checkCancelled()
            let start = Int((timeline.start(of: i) + sfx.at) * Double(sampleRate))
            let frames = min(Int(sfx.duration * Double(sampleRate)), totalSamples - start)
            guard frames > 0 else { continue }
            let seed = (manifest.music.seed ?? manifest.seed) &+ UInt64(i + 1)
            let inputs = EffectInputs(engine: engine.identity(for: sfx), sfx: sfx, seed: seed, frames: frames)
            let file: URL
            if let cached = job.cached(inputs) {
                file = cached
            } else {
                file = try await job.spool(inputs) { (writer: SampleFile.Writer) async throws(PipelineError) in
                    do throws(EngineError) { writer.write(try await engine.effect(sfx, frames: frames, sampleRate: sampleRate, seed: seed)) } catch {
                        throw PipelineError(EngineError(code: error.code, message: "scenes[\(i)].sfx: \(error.message)",
                                                        field: error.field.map { $0.replacingOccurrences(of: "scenes.", with: "scenes[\(i)].") }), stage: "music")
                    }
                }
            }
            effects.append(SoundtrackMix.Effect(start: start, file: file, gain: Float(sfx.volume)))
        }
        return effects
    }
}
