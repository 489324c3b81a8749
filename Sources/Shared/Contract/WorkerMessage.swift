import Failures
import Foundation

/// What a job found out as it ran, apart from its stage records, seed, outputs and warnings: the facts the sidecar
/// shows. The worker sends it whenever it changes (`WorkerMessage.details`); the supervisor journals it.
public struct JobDetails: Codable, Sendable, Hashable {
    public var title: String?
    public var duration_s: Double?
    public var width: Int?
    public var height: Int?
    public var fps: Int?
    public var scenes: [Sidecar.SceneTiming]?
    /// Engine kind (`speech`, `visuals`, `music`) -> identity (version, pack hash).
    public var engines: [String: String]
    public var captions: Sidecar.CaptionStats?
    /// Which voice and why (`Sidecar.voice_choice`).
    public var voice_choice: String?
    /// `Sidecar.chapters`.
    public var chapters: [Sidecar.Chapter]?
    /// `Sidecar.quality`.
    public var quality: Sidecar.Quality?
    /// `Sidecar.renditions`.
    public var renditions: [Sidecar.Rendition]?
    public init(title: String? = nil, duration_s: Double? = nil, width: Int? = nil, height: Int? = nil, fps: Int? = nil,
                scenes: [Sidecar.SceneTiming]? = nil, engines: [String: String] = [:], captions: Sidecar.CaptionStats? = nil,
                voice_choice: String? = nil, chapters: [Sidecar.Chapter]? = nil, quality: Sidecar.Quality? = nil,
                renditions: [Sidecar.Rendition]? = nil) {
        self.title = title; self.duration_s = duration_s; self.width = width; self.height = height; self.fps = fps
        self.scenes = scenes; self.engines = engines; self.captions = captions; self.voice_choice = voice_choice
        self.chapters = chapters; self.quality = quality; self.renditions = renditions
    }

    public init(of sidecar: Sidecar) {
        self.init(title: sidecar.title, duration_s: sidecar.duration_s, width: sidecar.width, height: sidecar.height, fps: sidecar.fps,
                  scenes: sidecar.scenes, engines: sidecar.engines, captions: sidecar.captions, voice_choice: sidecar.voice_choice,
                  chapters: sidecar.chapters, quality: sidecar.quality, renditions: sidecar.renditions)
    }
}

/// Everything a job's runs reported that the journal keeps beside its state: the part of the sidecar that is not
/// the job row's own columns (Docs/contract.md, "The journal row"). Journaled as one JSON value per job.
public struct JobReport: Codable, Sendable, Hashable {
    public var details: JobDetails
    public var stages: [String: Sidecar.StageRecord]
    public var warnings: [String]?
    /// Each model the job used, loaded or found resident in a warm worker (`Sidecar.models`).
    public var models: [ModelLoad]?
    /// Seconds from the supervisor claiming the job to the worker starting its first stage (a fresh worker's start-up,
    /// or next to nothing in a warm one). The journal keeps it; the sidecar does not show it.
    public var first_stage_s: Double?
    public init(details: JobDetails = JobDetails(), stages: [String: Sidecar.StageRecord] = [:], warnings: [String]? = nil,
                models: [ModelLoad]? = nil) {
        self.details = details; self.stages = stages; self.warnings = warnings; self.models = models
    }
}

/// One model a job used: loaded for it (`reused` false, `seconds` the load) or already resident in the warm worker
/// that ran it (`reused` true, no load paid). Built from the stages' `models` records as they end.
public struct ModelLoad: Codable, Sendable, Hashable {
    public var pack: String
    public var component: String
    public var stage: String
    public var seconds: Double
    public var reused: Bool
    public init(pack: String, component: String, stage: String, seconds: Double, reused: Bool) {
        self.pack = pack; self.component = component; self.stage = stage; self.seconds = seconds; self.reused = reused
    }

    /// The stage's model uses as loads: a component loaded at least once in the stage counts as loaded.
    public static func from(stage: String, _ uses: [ModelUse]) -> [ModelLoad] {
        uses.map { ModelLoad(pack: $0.pack, component: $0.component, stage: stage, seconds: $0.load_seconds, reused: $0.loads == 0) }
    }
}

/// What a warm worker (`prostudio worker --serve`) holds once a job has ended and it waits for the next: the supervisor
/// keeps it while these fit `workers.max_host_bytes` / `max_gpu_bytes`, and prefers jobs needing `packs`.
public struct WorkerIdle: Codable, Sendable, Hashable {
    /// Model packs with a component resident now.
    public var packs: [String]
    /// The worker's resident set size now.
    public var host_bytes: Int64
    /// The CUDA allocator's reserved bytes now; nil on the CPU.
    public var gpu_bytes: Int64?
    public init(packs: [String], hostBytes: Int64, gpuBytes: Int64?) {
        self.packs = packs; host_bytes = hostBytes; gpu_bytes = gpuBytes
    }
}

/// Worker to supervisor: one JSON object per line on the worker's standard output (its logs go to stderr), in the
/// order things happened. The supervisor journals each one as it arrives, in that order, and writes the sidecar from
/// the journal; the worker writes neither (Docs/contract.md, "Worker messages").
public enum WorkerMessage: Codable, Sendable, Equatable {
    case stageStarted(stage: String)
    case progress(stage: String, fraction: Double, overall: Double, finished: Bool)
    /// The stage finished, with what it measured.
    case stageEnded(stage: String, record: Sidecar.StageRecord)
    /// The seed the plan resolved.
    case seed(UInt64)
    /// Problems found at plan that did not stop the job.
    case warnings([String])
    case details(JobDetails)
    /// The outputs, renamed into the outbox: sent once they all are, before `done`.
    case outputs(Sidecar.Outputs)
    case cacheStored(name: String, stage: String, bytes: Int64)
    case cacheUsed(name: String)
    /// Entries the worker pruned from the stage cache after the job.
    case cacheRemoved(names: [String])
    /// The final report: every output is published.
    case done
    /// The final report: the job stopped with this failure; its `disposition` decides the job's end (rejected,
    /// retried under the loop guard, failed, cancelled).
    case failed(JobFailure)
    /// Sent by a warm worker after `done`/`failed`: the job's folders are gone and it waits for the next spec on stdin.
    case idle(WorkerIdle)

    public func line() -> Data {
        var data = (try? JSONEncoder().encode(self)) ?? Data("{}".utf8)
        data.append(0x0A)
        return data
    }

    public static func decode(line: Data) throws -> WorkerMessage {
        try JSONDecoder().decode(WorkerMessage.self, from: line)
    }
}
