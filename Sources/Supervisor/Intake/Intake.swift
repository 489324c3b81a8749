import Checksum
import Foundation
import Journal
import Logging
import Synchronization
import Watcher

/// The daemon's folders. Inbox and state must be on one filesystem: pick-up moves by `rename(2)`.
public struct StateLayout: Sendable {
    public let inbox: String
    public let state: String
    public init(inbox: String, state: String) {
        self.inbox = (inbox as NSString).standardizingPath
        self.state = (state as NSString).standardizingPath
    }
    public var journal: String { state + "/journal.sqlite3" }
    public var jobs: String { state + "/jobs" }
    public var rejected: String { state + "/rejected" }
    public var cache: String { state + "/cache" }
    /// Jobs' work folders (`.prostudio-work-ID/`: compose writes there, publish moves the files to the outbox).
    public var work: String { state + "/work" }
    /// Where older daemons kept a copy of each done job's sidecar. No longer written: a sidecar is put back by projecting
    /// the job's journal row (Docs/contract.md); the folder stays so state folders of older versions look the same.
    public var sidecars: String { state + "/sidecars" }
    public func jobFolder(_ id: JobID) -> String { jobs + "/" + id.rawValue }
    public func rejectedFolder(_ id: JobID) -> String { rejected + "/" + id.rawValue }

    /// Creates the state subfolders and checks the inbox shares the state folder's filesystem.
    public func prepare() throws {
        for dir in [inbox, state, jobs, rejected, cache, sidecars, work] {
            do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
                throw IntakeError.folder(dir, String(describing: error))
            }
        }
        var a = stat(), b = stat()
        guard stat(inbox, &a) == 0 else { throw IntakeError.syscall("stat", path: inbox, errno: errno) }
        guard stat(jobs, &b) == 0 else { throw IntakeError.syscall("stat", path: jobs, errno: errno) }
        if a.st_dev != b.st_dev { throw IntakeError.crossDevice(from: inbox, to: jobs) }
    }
}

public enum IntakeError: Error, CustomStringConvertible {
    case crossDevice(from: String, to: String)
    case syscall(String, path: String, errno: Int32)
    case folder(String, String)

    public var description: String {
        switch self {
        case .crossDevice(let a, let b): "\(a) and \(b) are on different filesystems; pick-up moves by rename, so keep inbox and state on one"
        case .syscall(let call, let path, let e): "\(call) \(path): \(String(cString: strerror(e)))"
        case .folder(let dir, let why): "cannot create \(dir): \(why)"
        }
    }
}

/// What taking one arrival did.
public enum PickUpOutcome: Sendable, Equatable {
    /// Journaled and moved to `state/jobs/ID/`, waiting to run.
    case queued(Job)
    /// Not a job (a folder without a single manifest, a symlink): moved to `state/rejected/ID/`.
    case rejected(Job)
    /// Already journaled as a job past pick-up: nothing done.
    case duplicate(Job)
    /// No longer in the inbox (another pick-up took it, or its writer removed it).
    case gone(String)
}

/// What pick-up's check of an arrival's manifest says: reject it, or queue it in this place (priority, not_before, packs).
public enum PickUpVerdict: Sendable {
    case reject(JobError)
    case queue(QueueOrder)
}

/// Pick-up: journal first, then move, then mark queued. Every step is idempotent and checks where the files
/// already are, so whatever a kill -9 interrupts, `reconcile` at the next start finishes:
///
/// 1. `claim`: the journal gets a `claimed` row with the inbox path and the dedup key (one transaction);
/// 2. `rename` the file into `state/jobs/ID/` (or the folder to `state/jobs/ID`): atomic, same filesystem;
/// 3. `markQueued` with the manifest path (or move to `state/rejected/ID` and mark `rejected`: not a job, or a
///    manifest that does not validate, so a bad job goes from claimed to rejected without a worker).
///
/// Killed after 1: the row is `claimed` and the entry still in the inbox: reconcile moves it (the start-up scan
/// may report it too; its dedup key finds the same row). Killed after 2: the files are in `state/jobs/ID`:
/// reconcile marks it queued. Nothing is journaled twice and nothing in the inbox is left unjournaled.
public struct PickUp: Sendable {
    public let store: any JobStore
    public let layout: StateLayout
    let logger: Logger
    /// Called after the move and before the job is journaled `queued`, i.e. before any runner can start it:
    /// the daemon writes the job's first sidecar here, so it can never overwrite a `running` one.
    let willQueue: @Sendable (Job) -> Void
    /// Checks a job's manifest (at its path in `state/jobs/ID/`) before it is queued; the error returned rejects it. The
    /// daemon passes the manifest loader (the same checks as `prostudio validate`, without the media ones a worker makes).
    /// A thrown error is not the manifest's fault (no file descriptor left, say): the pick-up is retried.
    /// The manifest's place in the queue comes from the same read (`PickUpVerdict.queue`).
    let check: @Sendable (_ manifestPath: String, _ job: Job) throws -> PickUpVerdict
    /// Whether pick-up is failing now (and why): `/readyz` says not ready meanwhile.
    public let health = PickUpHealth()

