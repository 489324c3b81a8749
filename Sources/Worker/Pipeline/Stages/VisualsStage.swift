import Engines
import Foundation
import Manifest
import Media

/// Visuals: each engine describes its scenes' pictures; compose draws them. Each engine first sees all of its scenes
/// (a model engine loads each component once for the job), then draws them scene by scene.
struct VisualsStage: JobStage {
    let manifest: JobManifest
    let timeline: Timeline
    let narrations: [Narration]
    let engines: EngineSet
    var stage: Stage { .visuals }

    func run(_ job: JobRun) async throws(PipelineError) -> StageOutcome<[ScenePicture]> {
        var names: [String] = []
        var scenes: [(engine: any VisualsEngine, canvas: SceneCanvas)] = []
        for (i, scene) in manifest.scenes.enumerated() {
            let visuals: any VisualsEngine
            do { visuals = try engines.visualsEngine(scene.visuals.engine, field: "scenes[\(i)].visuals.engine") } catch { throw PipelineError(error, stage: "visuals") }
            if !names.contains(visuals.identity.description) { names.append(visuals.identity.description) }
            scenes.append((visuals, canvas(i, scene)))
        }
        for name in names {
            try job.checkCancelled()
            let mine = scenes.filter { $0.engine.identity.description == name }
            await mine.first?.engine.prepare(mine.map(\.canvas))
        }
        var pictures: [ScenePicture] = []
        let count = Double(manifest.scenes.count)
        for (i, (visuals, canvas)) in scenes.enumerated() {
            try job.checkCancelled()
            let sidecarProgress = SidecarProgress(job: job)
            let report: @Sendable (Double) -> Void = { [progress = job.progress, weights = job.weights] f in
                let fraction = (Double(i) + min(1, max(0, f))) / count
                progress(ProgressEvent(stage: .visuals, fraction: fraction, overall: weights.overall(.visuals, fraction), finished: false))
                sidecarProgress.update(weights.overall(.visuals, fraction))
            }
            do { pictures.append(try await visuals.picture(for: canvas, progress: report)) } catch { throw PipelineError(error, stage: "visuals") }
        }
        for (i, (visuals, canvas)) in scenes.enumerated() {
            if let media = visuals.media(for: canvas) { job.sidecar.scenes?[i].media = media }
        }
        return StageOutcome(value: pictures, engine: names.joined(separator: ", "), listsEngine: true)
    }

    /// What the scene's engine is told: its size and length (with the transition's overlap), what the manifest says it
    /// shows, the voice's word times, and where the title card and burned captions sit over it.
    func canvas(_ i: Int, _ scene: JobManifest.Scene) -> SceneCanvas {
        let overlap = i < manifest.scenes.count - 1 ? timeline.transitionFrames : 0
        var canvas = SceneCanvas(index: i, width: manifest.output.width, height: manifest.output.height, fps: manifest.output.fps,
                                 frames: timeline.scenes[i].frames + overlap, prompt: scene.prompt, image: scene.image,
                                 visuals: scene.visuals, jobSeed: manifest.seed, focus: scene.focus, narration: scene.narration)
        canvas.video = scene.video
        canvas.videoStart = scene.start
        canvas.videoLoops = scene.fill == .loop
        canvas.spokenWords = narrations[i].words
        canvas.narrationOffset = timeline.scenes[i].narrationOffset
        canvas.narrationDuration = narrations[i].duration
        if i == 0, let end = JobRun.titleEnd(manifest, timeline) { canvas.titleUntil = end }
        if manifest.captions.mode == .burn { canvas.captions = (CaptionLook.style(for: manifest), manifest.captions.maxLines) }
        return canvas
    }
}
