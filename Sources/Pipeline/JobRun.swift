import Captions
import Failures
import Engines
import Foundation
import Logging
import Manifest
import Media
import Normaliser
import Contract

/// One job's state while it runs.
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
            let manifest = try await stage(.plan) { () throws(PipelineError) -> JobManifest in
                let m = try Pipeline.validate(manifestPath: manifestPath, displayName: displayName, defaults: pipeline.options.defaults,
                                          models: pipeline.options.models?.path)
                // `auto` passed the loader's script check as if Kokoro reads it; now the engine is known.
                let unreadable = ScriptFit.problems(in: pipeline.engines.resolvingVoices(m), file: displayName ?? manifestPath)
                if !unreadable.isEmpty { throw PipelineError(ManifestErrors(errors: unreadable)) }
                return m
            }
            sidecar.warnings = Pipeline.warnings(for: pipeline.engines.resolvingVoices(manifest))
            for w in sidecar.warnings ?? [] { logger.warning("\(w)", metadata: ["stage": "plan"]) }
            if sidecar.warnings?.isEmpty == true { sidecar.warnings = nil }
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
                let spoken = pipeline.engines.resolve(manifest.voice)
                let why = switch spoken.engine {
                case .kokoro: "a Kokoro pack with a \(spoken.voice) voice is installed"
                case .piper: "no Kokoro voice for \(spoken.voice) is installed; the Piper pack speaks it"
                default: "no neural voice pack for \(spoken.voice) is installed (`prostudio models install --list`)"
                }
                sidecar.voice_choice = (sidecar.voice_choice ?? "") + "; engine auto chose \(spoken.engine.rawValue)"
                    + (spoken.engine == .espeak ? "" : " (pack \(spoken.pack ?? "-"))") + ": \(why)"
            }
            report(.seed(manifest.seed))
            if let warnings = sidecar.warnings { report(.warnings(warnings)) }
            weights = StageWeights(for: manifest, engines: pipeline.engines)
            await record(.plan, engine: "manifest-v1", cached: false)
            try await render(manifest)
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
        let level: Logger.Level = .info
        let what = sidecar.state == .cancelled ? "job stopped at a checkpoint" : (sidecar.state == .rejected ? "job rejected" : "job failed")
        logger.log(level: level, "\(what)", metadata: ["stage": "\(e.stage ?? "-")", "code": "\(e.code)", "error": "\(e.message)"])
        writeSidecar()
        return .failure(e)
    }

    // MARK: stages

    var weights = StageWeights.embedded
    var reportedDetails = JobDetails()

    func report(_ message: WorkerMessage) { pipeline.options.reporter?(message) }
    var stageStarted = Date()
    var stageCPU = 0.0
    var stageEngine: [Stage: String] = [:]

    func stage<T>(_ s: Stage, _ body: () async throws(PipelineError) -> T) async throws(PipelineError) -> T {
        if isCancelled() { throw PipelineError.cancelled }
        sidecar.stage = s.rawValue
        sidecar.progress = overall(s, 0)
        writeSidecar()
        report(.stageStarted(stage: s.rawValue))
        progress(ProgressEvent(stage: s, fraction: 0, overall: overall(s, 0), finished: false))
        logger.debug("stage started", metadata: ["stage": "\(s.rawValue)"])
        ResourceUsage.resetPeak()
        stageStarted = Date()
        stageCPU = ResourceUsage.cpuSeconds()
        let value = try await body()
        return value
    }

    func record(_ s: Stage, engine: String, cached: Bool) async {
        let seconds = Date().timeIntervalSince(stageStarted)
        let cpu = ResourceUsage.cpuSeconds() - stageCPU
        let models = await pipeline.engines.drainModelUses?() ?? []
        let stageRecord = Sidecar.StageRecord(engine: engine, seconds: (seconds * 1000).rounded() / 1000, cpu_seconds: (cpu * 1000).rounded() / 1000,
                                              peak_memory_bytes: ResourceUsage.peakBytes(), cached: cached, models: models.isEmpty ? nil : models)
        sidecar.stages[s.rawValue] = stageRecord
        report(.stageEnded(stage: s.rawValue, record: stageRecord))
        progress(ProgressEvent(stage: s, fraction: 1, overall: overall(s, 1), finished: true))
        logger.info("stage done", metadata: ["stage": "\(s.rawValue)", "seconds": "\(String(format: "%.3f", seconds))", "cached": "\(cached)"])
    }

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