    public init(store: any JobStore, layout: StateLayout, logger: Logger = Logger(label: "prostudio.intake"),
                validate: @escaping @Sendable (_ manifestPath: String, _ job: Job) throws -> JobError? = { _, _ in nil },
                willQueue: @escaping @Sendable (Job) -> Void = { _ in }) {
        self.init(store: store, layout: layout, logger: logger, check: { path, job in
            try validate(path, job).map(PickUpVerdict.reject) ?? .queue(QueueOrder())
        }, willQueue: willQueue)
    }

    public init(store: any JobStore, layout: StateLayout, logger: Logger = Logger(label: "prostudio.intake"),
                check: @escaping @Sendable (_ manifestPath: String, _ job: Job) throws -> PickUpVerdict,
                willQueue: @escaping @Sendable (Job) -> Void = { _ in }) {
        self.store = store; self.layout = layout; self.logger = logger; self.check = check; self.willQueue = willQueue
    }

    /// Takes one arrival reported by the watcher. `key` replaces the computed dedup key: the HTTP API passes its
    /// `Idempotency-Key` so a retried POST finds the first job in the same UNIQUE column, atomically with the claim.
    public func take(_ arrival: Arrival, key: String? = nil) async throws -> PickUpOutcome {
        guard var identity = try DedupKey.make(path: arrival.path, name: arrival.name) else { return .gone(arrival.name) }
        if let key { identity.key = key }
        var name = identity.kind == .folder ? arrival.name : InboxRules.jobName(forFile: arrival.name)
        // A name too long for its outputs is journaled under a shortened one (so its `rejected` sidecar can be
        // written) and rejected below as `name_too_long`.
        name = InboxRules.shortened(name, hash: SHA256.hex(of: Data(name.utf8)))
        let (job, isNew) = try await store.claim(NewArrival(
            name: name, sourceName: arrival.name, sourcePath: arrival.path, sourceKind: identity.kind, dedupKey: identity.key))
        if !isNew && job.state != .claimed {
            logger.debug("pick-up: already journaled", metadata: ["job": "\(job.id)", "name": "\(arrival.name)"])
            return .duplicate(job)
        }
        return try await complete(job)
    }

    /// Finishes pick-up of jobs a previous run left `claimed` (from `JobStore.recover()`).
    /// `level`: of the line logged per job (a retry of a failing pick-up logs at debug: its failure was logged once).
    public func reconcile(_ claimed: [Job], level: Logger.Level = .notice) async throws -> [PickUpOutcome] {
        var outcomes: [PickUpOutcome] = []
        for job in claimed {
            logger.log(level: level, "pick-up: finishing an interrupted pick-up", metadata: ["job": "\(job.id)", "name": "\(job.sourceName)"])
            outcomes.append(try await complete(job))
        }
        return outcomes
    }

    /// Moves a job's folder to `state/rejected/ID` and journals the rejection (an invalid manifest found later
    /// by the pipeline's plan stage goes the same way).
    @discardableResult
    public func reject(_ job: Job, error: JobError) async throws -> Job {
        let from = layout.jobFolder(job.id), to = layout.rejectedFolder(job.id)
        if exists(from) && !exists(to) { try move(from, to) }
        return try await store.reject(job.id, error: error)
    }

    // MARK: Steps

