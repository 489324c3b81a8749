import Foundation
import Manifest

/// Publish: the finished files renamed into the outbox, captions and poster first, the video last, so a video in the
/// outbox always has its poster and captions beside it.
struct PublishStage: JobStage {
    let files: ComposeStage.Files
    let outbox: URL
    let name: String
    let captions: Bool
    var stage: Stage { .publish }

    func run(_ job: JobRun) async throws(PipelineError) -> StageOutcome<Void> {
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
