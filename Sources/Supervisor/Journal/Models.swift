import Contract
import Foundation

/// A job's identity: 16 lowercase Crockford base32 characters, 48 bits of milliseconds then 32 random bits,
/// so ids sort by creation time, never repeat after a journal reset, and stay unique across hosts.
public struct JobID: Sendable, Hashable, Codable, Comparable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }
    public static func < (a: JobID, b: JobID) -> Bool { a.rawValue < b.rawValue }

    public init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }

    private static let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz")

    public static func generate(at date: Date = Date()) -> JobID {
        let millis = UInt128(UInt64(max(0, date.timeIntervalSince1970 * 1000)) & 0xFFFF_FFFF_FFFF)
        var value = (millis << 32) | UInt128(UInt32.random(in: .min ... .max))  // 80 bits = 16 x 5
        var chars = [Character](repeating: "0", count: 16)
        for i in stride(from: 15, through: 0, by: -1) { chars[i] = alphabet[Int(value & 31)]; value >>= 5 }
        return JobID(String(chars))
    }
}

/// Where a job is in its life. `claimed` is internal to pick-up (journaled, not yet moved out of the inbox);
/// the other six are the states users and the sidecar see.
public enum JobState: String, Sendable, Codable, CaseIterable {
    case claimed, queued, running, done, failed, cancelled, rejected

    /// States that never change again without a person asking (retry).
    public var isFinal: Bool { self == .done || self == .failed || self == .cancelled || self == .rejected }

    /// The transitions the journal allows; anything else is a bug in the caller and is refused.
    public func canMove(to next: JobState) -> Bool {
        switch (self, next) {
        case (.claimed, .queued), (.claimed, .rejected), (.claimed, .failed): true
        case (.queued, .running), (.queued, .cancelled), (.queued, .rejected): true
        case (.running, .done), (.running, .failed), (.running, .cancelled), (.running, .queued), (.running, .rejected): true
        case (.failed, .queued), (.cancelled, .queued): true
        default: false
        }
    }
}

/// Whether an arrival was a single manifest file or a folder holding a manifest and its assets.
public enum SourceKind: String, Sendable, Codable { case file, folder }

/// An error a person can act on: a stable code, a message, and the manifest field where one applies.
public struct JobError: Sendable, Hashable, Codable, Error {
    public var code: String
    public var message: String
    public var field: String?
    /// The stage that failed, when one did.
    public var stage: String?
    /// `JobFailure.Disposition`'s raw value (`invalid_input`, `retryable`, `permanent`, `cancelled`), when known.
    public var disposition: String?
    public init(code: String, message: String, field: String? = nil, stage: String? = nil, disposition: String? = nil) {
        self.code = code; self.message = message; self.field = field; self.stage = stage; self.disposition = disposition
    }
}

/// A job as journaled.
public struct Job: Sendable, Hashable, Codable {
    public var id: JobID
    public var name: String
    public var state: JobState
    public var stage: String?
    public var progress: Double
    /// The accepted manifest, under `state/jobs/ID/`; nil while only claimed.
    public var manifestPath: String?
    /// The entry's name in the inbox (`promo.yaml`, or a folder `promo`).
    public var sourceName: String
    /// Where the arrival was when claimed (the inbox path), so a restart can finish the move.
    public var sourcePath: String
    public var sourceKind: SourceKind
    public var dedupKey: String
    public var attempts: Int
    public var cancelRequested: Bool
    public var seed: Int64?
    public var createdAt: Date
    public var updatedAt: Date
    public var error: JobError?
    /// Output paths relative to the outbox, by role (`video`, `captions`, `webvtt`, `poster`, `sidecar`).
    public var outputs: [String: String]
    /// What the job's last run reported (stage records, details, warnings): the sidecar's other fields.
    public var report: JobReport = JobReport()
    /// Its place in the queue (issue 32): higher priority first, never before `notBefore`.
    public var priority: Int = 0
    public var notBefore: Date?
    /// The model packs its worker loads (model-aware ordering).
    public var packs: Set<String> = []
    /// How many times a job was started ahead of it out of its FIFO turn (the fairness bound, `QueuePolicy`).
    public var passes: Int = 0
}

/// What pick-up knows about an arrival when it claims it.
public struct NewArrival: Sendable, Hashable {
    public var name: String
    public var sourceName: String
    public var sourcePath: String
    public var sourceKind: SourceKind
    /// See `DedupKey`: content hash + source name + arrival identity (device, inode, mtime).
    public var dedupKey: String
    public init(name: String, sourceName: String, sourcePath: String, sourceKind: SourceKind, dedupKey: String) {
        self.name = name; self.sourceName = sourceName; self.sourcePath = sourcePath
        self.sourceKind = sourceKind; self.dedupKey = dedupKey
    }
}

public enum StageOutcome: String, Sendable, Codable { case running, ok, failed, cancelled, interrupted }

