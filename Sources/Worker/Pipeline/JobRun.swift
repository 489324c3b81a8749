import Engines
import Foundation
import Logging
import Manifest
import Media
import Contract

/// One job's state while it runs: the stages in order (`render`), run by `run(_:)` (JobStage.swift).
final class JobRun {
    let pipeline: Pipeline
    let manifestPath: String
    let displayName: String?
    let jobID: String
    let progress: @Sendable (ProgressEvent) -> Void
    let isCancelled: @Sendable () -> Bool
    var sidecar: Sidecar
    var logger: Logger
    let cache: StageCache
    let work: URL
    /// Files outside `work` this job made and removes when it ends.
    var scratch: [URL] = []
    var weights = StageWeights.embedded
    var reportedDetails = JobDetails()
    /// The stage running now, and what the stage cache served it so far.
    var current = Stage.plan
    var cacheUse = CacheUse()

    init(pipeline: Pipeline, manifestPath: String, displayName: String?, jobID: String, name: String?, progress: @escaping @Sendable (ProgressEvent) -> Void, isCancelled: @escaping @Sendable () -> Bool) {
        self.pipeline = pipeline
        self.manifestPath = manifestPath
        self.displayName = displayName
        self.jobID = jobID
        self.progress = progress
        self.isCancelled = isCancelled
        sidecar = Sidecar(name: name ?? ManifestLoader.jobName(forPath: manifestPath), jobID: jobID, state: .running)
        logger = pipeline.logger
        logger[metadataKey: "job_id"] = "\(jobID)"
        cache = StageCache(root: pipeline.options.cache, observer: pipeline.options.cacheObserver)
        work = (pipeline.options.work ?? pipeline.options.outbox).appendingPathComponent(".prostudio-work-\(jobID)")
    }

    func run() async -> Result<Sidecar, PipelineError> {
        defer {
            try? FileManager.default.removeItem(at: work)
            for url in scratch { try? FileManager.default.removeItem(at: url) }
        }
        do {
            try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        } catch {
            return fail(.io("io.outbox", "cannot write to the output folder \(pipeline.options.outbox.path): \(error.localizedDescription)"))
        }
        do {
            try await render()
            sidecar.state = .done
            sidecar.stage = nil
            sidecar.progress = 1
            writeSidecar()
            report(.outputs(sidecar.outputs))
            return .success(sidecar)
        } catch {
            return fail(error)
        }
    }

    /// The job: plan, speech, visuals, music, compose and publish, each a value run by `run(_:)`.
    func render() async throws(PipelineError) {
        let engines = pipeline.engines, sampleRate = EncoderSettings.audioSampleRate
        let manifest = try await run(PlanStage(manifestPath: manifestPath, displayName: displayName, options: pipeline.options, engines: engines))
        let spoken = try await run(SpeechStage(manifest: manifest, engines: engines))
        let timeline = Timeline(manifest: manifest, narrationDurations: spoken.map(\.duration))
        describe(timeline)
        let pictures = try await run(VisualsStage(manifest: manifest, timeline: timeline, narrations: spoken.map(\.narration), engines: engines))
        let soundtrack = try await run(MusicStage(manifest: manifest, timeline: timeline, engines: engines, sampleRate: sampleRate))
        let files = try await run(ComposeStage(manifest: manifest, timeline: timeline, spoken: spoken, pictures: pictures,
                                               soundtrack: soundtrack, sampleRate: sampleRate))
        try await run(PublishStage(manifest: manifest, timeline: timeline, pictures: pictures, files: files, outbox: pipeline.options.outbox,
                                   name: sidecar.name, captions: manifest.captions.mode != .off))
    }

    /// The video's length and where each scene and its narration sit, for the sidecar.
    func describe(_ timeline: Timeline) {
        sidecar.duration_s = timeline.duration
        sidecar.scenes = timeline.scenes.indices.map { i in
            let start = timeline.start(of: i), scene = timeline.scenes[i]
            return .init(start_s: start, duration_s: Double(scene.frames) / Double(timeline.fps),
                         narration_start_s: start + scene.narrationOffset, narration_end_s: start + scene.narrationOffset + scene.narrationDuration)
        }
    }

    func fail(_ error: PipelineError) -> Result<Sidecar, PipelineError> {
        var e = error
        if e.stage == nil { e.stage = sidecar.stage }
        sidecar.state = switch e.disposition {
        case .cancelled: .cancelled
        case .invalidInput: .rejected
        case .retryable, .permanent: .failed
        }
        sidecar.error = e.sidecarError
        // Logged for the record only (info): the caller reports the error itself, `render` on stderr, the daemon in the
        // journal and its own log; at error level `render` printed every failure twice.
        let what = sidecar.state == .cancelled ? "job stopped at a checkpoint" : (sidecar.state == .rejected ? "job rejected" : "job failed")
        logger.log(level: .info, "\(what)", metadata: ["stage": "\(e.stage ?? "-")", "code": "\(e.code)", "error": "\(e.message)"])
        writeSidecar()
        return .failure(e)
    }

    func report(_ message: WorkerMessage) { pipeline.options.reporter?(message) }

    func overall(_ s: Stage, _ fraction: Double) -> Double { weights.overall(s, fraction) }

    /// The sidecar as it stands: written to the outbox (`render`), or, for a daemon's worker, the details that changed
    /// since the last report (stage, progress and records go as their own messages).
    func writeSidecar() {
        if pipeline.options.reporter != nil {
            let details = JobDetails(of: sidecar)
            if details != reportedDetails {
                reportedDetails = details
                report(.details(details))
            }
            return
        }
        do { try sidecar.write(to: pipeline.options.outbox) } catch {
            logger.warning("cannot write sidecar", metadata: ["error": "\(error)"])
        }
    }
}

/// Lets an engine's progress (a model's denoising steps) reach the sidecar, at most twice a second.
/// `@unchecked Sendable`: engines call `progress` from within the job's own task, which runs one piece at a time on
/// the job's thread (`JobThread`), so the job is never touched from two threads at once.
final class SidecarProgress: @unchecked Sendable {
    private unowned let job: JobRun
    private var last = Date.distantPast
    init(job: JobRun) { self.job = job }
    func update(_ overall: Double) {
        guard Date().timeIntervalSince(last) >= 0.5 else { return }
        last = Date()
        job.sidecar.progress = overall
        job.writeSidecar()
    }
}
