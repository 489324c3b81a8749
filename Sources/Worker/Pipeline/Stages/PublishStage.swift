import Contract
import Foundation
import Engines
import Manifest
import Media

/// Publish: the composed videos checked by the quality gate, then the finished files renamed into the outbox, captions,
/// poster and renditions first, the main video last, so a video in the outbox always has the rest beside it.
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
        // Every rendition is checked before anything is published, so a failing one leaves no half of a job behind.
        try job.qualityGate(manifest, timeline: timeline, pictures: pictures, cues: files.cues, video: files.video, publishedAs: name + ".mp4")
        var renditions: [Sidecar.Rendition] = []
        for r in files.renditions {
            let file = "\(name).\(r.rendition.name).mp4"
            let quality = try job.qualityGate(r.manifest, timeline: timeline, pictures: pictures, cues: r.cues, video: r.video,
                                              publishedAs: file, loudnessTarget: r.rendition.loudness, primary: false)
            let bytes = ((try? FileManager.default.attributesOfItem(atPath: r.video.path))?[.size] as? NSNumber)?.int64Value ?? 0
            let o = r.rendition.output
            renditions.append(Sidecar.Rendition(name: r.rendition.name, file: file, width: o.width, height: o.height, fps: o.fps,
                                                codec: "h264+aac", bytes: bytes, duration_s: timeline.duration,
                                                loudness_target: r.rendition.loudness, quality: quality))
        }
        do {
            if captions {
                try AtomicFile.publish(files.srt, as: outbox.appendingPathComponent(name + ".srt"))
                job.sidecar.outputs.captions = name + ".srt"
                try AtomicFile.publish(files.vtt, as: outbox.appendingPathComponent(name + ".vtt"))
                job.sidecar.outputs.webvtt = name + ".vtt"
            }
            try AtomicFile.publish(files.poster, as: outbox.appendingPathComponent(name + ".jpg"))
            job.sidecar.outputs.poster = name + ".jpg"
            for (r, entry) in zip(files.renditions, renditions) {
                try AtomicFile.publish(r.video, as: outbox.appendingPathComponent(entry.file))
            }
            if !renditions.isEmpty {
                job.sidecar.renditions = renditions
                job.writeSidecar()
            }
            try AtomicFile.publish(files.video, as: outbox.appendingPathComponent(name + ".mp4"))
            job.sidecar.outputs.video = name + ".mp4"
        } catch {
            throw PipelineError.io("io.publish", "cannot publish outputs to \(outbox.path): \(error.localizedDescription)", stage: "publish")
        }
        return StageOutcome(value: (), engine: "rename")
    }
}