/// One run of one stage of one job.
public struct StageRun: Sendable, Hashable, Codable {
    public var id: Int64
    public var jobID: JobID
    public var stage: String
    public var attempt: Int
    public var engine: String?
    public var startedAt: Date
    public var endedAt: Date?
    public var outcome: StageOutcome
    public var peakMemoryBytes: Int64?
    public var cacheHit: Bool
    public var seconds: Double?
}

/// How a stage run ended. `engine` (often known only at the end) replaces the one given at the start;
/// `seconds`, when the pipeline measured it, fixes the end time (else: now).
public struct StageEnd: Sendable, Hashable {
    public var outcome: StageOutcome
    public var engine: String?
    public var peakMemoryBytes: Int64?
    public var cacheHit: Bool
    public var seconds: Double?
    public init(outcome: StageOutcome, engine: String? = nil, peakMemoryBytes: Int64? = nil, cacheHit: Bool = false, seconds: Double? = nil) {
        self.outcome = outcome; self.engine = engine; self.peakMemoryBytes = peakMemoryBytes; self.cacheHit = cacheHit; self.seconds = seconds
    }
}

/// A line in a job's history.
public struct JobEvent: Sendable, Hashable, Codable {
    public var id: Int64
    public var jobID: JobID?
    public var at: Date
    public var kind: String
    public var message: String

    public init(id: Int64, jobID: JobID?, at: Date, kind: String, message: String) {
        self.id = id; self.jobID = jobID; self.at = at; self.kind = kind; self.message = message
    }
}

/// An entry of the stage cache index.
public struct Artifact: Sendable, Hashable, Codable {
    public var key: String
    public var stage: String
    public var path: String
    public var sizeBytes: Int64
    public var createdAt: Date
    public var usedAt: Date
    public init(key: String, stage: String, path: String, sizeBytes: Int64, createdAt: Date = Date(), usedAt: Date = Date()) {
        self.key = key; self.stage = stage; self.path = path; self.sizeBytes = sizeBytes
        self.createdAt = createdAt; self.usedAt = usedAt
    }
}

/// What a CLI user may ask of the daemon through the journal.
/// `pause` and `resume` are the queue's (no job); `priority` carries the new priority in `value`.
public enum RequestAction: String, Sendable, Codable { case retry, cancel, pause, resume, priority }

/// A row of the `requests` table: written by the CLI, applied (and marked handled) by the daemon.
public struct JobRequest: Sendable, Hashable, Codable {
    public var id: Int64
    /// nil for a request about the whole queue (pause, resume).
    public var jobID: JobID?
    public var action: RequestAction
    /// The new priority of a `priority` request.
    public var value: Int?
    public var requestedAt: Date
    public var requestedBy: String
    public var handledAt: Date?
    public var outcome: String?
}

/// What applying a request did; `stopRunning` asks the runner to stop a job it is running now.
public enum RequestEffect: Sendable, Hashable {
    case requeued(JobID)
    case cancelled(JobID)
    case stopRunning(JobID)
    case ignored(JobID?, reason: String)
    /// The queue was paused (true) or resumed (false): a resumed queue wakes the runner.
    case queuePaused(Bool)
    case reprioritised(JobID, Int)
}

/// Which jobs to list.
public struct JobFilter: Sendable, Hashable {
    public var states: Set<JobState>?
    public var limit: Int?
    /// Only jobs of this NAME (the outputs' name).
    public var name: String?
    public init(states: Set<JobState>? = nil, limit: Int? = nil, name: String? = nil) {
        self.states = states; self.limit = limit; self.name = name
    }
}

/// What start-up recovery did.
public struct RecoveryReport: Sendable, Hashable {
    /// `running` jobs put back in the queue to resume.
    public var requeued: [JobID] = []
    /// `running` jobs that hit the loop guard and were failed instead.
    public var failedByLoopGuard: [JobID] = []
    /// `running` jobs a person had asked to cancel.
    public var cancelled: [JobID] = []
    /// Jobs journaled as claimed whose move out of the inbox may not have happened: pick-up must reconcile them.
    public var claimed: [Job] = []
    public init() {}
}

/// A job rebuilt from what is on disk (`state/jobs/ID`, `state/rejected/ID`, the outbox sidecar).
public struct RestoredJob: Sendable {
    public var id: JobID
    public var name: String
    public var state: JobState
    public var manifestPath: String?
    public var sourceName: String
    public var sourcePath: String
    public var sourceKind: SourceKind
    public var createdAt: Date
    public var error: JobError?
    public var outputs: [String: String]
    public var seed: UInt64?
    /// What its sidecar reported (stage records, details, warnings), so the sidecar projected from the rebuilt row keeps it.
    public var report = JobReport()
    public init(id: JobID, name: String, state: JobState, manifestPath: String?, sourceName: String, sourcePath: String,
                sourceKind: SourceKind, createdAt: Date, error: JobError? = nil, outputs: [String: String] = [:], seed: UInt64? = nil) {
        self.id = id; self.name = name; self.state = state; self.manifestPath = manifestPath; self.sourceName = sourceName
        self.sourcePath = sourcePath; self.sourceKind = sourceKind; self.createdAt = createdAt; self.error = error
        self.outputs = outputs; self.seed = seed
    }
}
