import Engines
import Foundation
import Manifest
import Media
import Normaliser

/// Speech: one narration per scene, in the scene's voice. Each goes to disk as it is spoken (a long one a few
/// sentences at a time); compose reads it back when it mixes the scene. A recorded scene (`narration_audio`) is heard
/// in the producer's voice; the engine only times its words.
struct SpeechStage: JobStage {
    let manifest: JobManifest
    let engines: EngineSet
    var stage: Stage { .speech }

    /// What one scene's narration is made from.
    struct Inputs: CacheInputs {
        var engine: EngineIdentity
        var narration: String
        var voice: JobManifest.Voice
        var lexicon: [String: String]
        var pauses: [JobManifest.Scene.Pause]
        /// The recording and its size and modification time (a re-recorded take under the same name is new).
        var recording: (path: String, stamp: String)?

        var folder: String { "speech" }
        var parts: [String] {
            let words = lexicon.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "\u{1F}")
            var parts = ["speech-v3", Normaliser.version, engine.description, narration, "\(voice)", words,
                         "\(pauses.map { "\($0.offset):\($0.seconds)" })"]
            if let recording { parts += ["voiceover-v1", recording.path, recording.stamp] }
            return parts
        }
    }

    func run(_ job: JobRun) async throws(PipelineError) -> StageOutcome<[SpokenScene]> {
        var spoken: [SpokenScene] = []
        var voiceNames: [String] = []
        for (i, scene) in manifest.scenes.enumerated() {
            try job.checkCancelled()
            let voice = engines.resolve(scene.voice)
            let field = scene.voice == manifest.voice ? "voice.engine" : "scenes[\(i)].voice.engine"
            let speech: any SpeechEngine
            do { speech = try engines.speechEngine(voice.engine, field: field) } catch { throw PipelineError(error, stage: "speech") }
            let identity = speech.identity(for: voice)
            let name = scene.narrationAudio == nil ? identity.description : "narration_audio (aligned with \(identity.description))"
            if !voiceNames.contains(name) { voiceNames.append(name) }
            let inputs = Inputs(engine: identity, narration: scene.narration, voice: voice, lexicon: manifest.lexicon, pauses: scene.pauses,
                                recording: scene.narrationAudio.map { ($0, JobRun.fileStamp($0)) })
            if let cached = job.cachedNarration(inputs) {
                spoken.append(cached)
            } else {
                spoken.append(try await speak(scene, i, voice: voice, engine: speech, inputs: inputs, job: job))
            }
            job.advance(Double(i + 1) / Double(manifest.scenes.count))
        }
        return StageOutcome(value: spoken, engine: voiceNames.joined(separator: ", "), listsEngine: true)
    }

    /// The scene spoken (or its recording aligned) into the stage cache, with its header beside it.
    func speak(_ scene: JobManifest.Scene, _ i: Int, voice: JobManifest.Voice, engine: any SpeechEngine, inputs: Inputs,
               job: JobRun) async throws(PipelineError) -> SpokenScene {
        var header = JobRun.NarrationHeader(sampleRate: 0, words: [])
        let key = inputs.key
        let file = try await job.spool(inputs) { (writer: SampleFile.Writer) async throws(PipelineError) in
            if let file = scene.narrationAudio {
                let n = try await Voiceover.speak(scene: scene, recording: file, field: "scenes[\(i)].narration_audio", voice: voice,
                                                  lexicon: manifest.lexicon, engine: engine,
                                                  scratch: job.work.appendingPathComponent("voiceover-\(key).f32"), into: writer)
                header = JobRun.NarrationHeader(sampleRate: n.sampleRate, words: n.words)
                return
            }
            do {
                let n = try await NarrationParts.speak(scene: scene, voice: voice, lexicon: manifest.lexicon, engine: engine, into: writer)
                header = JobRun.NarrationHeader(sampleRate: n.sampleRate, words: n.words)
            } catch { throw PipelineError(error, stage: "speech") }
        }
        if let meta = try? JSONEncoder().encode(header) { job.cache.write(meta, stage: inputs.folder, key: key, ext: "json") }
        return SpokenScene(sampleRate: header.sampleRate, frames: JobRun.sampleCount(file), words: header.words, file: file)
    }
}
