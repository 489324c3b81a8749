// Re-exported: `Sidecar` and the worker's messages are what a pipeline run produces, for every caller.
@_exported import Contract
import Captions
import Failures
import Engines
import Foundation
import Logging
import Manifest
import Media
import Normaliser
import Synchronization

/// The stages in order; names appear in the sidecar, the journal and the logs.
public enum Stage: String, CaseIterable, Sendable {
    case plan, speech, visuals, music, compose, publish
}

/// Share of the job's progress bar each stage takes, from the engines the job uses. Compose dominates on the
/// embedded engines; a neural voice makes speech about as long as compose, and a video model's denoising makes
/// visuals about twice compose (which then also runs its decoder): the stage times of `inbox.example/neural.yaml`
/// and `diffusion.yaml` here. Real weights on a GPU will shift these; the bar only has to move steadily.
struct StageWeights: Sendable {
    private let shares: [Stage: Double]

    static let embedded = StageWeights(speech: 13, visuals: 2)

    init(for manifest: JobManifest, engines: EngineSet) {
        let diffusion = manifest.scenes.contains { $0.visuals.engine == .diffusion }
        let neural = manifest.scenes.contains { [.piper, .kokoro].contains(engines.resolve($0.voice).engine) }
        self.init(speech: neural ? 75 : 13, visuals: diffusion ? 165 : 2)
    }

    private init(speech: Double, visuals: Double) {
        let raw: [Stage: Double] = [.plan: 2, .speech: speech, .visuals: visuals, .music: 5, .compose: 75, .publish: 3]
        let sum = raw.values.reduce(0, +)
        shares = raw.mapValues { $0 / sum }
    }

    func share(_ stage: Stage) -> Double { shares[stage] ?? 0 }

    /// Progress of the whole job when `stage` is `fraction` done.
    func overall(_ stage: Stage, _ fraction: Double) -> Double {
        var total = 0.0
        for s in Stage.allCases {
            if s == stage { return min(1, total + share(s) * fraction) }
            total += share(s)
        }
        return min(1, total)
    }
}

/// What the pipeline reports as it goes.
public struct ProgressEvent: Sendable {
    public var stage: Stage
    /// Progress within the stage, 0...1.
    public var fraction: Double
    /// Progress of the whole job, 0...1.
    public var overall: Double
    public var finished: Bool
}

public struct PipelineOptions: Sendable {
    public var outbox: URL
    public var cache: URL
    public var models: URL?
    /// Site-wide manifest defaults (the daemon config's `defaults:`).
    public var defaults: ManifestDefaults?
    /// Told of every stage-cache entry written or reused.
    public var cacheObserver: (@Sendable (StageCache.Event) -> Void)?
    /// When set, the job reports what happens here, as the worker's typed messages (stage started and ended with its
    /// record, seed, warnings, details, outputs), instead of writing a sidecar: a daemon worker sends them to its
    /// supervisor, which journals them and writes the sidecar from the journal (Docs/contract.md).
    public var reporter: (@Sendable (WorkerMessage) -> Void)?
    /// The folder that holds the job's work folder; nil: the outbox (`prostudio render`). The daemon's is in its state
    /// folder, so a full outbox is found at publish (retryable) and a render never fills the outbox half-way.
    public var work: URL?
    public init(outbox: URL, cache: URL, models: URL? = nil, defaults: ManifestDefaults? = nil,
                cacheObserver: (@Sendable (StageCache.Event) -> Void)? = nil, reporter: (@Sendable (WorkerMessage) -> Void)? = nil) {
        self.outbox = outbox; self.cache = cache; self.models = models; self.defaults = defaults
        self.cacheObserver = cacheObserver; self.reporter = reporter
    }
}

/// Runs one job: manifest in, MP4 + SRT + poster + sidecar out. The job's task runs on its own thread, never on
/// the cooperative pool.
public struct Pipeline: Sendable {
    public let options: PipelineOptions
    public let engines: EngineSet
    public let logger: Logger

    public init(options: PipelineOptions, engines: EngineSet = .embedded, logger: Logger = Logger(label: "prostudio.pipeline")) {
        self.options = options
        self.engines = engines
        self.logger = logger
        MediaLog.quiet()
    }

    /// Validates without rendering.
    /// `displayName` is how errors name the manifest (the daemon passes where the user dropped it).
    /// `models`: the packs folder, when given the model packs the manifest names must be installed there (`PackCheck`).
    public static func validate(manifestPath: String, displayName: String? = nil, defaults: ManifestDefaults? = nil,
                                models: String? = nil) throws(PipelineError) -> JobManifest {
        let manifest: JobManifest
        do { manifest = try ManifestLoader.load(path: manifestPath, displayName: displayName, defaults: defaults) } catch { throw PipelineError(error) }
        try VoiceCheck.validate(manifest, file: displayName ?? manifestPath)
        try AssetCheck.validate(manifest, file: displayName ?? manifestPath)
        try TextCheck.validate(manifest, file: displayName ?? manifestPath)
        if let models {
            let missing = PackCheck.problems(in: manifest, models: models, file: displayName ?? manifestPath)
            if !missing.isEmpty { throw PipelineError(ManifestErrors(errors: missing)) }
        }
        return manifest
    }

    /// What the manifest asks for that will not look or sound right, one line per problem, naming the scene.
    public static func warnings(for manifest: JobManifest) -> [String] {
        VoiceCheck.warnings(manifest) + AssetCheck.warnings(manifest) + TextCheck.warnings(manifest) + [CaptionLook.fontWarning(manifest)].compactMap { $0 }
    }

    /// Runs the job on a thread of its own (`JobThread`). It stops at the next stage or scene boundary, or in
    /// compose's frame loop, when `isCancelled` says so or the calling task is cancelled.
    public func run(manifestPath: String, jobID: String, name: String? = nil, displayName: String? = nil,
                    progress: @escaping @Sendable (ProgressEvent) -> Void = { _ in },
                    isCancelled: @escaping @Sendable () -> Bool = { false }) async throws(PipelineError) -> Sidecar {
        let thread = JobThread(name: "prostudio.job")
        defer { thread.close() }
        // Read from compose's encoder threads too, which are not the task's: a flag, not `Task.isCancelled`.
        let cancelled = CancelFlag()
        let result = await withTaskCancellationHandler {
            await withTaskExecutorPreference(thread) {
                let job = JobRun(pipeline: self, manifestPath: manifestPath, displayName: displayName, jobID: jobID, name: name,
                                 progress: progress, isCancelled: { cancelled.isSet || isCancelled() })
                return await job.run()
            }
        } onCancel: {
            cancelled.set()
        }
        return try result.get()
    }
}

/// Set once, read from any thread.
final class CancelFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func set() { flag.store(true, ordering: .relaxed) }
    var isSet: Bool { flag.load(ordering: .relaxed) }
}
