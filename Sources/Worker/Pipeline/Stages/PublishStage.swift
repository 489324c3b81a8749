import Foundation
import Engines
import Manifest
import Media

/// Publish: the composed video checked by the quality gate, then the finished files renamed into the outbox, captions and poster first, the video last, so a video in the
/// outbox always has its poster and captions beside it.
struct PublishStage: JobStage {
    let manifest: JobManifest
    let timeline: Timeline
    let pictures: [ScenePicture]
    let files: ComposeStage.Files
    let outbox: URL
    let name: String
    let captions: Bool
    var stage: Stage { .publish }

    func run(_ job: JobRun) async throws(PipelineError) -> StageOutcome<Void> {
        // The quality gate first (issue 26): a file that fails it is not published (unless the manifest says flag).
        try job.qualityGate(manifest, timeline: timeline, pictures: pictures, cues: files.cues, video: files.video, publishedAs: name + ".mp4")
        do {
            if captions {
                try AtomicFile.publish(files.srt, as: outbox.appendingPathComponent(name + ".srt"))
                job.sidecar.outputs.captions = name + ".srt"
                try AtomicFile.publish(files.vtt, as: outbox.appendingPathComponent(name + ".vtt"))
                job.sidecar.outputs.webvtt = name + ".vtt"
            }
            try AtomicFile.publish(files.poster, as: outbox.appendingPathComponent(name + ".jpg"))
            job.sidecar.outputs.poster = name + ".jpg"
            try AtomicFile.publish(files.video, as: outbox.appendingPathComponent(name + ".mp4"))
            job.sidecar.outputs.video = name + ".mp4"
        } catch {
            throw PipelineError.io("io.publish", "cannot publish outputs to \(outbox.path): \(error.localizedDescription)", stage: "publish")
        }
        return StageOutcome(value: (), engine: "rename")
    }
}
