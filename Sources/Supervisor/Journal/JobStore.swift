import Contract
import Foundation

/// Reading the journal: what the CLI and the daemon both do.
public protocol JobReader: Sendable {
    func job(_ id: JobID) async throws -> Job?
    /// Jobs newest first.
    func jobs(_ filter: JobFilter) async throws -> [Job]
    func events(of id: JobID) async throws -> [JobEvent]
    func stageRuns(of id: JobID) async throws -> [StageRun]
    func requests(of id: JobID?) async throws -> [JobRequest]
    func artifact(key: String) async throws -> Artifact?
    /// Whether the queue is paused (`jobs pause`), and since when and by whom.
    func queueState() async throws -> QueueState
}

/// The one thing a non-daemon process may write: a request the daemon applies (retry, cancel).
public protocol JobRequester: Sendable {
    /// `job` is nil for a request about the queue (pause, resume); `value` is a `priority` request's new priority.
    @discardableResult
    func request(_ action: RequestAction, job: JobID?, value: Int?, by requester: String) async throws -> Int64
}

extension JobRequester {
    @discardableResult
    public func request(_ action: RequestAction, job: JobID, by requester: String) async throws -> Int64 {
        try await request(action, job: job, value: nil, by: requester)
    }
}

/// The daemon's journal. All job state changes go through here, each in one transaction, and each
/// transition is checked against `JobState.canMove(to:)`. A second implementation (PostgreSQL, for
/// a fleet) implements the same protocol; `nextQueued` then becomes a `FOR UPDATE SKIP LOCKED` claim. Every store
/// passes the one conformance suite (Tests/JournalTests/Conformance): add its factory there.
public protocol JobStore: JobReader, JobRequester, DeliveryStore, JobListing {
    // Pick-up.
    /// Journals an arrival as `claimed`, or returns the job already journaled under the same dedup key.
    func claim(_ arrival: NewArrival) async throws -> (job: Job, isNew: Bool)
    /// Counts the reads of a claimed job's manifest under way: +1 committed before pick-up reads it, -1 once the read
    /// returned, so a count left at the next start is a read that crashed the process. The claimed row's `attempts` holds
    /// it (reset to 0 when the job leaves `claimed`). Returns the job as counted.
    func countPickUp(_ id: JobID, by delta: Int) async throws -> Job
    /// claimed -> queued, once the arrival sits in `state/jobs/ID/`, with its place in the queue (from its manifest).
    func markQueued(_ id: JobID, manifestPath: String, order: QueueOrder) async throws -> Job
    /// claimed | queued | running -> rejected (an invalid manifest, a folder without one).
    func reject(_ id: JobID, error: JobError) async throws -> Job

    // Running.
    /// The next queued job, taken: queued -> running, attempts + 1; nil while the queue is paused. Among ready jobs (queued,
    /// `notBefore` past): the oldest one due under the store's `QueuePolicy` (passed over too often or too long), else
    /// the highest priority, and within it the oldest whose packs are all in `packs` (what a warm worker holds), else the
    /// oldest. Each ready job older than the one taken counts a pass.
    func startNext(preferring packs: Set<String>) async throws -> Job?
    /// The earliest `notBefore` of a queued job still in the future: when an idle runner must look again.
    func nextNotBefore() async throws -> Date?
    /// Pauses (a running job finishes; nothing new starts) or resumes the queue; journaled, so it survives a restart.
    @discardableResult
    func setQueuePaused(_ paused: Bool, by who: String) async throws -> QueueState
    /// A job's new priority (not for a job that has ended); journaled as an event.
    func setPriority(_ id: JobID, _ priority: Int, by who: String) async throws -> Job
    func start(_ id: JobID) async throws -> Job
    func setProgress(_ id: JobID, stage: String?, progress: Double) async throws
    func beginStage(_ id: JobID, stage: String, engine: String?) async throws -> Int64
    /// Closes a stage run with what is known at its end.
    func endStage(run: Int64, _ end: StageEnd) async throws
    func finish(_ id: JobID, outputs: [String: String]) async throws -> Job
    /// running -> failed; or back to queued when `retryable` and attempts remain under the loop guard.
    func fail(_ id: JobID, error: JobError, retryable: Bool) async throws -> Job
    func cancel(_ id: JobID) async throws -> Job
    /// running -> cancelled, with the worker's words for how it stopped (the sidecar's `error`).
    func cancel(_ id: JobID, error: JobError) async throws -> Job
    /// What the running job's worker reported so far (stage records, details, warnings): the journal keeps it, and every
    /// sidecar is projected from the row (`Job.sidecar`).
    func setReport(_ id: JobID, _ report: JobReport) async throws -> Job
    /// running -> queued without counting the attempt: a graceful stop (SIGTERM) checkpointed it.
    func suspend(_ id: JobID) async throws -> Job
    func addEvent(_ id: JobID?, kind: String, message: String) async throws
    /// The seed a job ran with (the worker resolves it at plan).
    func setSeed(_ id: JobID, seed: UInt64) async throws

    // Upkeep.
    /// `["ok"]` for a sound store, else its problems (SQLite's `PRAGMA integrity_check`).
    func integrityCheck() async throws -> [String]
    /// Makes what was written durable in the main file (SQLite: a passive WAL checkpoint); called when idle.
    func checkpoint() async throws

    // Restart.
    /// Requeues jobs left `running` (or fails them once they reach the loop guard) and lists `claimed` ones.
    func recover() async throws -> RecoveryReport

    // Requests from the CLI.
    /// Applies unhandled requests in order, marks them handled, and says what the runner must do.
    func applyPendingRequests() async throws -> [RequestEffect]

    // The stage cache index.
    func recordArtifact(_ artifact: Artifact) async throws
    func touchArtifact(key: String) async throws
    func removeArtifact(key: String) async throws
}

extension JobStore {
    public func markQueued(_ id: JobID, manifestPath: String) async throws -> Job {
        try await markQueued(id, manifestPath: manifestPath, order: QueueOrder())
    }

    /// With no packs to prefer: by priority, then FIFO (within the fairness bound).
    public func startNext() async throws -> Job? { try await startNext(preferring: []) }

    public func endStage(run: Int64, outcome: StageOutcome, peakMemoryBytes: Int64?, cacheHit: Bool) async throws {
        try await endStage(run: run, StageEnd(outcome: outcome, peakMemoryBytes: peakMemoryBytes, cacheHit: cacheHit))
    }
}

/// What went wrong in the journal, with the context to find it.
public enum JournalError: Error, CustomStringConvertible, Sendable {
    case notFound(JobID)
    case invalidTransition(JobID, from: JobState, to: JobState)
    case noJournal(path: String)
    case schemaMismatch(path: String, detail: String)
    case database(operation: String, underlying: String)
    /// A request or a value the journal refuses (a priority out of range, a queue request naming a job).
    case badRequest(String)

    public var description: String {
        switch self {
        case .notFound(let id): "no job \(id) in the journal"
        case .invalidTransition(let id, let from, let to): "job \(id) cannot go from \(from.rawValue) to \(to.rawValue)"
        case .noJournal(let path): "no journal at \(path) (is --state the daemon's state folder?)"
        case .schemaMismatch(let path, let detail): "journal \(path): \(detail)"
        case .database(let op, let underlying): "journal \(op): \(underlying)"
        case .badRequest(let why): why
        }
    }
}