    private func complete(_ job: Job) async throws -> PickUpOutcome {
        let folder = layout.jobFolder(job.id)
        let moved = job.sourceKind == .folder ? folder : folder + "/" + job.sourceName
        let rejected = layout.rejectedFolder(job.id)

        // Reading this job's manifest was begun `crashLimit` times and never returned: it crashed the process each time
        // (a kill -9 during a read is counted too, hence two). It is not read again.
        let crashed = job.attempts >= Self.crashLimit ? Self.intakeCrash(job, quarantine: rejected) : nil
        if exists(rejected) {
            let error = try crashed ?? rejection(of: job, at: rejected)
                ?? (try? manifestPath(of: job, in: rejected)).flatMap { path -> JobError? in
                    if case .reject(let error) = try check(path, job) { return error }
                    return nil
                } ?? Self.unknownRejection
            return .rejected(try await store.reject(job.id, error: error))
        }
        if !exists(moved) {
            guard exists(job.sourcePath) else {
                let error = JobError(code: "source_vanished", message: "\(job.sourcePath) was removed before pick-up could move it")
                logger.warning("pick-up: arrival vanished", metadata: ["job": "\(job.id)", "name": "\(job.sourceName)"])
                _ = try await store.fail(job.id, error: error, retryable: false)
                return .gone(job.sourceName)
            }
            if job.sourceKind == .file {
                if mkdir(folder, 0o750) != 0 && errno != EEXIST { throw IntakeError.syscall("mkdir", path: folder, errno: errno) }
            }
            try move(job.sourcePath, moved)
        }
        if let error = rejection(of: job, at: folder) {
            try move(folder, rejected)
            logger.notice("pick-up: rejected", metadata: ["job": "\(job.id)", "name": "\(job.sourceName)", "code": "\(error.code)"])
            return .rejected(try await store.reject(job.id, error: error))
        }
        let manifest = try manifestPath(of: job, in: folder)
        if let crashed {
            try move(folder, rejected)
            logger.error("pick-up: quarantined an arrival that crashed the daemon while it was read", metadata: [
                "job": "\(job.id)", "name": "\(job.sourceName)", "code": "\(crashed.code)", "quarantine": "\(rejected)"])
            return .rejected(try await store.reject(job.id, error: crashed))
        }
        // Counted before the manifest is read and uncounted once the read returned (a thrown error included): should
        // reading it crash the process, the next start finds the count.
        _ = try await store.countPickUp(job.id, by: 1)
        let verdict = Result { try check(manifest, job) }
        _ = try await store.countPickUp(job.id, by: -1)
        let order: QueueOrder
        switch try verdict.get() {
        case .queue(let o): order = o
        case .reject(let error):
            try move(folder, rejected)
            logger.notice("pick-up: rejected", metadata: ["job": "\(job.id)", "name": "\(job.sourceName)", "code": "\(error.code)",
                                                          "field": "\(error.field ?? "-")"])
            return .rejected(try await store.reject(job.id, error: error))
        }
        // On disk before the job is acknowledged (its `queued` commit, synced too): a power cut after it must not leave
        // a journaled job whose manifest is 0 bytes or whose move is lost.
        try sync(manifest)
        if job.sourceKind == .file { try sync(folder) }
        try sync(layout.jobs)
        willQueue(job)
        let queued = try await store.markQueued(job.id, manifestPath: manifest, order: order)
        logger.debug("pick-up: queued", metadata: ["job": "\(job.id)", "name": "\(job.name)"])
        return .queued(queued)
    }

    private static let unknownRejection = JobError(code: "not_a_job", message: "the arrival was not a manifest or a job folder")

    /// Reads of a manifest that never returned (crashes) before the arrival is quarantined instead of read once more.
    public static let crashLimit = 2

    static func intakeCrash(_ job: Job, quarantine: String) -> JobError {
        JobError(code: "intake_crash",
                 message: "\(job.sourceName): the daemon crashed \(job.attempts) times while reading this arrival at pick-up, so it "
                    + "was not read again; it is kept, unchanged, in \(quarantine). Check it with `prostudio validate`, fix it and drop "
                    + "it in the inbox again (and please report it: no input should crash the daemon)")
    }

    /// Why the arrival (now at `base`) is not a job, or nil when it is one.
    private func rejection(of job: Job, at base: String) -> JobError? {
        let fullName = job.sourceKind == .folder ? job.sourceName : InboxRules.jobName(forFile: job.sourceName)
        if fullName.utf8.count > InboxRules.maxNameBytes {
            return JobError(code: "name_too_long",
                            message: "\(job.sourceName): the name is \(fullName.utf8.count) bytes; outputs are named after it and it may be "
                                + "at most \(InboxRules.maxNameBytes) bytes (the rejection is reported as \(job.name).json)",
                            field: "name")
        }
        switch job.sourceKind {
        case .file:
            var st = stat()
            guard lstat(base + "/" + job.sourceName, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
                return JobError(code: "not_a_file", message: "\(job.sourceName) is not a plain file (symlinks are not followed)")
            }
            return nil
        case .folder:
            switch InboxRules.manifest(inFolder: base) {
            case .found: return nil
            case .none:
                return JobError(code: "no_manifest", message: "folder \(job.sourceName) holds no manifest "
                    + "(manifest.yaml|yml|json|txt|md, \(job.sourceName).yaml|..., or a single such file)")
            case .ambiguous(let names):
                return JobError(code: "ambiguous_manifest", message: "folder \(job.sourceName) holds several manifests: "
                    + names.joined(separator: ", ") + "; name the one to run manifest.EXT")
            }
        }
    }

    private func manifestPath(of job: Job, in folder: String) throws -> String {
        switch job.sourceKind {
        case .file: return folder + "/" + job.sourceName
        case .folder:
            guard case .found(let name) = InboxRules.manifest(inFolder: folder) else { throw IntakeError.folder(folder, "manifest vanished") }
            return folder + "/" + name
        }
    }

    /// fsync of a file or folder (a folder: its entries, i.e. a rename into it).
    private func sync(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw IntakeError.syscall("open", path: path, errno: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw IntakeError.syscall("fsync", path: path, errno: errno) }
    }

    private func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    private func move(_ from: String, _ to: String) throws {
        guard rename(from, to) == 0 else {
            if errno == EXDEV { throw IntakeError.crossDevice(from: from, to: to) }
            throw IntakeError.syscall("rename", path: "\(from) -> \(to)", errno: errno)
        }
    }
}
