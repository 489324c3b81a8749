import Contract
import Foundation
import Logging

/// One stage of a job as a value: built from its typed inputs, run by `JobRun.run(_:)`. The stage does its work and
/// says which engine did it; the runner does, the same way for every stage, what a stage must not do itself (see
/// Docs/contract.md, "Stages").
protocol JobStage {
    associatedtype Output
    /// Which stage this is: its name in the sidecar, the journal and the logs, and its share of the progress bar.
    var stage: Stage { get }
    func run(_ job: JobRun) async throws(PipelineError) -> StageOutcome<Output>
}

struct StageOutcome<Output> {
    var value: Output
    /// What the stage record names as its engine ("espeak-ng 1.51", "libx264 veryfast crf 23 + aac").
    var engine: String
    /// Whether the sidecar's `engines` map names it too (the stages whose engine a manifest chooses).
    var listsEngine = false
}

/// Everything that changes a cached result, and nothing else: the cache key is derived from these inputs, so an
/// input cannot be left out of a key built by hand somewhere else.
protocol CacheInputs {
    /// The stage's folder in the cache (`speech`, `music`).
    var folder: String { get }
    /// The inputs in a fixed order, the recipe's name and version first.
    var parts: [String] { get }
}

extension CacheInputs {
    var key: String { StageCache.key(parts) }
}

/// The runner: the one place that starts, measures, records and cancels stages.
extension JobRun {
    /// Runs `stage`: checks for cancellation first, makes it the sidecar's current stage, reports it started, resets the
    /// peak-memory mark, clock and cache counts; after it, records its engine, time, CPU, peak memory, the model uses
    /// and whether the stage cache served all of its work, and reports it ended.
    func run<S: JobStage>(_ stage: S) async throws(PipelineError) -> S.Output {
        let s = stage.stage
        try checkCancelled()
        sidecar.stage = s.rawValue
        current = s
        sidecar.progress = overall(s, 0)
        writeSidecar()
        report(.stageStarted(stage: s.rawValue))
        progress(ProgressEvent(stage: s, fraction: 0, overall: overall(s, 0), finished: false))
        logger.debug("stage started", metadata: ["stage": "\(s.rawValue)"])
        ResourceUsage.resetPeak()
        let started = Date(), cpu = ResourceUsage.cpuSeconds()
        cacheUse = CacheUse()
        let outcome = try await stage.run(self)
        if outcome.listsEngine { sidecar.engines[s.rawValue] = outcome.engine }
        let seconds = Date().timeIntervalSince(started)
        let models = await pipeline.engines.drainModelUses?() ?? []
        let record = Sidecar.StageRecord(engine: outcome.engine, seconds: (seconds * 1000).rounded() / 1000,
                                         cpu_seconds: ((ResourceUsage.cpuSeconds() - cpu) * 1000).rounded() / 1000,
                                         peak_memory_bytes: ResourceUsage.peakBytes(), cached: cacheUse.servedAll,
                                         models: models.isEmpty ? nil : models)
        sidecar.stages[s.rawValue] = record
        report(.stageEnded(stage: s.rawValue, record: record))
        progress(ProgressEvent(stage: s, fraction: 1, overall: overall(s, 1), finished: true))
        logger.info("stage done", metadata: ["stage": "\(s.rawValue)", "seconds": "\(String(format: "%.3f", seconds))", "cached": "\(record.cached)"])
        return outcome.value
    }

    /// A stage's checkpoint between scenes: throws `cancelled` once the job is asked to stop.
    func checkCancelled() throws(PipelineError) {
        if isCancelled() { throw PipelineError.cancelled }
    }

    /// The current stage is `fraction` (0...1) done.
    func advance(_ fraction: Double) {
        progress(ProgressEvent(stage: current, fraction: fraction, overall: overall(current, fraction), finished: false))
    }
}

/// The stage cache's answers during one stage: the stage counts as cached when it looked something up and every
/// look-up was served (all of speech's scenes; music's bed and effects). A stage that uses no cache is never cached.
struct CacheUse {
    var lookups = 0, hits = 0
    var servedAll: Bool { lookups > 0 && hits == lookups }
}
