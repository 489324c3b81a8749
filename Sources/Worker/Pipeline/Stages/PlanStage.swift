import Engines
import Foundation
import Manifest

/// Plan: the manifest read, validated and checked against the engines that will run it; the sidecar gets what the job
/// is (title, seed, size, the voice and why) and the progress bar its weights.
struct PlanStage: JobStage {
    let manifestPath: String
    let displayName: String?
    let options: PipelineOptions
    let engines: EngineSet
    var stage: Stage { .plan }

    func run(_ job: JobRun) async throws(PipelineError) -> StageOutcome<JobManifest> {
        let manifest = try Pipeline.validate(manifestPath: manifestPath, displayName: displayName, defaults: options.defaults,
                                             models: options.models?.path)
        // `auto` passed the loader's script check as if Kokoro reads it; now the engine is known.
        let unreadable = ScriptFit.problems(in: engines.resolvingVoices(manifest), file: displayName ?? manifestPath)
        if !unreadable.isEmpty { throw PipelineError(ManifestErrors(errors: unreadable)) }
        describe(manifest, in: &job.sidecar)
        for w in job.sidecar.warnings ?? [] { job.logger.warning("\(w)", metadata: ["stage": "plan"]) }
        job.report(.seed(manifest.seed))
        if let warnings = job.sidecar.warnings { job.report(.warnings(warnings)) }
        job.weights = StageWeights(for: manifest, engines: engines)
        return StageOutcome(value: manifest, engine: "manifest-v1")
    }

    func describe(_ manifest: JobManifest, in sidecar: inout Sidecar) {
        let warnings = Pipeline.warnings(for: engines.resolvingVoices(manifest))
        sidecar.warnings = warnings.isEmpty ? nil : warnings
        sidecar.name = sidecar.name.isEmpty ? manifest.name : sidecar.name
        sidecar.title = manifest.title
        sidecar.seed = manifest.seed
        sidecar.width = manifest.output.width
        sidecar.height = manifest.output.height
        sidecar.fps = manifest.output.fps
        // Which voice and why: the language detection's words for a plain script, else the manifest's (and the
        // site defaults') own setting. The engines that spoke are in `engines.speech`.
        sidecar.voice_choice = manifest.voiceChoice
            ?? "voice \(manifest.voice.voice) (engine \(manifest.voice.engine.rawValue)): as the manifest and the defaults set it"
        if manifest.voice.engine == .auto {
            let spoken = engines.resolve(manifest.voice)
            let why = switch spoken.engine {
            case .kokoro: "a Kokoro pack with a \(spoken.voice) voice is installed"
            case .piper: "no Kokoro voice for \(spoken.voice) is installed; the Piper pack speaks it"
            default: "no neural voice pack for \(spoken.voice) is installed (`prostudio models install --list`)"
            }
            sidecar.voice_choice = (sidecar.voice_choice ?? "") + "; engine auto chose \(spoken.engine.rawValue)"
                + (spoken.engine == .espeak ? "" : " (pack \(spoken.pack ?? "-"))") + ": \(why)"
        }
    }
}
