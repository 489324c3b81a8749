import Dispatch
import Failures
import Foundation
import Intake
import Journal
import Logging
import Manifest
import ServiceLifecycle
import Synchronization
import SystemdNotify
import Watcher

/// The daemon, a small supervisor: recovers the journal, watches the inbox, picks arrivals up, and runs queued
/// jobs one at a time, oldest first, each in a `prostudio worker` child process (see `runInWorker`). It never
/// loads libav or libtorch: the pipeline runs in the worker. SIGTERM (or `shutdown()`) stops pick-up, asks the running
/// job's worker to stop at its next checkpoint, puts the job back in the queue (its finished stages stay in the stage
/// cache) and returns.
///
/// Outputs are named after the job (`NAME.mp4`, `NAME.json`, ...). Same NAME rule: the most recent job of a NAME
/// owns those files; a later job with the same NAME replaces them (each file atomically) when it runs, and
/// the sidecar's `job_id` says which job a file belongs to. Older jobs stay in the journal (`jobs show ID`). A rejected
/// job, which produced nothing, never takes `NAME.json` from a done job whose video is still there, nor does a failed or
/// cancelled one: its sidecar is `rejected/NAME.json` (`failed/`, `cancelled/`) then (see `publishEnd`).
public final class Daemon: Sendable {
    public let config: DaemonConfig
    let logger: Logger
    let notifier: SDNotifier
    let layout: StateLayout
    let control = Control()
    /// The journal to use instead of opening `state/journal.sqlite3` (tests: `SQLiteJournal.inMemory()`).
    let injectedStore: (any JobStore)?
    let webhooks: Webhooks
    /// The journal and pick-up, for the HTTP API beside the daemon (nil until ready).
    public let live = DaemonLiveBox()
    private let wakeups: AsyncStream<Void>
    private let wakeup: AsyncStream<Void>.Continuation
    private let settling = Mutex((last: ContinuousClock.now, pending: false))

    /// `store`: the journal, when not the file in the state folder (any `JobStore`; tests pass the SQLite journal in
    /// memory to assert every row a cancel or a shutdown leaves). The start-up checks of the file (F12) then do not apply.
    public init(config: DaemonConfig, store: (any JobStore)? = nil, notifier: SDNotifier = .fromEnvironment(),
                logger: Logger = Logger(label: "prostudio.daemon")) {
        self.config = config
        self.injectedStore = store
        self.notifier = notifier
        var logger = logger
        logger.logLevel = config.logLevel  // quiet by default (notice), also when no logging backend is bootstrapped
        self.logger = logger
        self.layout = StateLayout(inbox: config.inbox, state: config.state)
        self.webhooks = Webhooks(config: config, layout: layout, logger: logger)
        // Newest-1 buffering: a wake-up while a job runs is kept, several merge into one.
        (wakeups, wakeup) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Something beside the job loop ran (an HTTP request): once nothing has come for two seconds, hand back the heap's
    /// free pages and the code it touched, as the loop does when it goes idle. The API's event loops, routes and
    /// templates otherwise stayed resident (~15 MB) in an idle daemon after a few requests. No timer runs while
    /// nothing happens.
    public func settleAfterActivity() {
        let start = settling.withLock { s -> Bool in
            s.last = .now
            defer { s.pending = true }
            return !s.pending
        }
        guard start else { return }
        Task.detached { [self] in
            while true {
                try? await Task.sleep(for: .seconds(2))
                let quiet = settling.withLock { s -> Bool in
                    guard ContinuousClock.now - s.last >= .seconds(2) else { return false }
                    s.pending = false
                    return true
                }
                if quiet { break }
            }
            Heap.trim()
            Heap.dropIdleCode()
        }
    }

    /// Begins a graceful stop: what SIGTERM and SIGINT do.
    public func shutdown() {
        for stop in control.beginShutdown() { stop() }
        wakeup.yield()
    }


    /// Runs until `shutdown()` (or SIGTERM/SIGINT when `handleSignals`). As a ServiceLifecycle `Service`, `run()`
    /// below: the service group's graceful shutdown (its SIGTERM and SIGINT) calls `shutdown()`.
    public func run(handleSignals: Bool) async throws {
        // Before anything else: by default SIGHUP, SIGUSR1 and SIGUSR2 end the process, silently, and the running job
        // is counted an attempt at the next start.
        let ignored = ignoreOtherSignals()
        defer { for s in ignored { s.cancel() } }
        // One daemon per state folder, before anything in it is touched (F9: two daemons ran every job twice).
        do { try FileManager.default.createDirectory(atPath: layout.state, withIntermediateDirectories: true) } catch {
            throw IntakeError.folder(layout.state, String(describing: error))
        }
        let lock = try StateLock(state: layout.state)
        defer { withExtendedLifetime(lock) {} }
        try layout.prepare()
        let inboxLock = try InboxLock(inbox: layout.inbox)
        defer { withExtendedLifetime(inboxLock) {} }
        try FileManager.default.createDirectory(atPath: config.outbox, withIntermediateDirectories: true)
        let journal: any JobStore
        if let injectedStore {
            journal = injectedStore
        } else {
            // F12: a lost journal next to job folders, or a damaged one, must stop the start, not be replaced silently.
            try JournalGuard.checkPresent(layout)
            do { journal = try SQLiteJournal(path: layout.journal, maxAttempts: config.maxAttempts, logger: logger) } catch {
                throw DaemonError.journalCorrupt(journal: layout.journal, detail: "\(error)")
            }
        }
        try await JournalGuard.checkOpened(journal, layout)
        // Webhooks send from a loop of their own (messages an earlier run left pending first).
        webhooks.attach(journal)
        let hooks = Task { await webhooks.run(journal: journal) }
        defer { webhooks.stop(); hooks.cancel() }
        let pickUp = PickUp(store: journal, layout: layout, logger: logger,
                            validate: PickUpChecks.validate(defaults: config.defaults, access: config.inboxFolderAccess,
                                                                  models: config.models ?? PackCheck.defaultModels)) {
            [self] job in writeSidecar(job, state: "queued")
        }

        // 1. Whatever the last run left behind: first its workers, if a kill -9 left any still running (their job is
        // about to be requeued, and the sweep below must not race their last writes).
        let stale = await StaleWorkers.stop(cache: layout.cache)
        if !stale.isEmpty { logger.notice("stopped workers the last run left", metadata: ["pids": "\(stale)"]) }
        let report = try await journal.recover()
        for id in report.requeued { await writeSidecar(journal, id, "queued") }
        for id in report.failedByLoopGuard + report.cancelled { await writeSidecar(journal, id, nil) }
        for outcome in try await pickUp.reconcile(report.claimed) { await publish(outcome, journal) }
        if !(report.requeued.isEmpty && report.failedByLoopGuard.isEmpty && report.claimed.isEmpty) {
            logger.notice("recovered the journal", metadata: [
                "requeued": "\(report.requeued.count)", "loop_guard": "\(report.failedByLoopGuard.count)",
                "claimed": "\(report.claimed.count)"])
        }
        await applyRequests(journal)
        await sweep(journal)

        // 2. Watch first (the watcher scans the inbox after its watch is in place), then announce readiness.
        let watcher = try InboxWatcher(inbox: config.inbox, options: .init(settle: config.settle), logger: logger)
        let bell = try FileBell(folder: layout.state, name: "requests.bell", guarding: ["journal.sqlite3", "daemon.lock"],
                                onGone: { [self] what in
            logger.critical("the state folder is the daemon's lock, and it went: stopping", metadata: ["what": "\(what)"])
            self.control.stateLost(what)
            shutdown()
        }, logger: logger)
        control.onShutdown { watcher.stop(); bell.stop() }
        let signals = handleSignals ? installSignalHandlers() : []
        defer { for s in signals { s.cancel() } }
        if control.isShuttingDown { watcher.stop(); bell.stop() }

        let control = self.control
        let intake = Task {
            await pickUp.consume(watcher.arrivals, onOutcome: { outcome in
                await self.publish(outcome, journal)
                self.wakeup.yield()
            }, shouldStop: { control.isShuttingDown })
            // The watcher only ends on its own when the inbox cannot be watched any more (removed and not
            // recreatable): a deaf daemon must not stay up, so stop and exit non-zero (systemd restarts it).
            if !self.control.isShuttingDown {
                self.logger.critical("the inbox can no longer be watched; stopping", metadata: ["inbox": "\(self.config.inbox)"])
                self.control.inboxLost()
                self.shutdown()
            }
        }
        let requests = Task { for await _ in bell.rings { await self.applyRequests(journal) } }
        let library = LibraryKeeper(folders: config.libraryFolders, settle: config.librarySettle, logger: logger)
        control.onShutdown { library.stop() }
        let libraryWatches = library.watch { self.wakeup.yield() }
        let watchdog = Task {
            guard let interval = SDNotifier.watchdogInterval() else { return }
            while !Task.isCancelled {
                try? notifier.watchdog()
                try? await Task.sleep(for: interval)
            }
        }
        // The API queries the SQLite journal directly (the in-memory one of tests is one too).
        if let sqlite = journal as? SQLiteJournal {
            live.set(DaemonLive(journal: sqlite, pickUp: pickUp, layout: layout, accepted: { outcome in
                Task {
                    await self.publish(outcome, journal)
                    self.wakeup.yield()
                }
            }, applyRequests: { await self.applyRequests(journal) }))
        }
        defer { live.set(nil) }
        try? notifier.ready(status: "watching \(config.inbox)")
        logger.notice("daemon ready", metadata: ["inbox": "\(config.inbox)", "outbox": "\(config.outbox)", "state": "\(config.state)"])

        // 3. Jobs, one at a time, until shutdown.
        await runJobs(journal: journal, pickUp: pickUp, library: library)

        try? notifier.stopping(status: "stopping")
        watcher.stop(); bell.stop(); watchdog.cancel()
        await intake.value
        await requests.value
        library.stop()
        for task in libraryWatches { await task.value }
        logger.notice("daemon stopped")
        if control.lostInbox { throw DaemonError.inboxLost(inbox: config.inbox) }
        if let what = control.lostState { throw DaemonError.stateLost(state: layout.state, detail: what) }
    }

    // MARK: Jobs

    private func runJobs(journal: any JobStore, pickUp: PickUp, library: LibraryKeeper) async {
        var wakes = wakeups.makeAsyncIterator()
        while !control.isShuttingDown {
            do {
                if let job = try await journal.startNext() {
                    await run(job, journal: journal, pickUp: pickUp)
                    await applyRequests(journal)  // in case a bell was missed while the job ran
                    await sweep(journal)
                    continue
                }
            } catch {
                logger.error("journal: cannot take the next job", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
                continue
            }
            // Idle: bring the footage libraries' indexes up to date (a job that arrives meanwhile waits for it).
            let control = self.control
            await library.indexDue(executable: config.worker, cache: layout.cache, models: config.models,
                                   shouldStop: { control.isShuttingDown })
            try? notifier.status("idle; watching \(config.inbox)")
            try? await journal.checkpoint()  // while nothing waits on the journal
            // Idle: hand the heap's free pages back to the system (glibc keeps them otherwise) and unmap the code
            // that start-up and the last job touched, so the supervisor's resident size is what waiting needs.
            Heap.trim()
            let dropped = Heap.dropIdleCode()
            logger.debug("idle: returned memory", metadata: ["code_kb": "\(dropped)"])
            _ = await wakes.next()
        }
    }

    /// Keeps the journal's artifact index in step with the stage cache as the worker writes, reuses and prunes entries.
    private static func artifactIndex(_ journal: any JobStore, root: String) -> @Sendable (WorkerMessage) -> Void {
        { message in
            Task {
                switch message {
                case .cacheStored(let name, let stage, let bytes):
                    try? await journal.recordArtifact(Artifact(key: name, stage: stage, path: root + "/" + name, sizeBytes: bytes))
                case .cacheUsed(let name):
                    try? await journal.touchArtifact(key: name)
                case .cacheRemoved(let names):
                    for name in names { try? await journal.removeArtifact(key: name) }
                default: break
                }
            }
        }
    }

    /// Leftover temp files and work folders (F1, F2); no job of this daemon runs while it does.
    private func sweep(_ journal: any JobStore) async {
        let report = await Sweeper.sweep(outbox: config.outbox, cache: layout.cache, work: layout.work) { id in
            guard let job = try? await journal.job(JobID(id)) else { return nil }
            return job.state == .running
        }
        if !report.isEmpty {
            logger.info("swept leftovers", metadata: ["temp_files": "\(report.tempFiles.count)", "work_folders": "\(report.workFolders.count)"])
        }
    }

    private func run(_ job: Job, journal: any JobStore, pickUp: PickUp) async {
        var log = logger
        log[metadataKey: "job"] = "\(job.id)"
        log[metadataKey: "name"] = "\(job.name)"
        log.info("job started", metadata: ["attempt": "\(job.attempts)"])
        control.begin(job.id)

        let (events, sink) = AsyncStream<StageProgress>.makeStream()
        let follower = Task { await self.follow(events, job: job, journal: journal) }
        let result = await runInWorker(job, journal: journal, progress: sink, log: log)
        sink.finish()
        let runs = await follower.value
        let stop = control.end()
        let sidecar: SidecarSummary? = switch result {
        case .success(let (s, _)): s
        case .failure: SidecarFile.read(outbox: config.outbox, name: job.name)
        }

        if let seed = sidecar?.seed {
            do { try await journal.setSeed(job.id, seed: seed) } catch { log.warning("journal: seed", metadata: ["error": "\(error)"]) }
        }

        // Stage runs, with what the worker's pipeline measured.
        for (stage, run) in runs {
            let end: StageEnd
            if let record = sidecar?.stages?[stage] {
                end = StageEnd(outcome: .ok, engine: record.engine, peakMemoryBytes: record.peak_memory_bytes,
                               cacheHit: record.cached, seconds: record.seconds)
            } else {
                let outcome: StageOutcome = switch stop {
                case .shutdown: .interrupted
                case .cancel: .cancelled
                default: .failed
                }
                end = StageEnd(outcome: outcome)
            }
            do { try await journal.endStage(run: run, end) } catch { log.warning("journal: stage run", metadata: ["error": "\(error)"]) }
        }

        // F10: a journal that cannot be written (disk full) must not leave the job `running` until a restart: the
        // end is retried with backoff until it is recorded (or the daemon stops; the next start requeues it then).
        // The failure's own words for the journal (best effort, once): its stage and what it means for the job.
        if case .failure(let error) = result, stop == .none {
            try? await journal.addEvent(job.id, kind: "failure", message: "\(error.disposition.rawValue) at \(error.stage ?? "plan"): "
                                            + "\(error.code): \(error.message)" + (error.field.map { " (field \($0))" } ?? ""))
        }
        var delay = Duration.milliseconds(500)
        var recorded = false
        while !recorded {
            do {
                switch result {
                case .success(let (s, json)):
                    var outputs: [String: String] = ["sidecar": job.name + ".json"]
                    if let v = s.outputs?.video { outputs["video"] = v }
                    if let v = s.outputs?.captions { outputs["captions"] = v }
                    if let v = s.outputs?.poster { outputs["poster"] = v }
                    // Journaled before `done`, so whoever sees done sees them too (`jobs show`, the API, the dashboard).
                    for w in s.warnings ?? [] { try await journal.addEvent(job.id, kind: "warning", message: w) }
                    let finished = try await journal.finish(job.id, outputs: outputs)
                    // The `done` sidecar only once the journal says done too; a copy in the state folder, to put back
                    // should a later job of the same NAME end without outputs (`publishEnd`).
                    do { try SidecarFile.write(json: json, name: job.name, outbox: config.outbox) } catch {
                        log.warning("cannot write sidecar", metadata: ["error": "\(error)"])
                    }
                    try? SidecarFile.writeAtomically(Data(json.utf8), to: URL(fileURLWithPath: layout.sidecars + "/\(job.id).json"))
                    await webhooks.jobEnded(finished, event: "done", body: Data(json.utf8))
                    log.notice("job done", metadata: ["video": "\(s.outputs?.video ?? "-")"])
                case .failure(let error):
                    let jobError = JobError(code: error.code, message: error.message, field: error.field)
                    switch stop {
                    case .shutdown:
                        _ = try await journal.suspend(job.id)
                        await writeSidecar(journal, job.id, "queued")
                        log.info("job checkpointed for shutdown; it resumes on the next start")
                    case .cancel:
                        _ = try await journal.cancel(job.id)
                        await writeSidecar(journal, job.id, nil)
                        log.info("job cancelled")
                    case .timeout(let stage):
                        let timeout = JobError(code: "stage_timeout",
                                               message: "stage \(stage) ran longer than \(config.stageTimeout) (limits.stage_timeout_s)")
                        _ = try await journal.fail(job.id, error: timeout, retryable: false)
                        await writeSidecar(journal, job.id, nil, failure: JobFailure(code: timeout.code, message: timeout.message, stage: stage))
                        log.error("job failed: stage timeout", metadata: ["stage": "\(stage)"])
                    case .none:
                        switch error.disposition {
                        case .invalidInput:
                            let rejected = try await pickUp.reject(job, error: jobError)
                            await publishEnd(rejected, failure: error, journal: journal)
                            await notifyEnded(rejected)
                            log.notice("job rejected", metadata: ["code": "\(error.code)", "field": "\(error.field ?? "-")"])
                        case .retryable, .permanent, .cancelled:
                            // `cancelled` without a stop asked of this daemon: the worker was stopped from outside (a
                            // SIGTERM to the whole service); not the job's fault, so it runs again under the loop guard.
                            let after = try await journal.fail(job.id, error: jobError, retryable: error.disposition != .permanent)
                            if after.state == .queued {
                                await writeSidecar(journal, job.id, "queued")
                                log.warning("job failed; it runs again", metadata: ["code": "\(error.code)", "stage": "\(error.stage ?? "-")",
                                                                                  "attempt": "\(after.attempts)", "error": "\(error.message)"])
                            } else {
                                await writeSidecar(journal, job.id, nil, failure: error)
                                log.error("job failed", metadata: ["code": "\(error.code)", "stage": "\(error.stage ?? "-")", "error": "\(error.message)"])
                            }
                        }
                    }
                }
                recorded = true
            } catch {
                if control.isShuttingDown {
                    log.error("journal: cannot record the job's end; the next start requeues it", metadata: ["error": "\(error)"])
                    break
                }
                log.error("journal: cannot record the job's end; retrying", metadata: ["error": "\(error)", "in": "\(delay)"])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(30))
            }
        }
    }

    /// Journals stage runs and progress as the worker reports them; starts each stage's timeout.
    private func follow(_ events: AsyncStream<StageProgress>, job: Job, journal: any JobStore) async -> [(String, Int64)] {
        var runs: [(String, Int64)] = []
        var current: String?
        var journaled = -1.0
        var timeout: Task<Void, Never>?
        for await event in events {
            let stage = event.stage
            // F8: a stage's run is closed when the stage ends, not when the job does (`jobs show` listed finished
            // stages as running, and a kill -9 marked every stage of the attempt interrupted). The job's end adds
            // the engine and peak memory from the sidecar.
            if event.finished, let (runStage, run) = runs.last, runStage == stage {
                try? await journal.endStage(run: run, StageEnd(outcome: .ok))
            }
            if stage != current {
                current = stage
                if let run = try? await journal.beginStage(job.id, stage: stage, engine: nil) { runs.append((stage, run)) }
                timeout?.cancel()
                let limit = config.stageTimeout, control = self.control
                timeout = Task {
                    try? await Task.sleep(for: limit)
                    if !Task.isCancelled { control.timeOut(stage) }
                }
                try? notifier.status("job \(job.id) \(job.name): \(stage)")
            }
            // Every 2% is plenty for `jobs watch`; every frame would be a write per frame.
            if event.finished || event.overall - journaled >= 0.02 {
                try? await journal.setProgress(job.id, stage: stage, progress: event.overall)
                journaled = event.overall
            }
        }
        timeout?.cancel()
        return runs
    }

    // MARK: Workers

    /// Runs the job in a `prostudio worker` child process. Its messages feed the stage runs and progress
    /// (`progress`), the sidecar (written here: the supervisor is its only writer) and the artifact index. Cancel,
    /// stage timeout and shutdown terminate it (SIGTERM, SIGKILL after `worker_grace_s`); a worker that dies
    /// without its final report fails its stage with the signal named (`worker.crashed`, retried by the loop guard).
    private func runInWorker(_ job: Job, journal: any JobStore, progress: AsyncStream<StageProgress>.Continuation,
                             log: Logger) async -> Result<(SidecarSummary, String), JobFailure> {
        guard let executable = config.worker else {
            return .failure(JobFailure(code: "worker.none", message: "no worker executable configured (DaemonConfig.worker)"))
        }
        let spec = WorkerSpec(jobID: job.id.rawValue, name: job.name, manifestPath: job.manifestPath ?? "", displayName: job.sourcePath,
                              outbox: config.outbox, cache: layout.cache, models: config.models, config: config.configFile,
                              memoryLimitBytes: config.workerMemoryLimitBytes, cacheMaxBytes: config.cacheMaxBytes,
                              logLevel: config.logLevel.rawValue, device: config.device, nice: config.workerNice,
                              work: layout.work)
        let run = WorkerRun()
        let index = Self.artifactIndex(journal, root: layout.cache)
        let outbox = config.outbox, name = job.name, grace = config.workerGrace, control = self.control, logger = log
        let exit: WorkerExit
        do {
            exit = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<WorkerExit, any Error>) in
                do {
                    let process = try WorkerProcess(executable: executable, spec: spec, onMessage: { message in
                        switch message {
                        case .progress(let stage, _, let overall, let finished):
                            run.saw(stage: stage)
                            progress.yield(StageProgress(stage: stage, overall: overall, finished: finished))
                        case .sidecar(let json):
                            // The final `done` sidecar waits for the journal (see `run`); every other one goes out now.
                            if (try? JSONDecoder().decode(SidecarSummary.self, from: Data(json.utf8)))?.state == "done" { return }
                            do { try SidecarFile.write(json: json, name: name, outbox: outbox) } catch {
                                logger.warning("cannot write sidecar", metadata: ["error": "\(error)"])
                            }
                        case .cacheStored, .cacheUsed, .cacheRemoved: index(message)
                        case .done, .failed: run.finished(message)
                        }
                    }, onExit: { continuation.resume(returning: $0) })
                    run.pid = process.pid
                    logger.debug("worker started", metadata: ["pid": "\(process.pid)"])
                    if control.setStopAction({ process.terminate(grace: grace) }) { process.terminate(grace: grace) }
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        } catch {
            // Retryable: a spawn fails for want of memory or processes far more often than for a missing file.
            return .failure(JobFailure(code: "worker.spawn", message: "\(error)", disposition: .retryable))
        }
        _ = control.setStopAction(nil)
        let (final, stage) = run.outcome
        switch final {
        case .done(let json)?:
            guard let summary = try? JSONDecoder().decode(SidecarSummary.self, from: Data(json.utf8)) else {
                return .failure(JobFailure(code: "worker.protocol", message: "the worker's final sidecar could not be read", stage: "publish"))
            }
            return .success((summary, json))
        case .failed(let failure)?:
            return .failure(failure)
        default:
            let message = "the worker (pid \(run.pid ?? 0)) \(exit.description) during stage \(stage ?? "plan")"
            if control.shouldStop { return .failure(JobFailure(code: JobFailure.cancelled.code, message: message, stage: stage, disposition: .cancelled)) }
            logger.error("worker crashed", metadata: ["exit": "\(exit.description)", "stage": "\(stage ?? "plan")"])
            try? await journal.addEvent(job.id, kind: "worker", message: message)
            // A crash (segfault, OOM kill) is retried under the loop guard, like an I/O failure.
            return .failure(JobFailure(code: WorkerRun.crashed, message: message, stage: stage ?? "plan", disposition: .retryable))
        }
    }

    // MARK: Requests and sidecars

    func applyRequests(_ journal: any JobStore) async {
        let effects: [RequestEffect]
        do { effects = try await journal.applyPendingRequests() } catch {
            logger.error("journal: cannot apply requests", metadata: ["error": "\(error)"])
            return
        }
        for effect in effects {
            switch effect {
            case .requeued(let id):
                await writeSidecar(journal, id, "queued")
                logger.notice("job requeued on request", metadata: ["job": "\(id)"])
                wakeup.yield()
            case .cancelled(let id):
                await writeSidecar(journal, id, nil)
                logger.notice("job cancelled on request", metadata: ["job": "\(id)"])
            case .stopRunning(let id):
                control.cancel(id)
                logger.notice("stopping the running job on request", metadata: ["job": "\(id)"])
            case .ignored(let id, let reason):
                logger.notice("request ignored", metadata: ["job": "\(id)", "reason": "\(reason)"])
            }
        }
    }

    /// What pick-up did, in the outbox: a sidecar from pick-up on.
    func publish(_ outcome: PickUpOutcome, _ journal: any JobStore) async {
        switch outcome {
        case .rejected(let job):
            await publishEnd(job, failure: nil, journal: journal)
            await notifyEnded(job)
        case .queued, .duplicate, .gone: break  // the queued sidecar was written before the job could start
        }
    }

    private func writeSidecar(_ journal: any JobStore, _ id: JobID, _ state: String?, failure: JobFailure? = nil) async {
        guard let job = try? await journal.job(id) else { return }
        // The runner may have started it since (a requeue on request): its worker's reports own the sidecar now.
        if let state, job.state.rawValue != state { return }
        if state == nil && [.failed, .cancelled, .rejected].contains(job.state) {
            await publishEnd(job, failure: failure, journal: journal)
        } else {
            writeSidecar(job, state: state, failure: failure)
        }
        if state == nil { await notifyEnded(job) }
    }

    /// The sidecar of a job that ended without outputs (rejected, failed, cancelled). Same NAME rule, with one
    /// exception: such a job produced nothing, so it never takes `NAME.json` from the latest done job of that NAME whose
    /// video is still in the outbox (the sidecar is what describes that video). That job's published sidecar is put back
    /// (pick-up and the worker wrote this job's `queued` and `running` ones over it) and this job's goes to
    /// `STATE/NAME.json` in the outbox instead (`rejected/`, `failed/` or `cancelled/`).
    func publishEnd(_ job: Job, failure: JobFailure?, journal: any JobStore) async {
        let state = job.state.rawValue
        guard let owner = try? await journal.jobs(JobFilter(states: [.done], limit: 1, name: job.name)).first,
              owner.id != job.id, let video = owner.outputs["video"],
              FileManager.default.fileExists(atPath: config.outbox + "/" + video) else {
            writeSidecar(job, state: state, failure: failure)
            return
        }
        if SidecarFile.read(outbox: config.outbox, name: job.name)?.job_id != owner.id.rawValue {
            do {
                if let kept = FileManager.default.contents(atPath: layout.sidecars + "/\(owner.id).json") {
                    try SidecarFile.writeAtomically(kept, to: SidecarFile.url(outbox: config.outbox, name: job.name))
                } else {
                    try SidecarFile.write(for: owner, state: "done", outbox: config.outbox)
                }
            } catch {
                logger.warning("cannot put back the done job's sidecar", metadata: ["job": "\(owner.id)", "error": "\(error)"])
            }
        }
        writeSidecar(job, state: state, failure: failure, to: SidecarFile.asideURL(outbox: config.outbox, name: job.name, state: state))
        logger.notice("sidecar written beside a done job of the same name", metadata: [
            "job": "\(job.id)", "done_job": "\(owner.id)", "sidecar": "\(state)/\(job.name).json"])
    }

    /// The sidecar for a job that is not running: its journal state and error (a worker's reports write it while running).
    private func writeSidecar(_ job: Job, state: String?, failure: JobFailure? = nil, to url: URL? = nil) {
        let mapped = state ?? (job.state == .claimed ? "queued" : job.state.rawValue)
        do { try SidecarFile.write(for: job, state: mapped, outbox: config.outbox, failure: failure, to: url) } catch {
            logger.warning("cannot write sidecar", metadata: ["job": "\(job.id)", "error": "\(error)"])
        }
    }

    /// A job that ended failed or rejected: its webhook carries the sidecar as last written (by its worker or above).
    private func notifyEnded(_ job: Job) async {
        guard job.state == .failed || job.state == .rejected else { return }
        // This job's own sidecar: beside a done job of the same NAME it is in rejected/ or failed/NAME.json.
        let candidates = [SidecarFile.url(outbox: config.outbox, name: job.name),
                          SidecarFile.asideURL(outbox: config.outbox, name: job.name, state: job.state.rawValue)]
        guard let body = candidates.lazy.compactMap({ FileManager.default.contents(atPath: $0.path) }).first(where: { data in
            (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["job_id"] as? String == job.id.rawValue
        }) else { return }
        await webhooks.jobEnded(job, event: job.state.rawValue, body: body)
    }

    // MARK: Signals

    /// SIGHUP, SIGUSR1 and SIGUSR2 are logged and otherwise ignored: the configuration is read at start only (a reload
    /// is a restart: `systemctl restart`, which checkpoints the running job), and nothing else is bound to them.
    private func ignoreOtherSignals() -> [any DispatchSourceSignal] {
        [SIGHUP, SIGUSR1, SIGUSR2].map { sig in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            let name = sig == SIGHUP ? "SIGHUP" : (sig == SIGUSR1 ? "SIGUSR1" : "SIGUSR2")
            source.setEventHandler { [self] in
                logger.notice("signal ignored: the configuration is read at start only; restart the service to apply a change",
                              metadata: ["signal": "\(name)"])
            }
            source.resume()
            return source
        }
    }

    private func installSignalHandlers() -> [any DispatchSourceSignal] {
        [SIGTERM, SIGINT].map { sig in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [self] in
                logger.notice("signal received: stopping pick-up and checkpointing", metadata: ["signal": "\(sig)"])
                shutdown()
            }
            source.resume()
            return source
        }
    }
}

/// Progress as the runner journals it, from a worker's messages.
struct StageProgress: Sendable {
    var stage: String
    var overall: Double
    var finished: Bool
}

/// What one worker run reported, gathered on its reader thread.
final class WorkerRun: Sendable {
    static let crashed = "worker.crashed"
    private struct State { var final: WorkerMessage?; var stage: String?; var pid: pid_t? }
    private let state = Mutex(State())
    func saw(stage: String) { state.withLock { $0.stage = stage } }
    func finished(_ message: WorkerMessage) { state.withLock { $0.final = message } }
    var pid: pid_t? {
        get { state.withLock { $0.pid } }
        set { state.withLock { $0.pid = newValue } }
    }
    var outcome: (WorkerMessage?, String?) { state.withLock { ($0.final, $0.stage) } }
}

/// Why the running job was asked to stop.
enum StopReason: Equatable {
    case none, shutdown, cancel, timeout(String)
}

/// State shared by the runner, the request task, the signal handler and the worker's reader thread.
final class Control: Sendable {
    private struct State {
        var shuttingDown = false
        var current: JobID?
        var reason: StopReason = .none
        var stoppers: [@Sendable () -> Void] = []
        var lostInbox = false
        /// What of the state folder was removed or replaced under the daemon.
        var lostState: String?
        /// Stops the running job now (terminates its worker); nil between jobs.
        var stopAction: (@Sendable () -> Void)?
    }
    private let state = Mutex(State())

    var isShuttingDown: Bool { state.withLock { $0.shuttingDown } }
    var lostInbox: Bool { state.withLock { $0.lostInbox } }
    func inboxLost() { state.withLock { $0.lostInbox = true } }
    var lostState: String? { state.withLock { $0.lostState } }
    func stateLost(_ what: String) { state.withLock { $0.lostState = $0.lostState ?? what } }
    /// Whether the running job was asked to stop (a worker ending without its report was stopped, not crashed).
    var shouldStop: Bool { state.withLock { $0.shuttingDown || $0.reason != .none } }

    func onShutdown(_ stop: @escaping @Sendable () -> Void) { state.withLock { $0.stoppers.append(stop) } }

    /// Returns the stop actions to run (outside the lock).
    func beginShutdown() -> [@Sendable () -> Void] {
        state.withLock { s in
            s.shuttingDown = true
            if s.reason == .none && s.current != nil { s.reason = .shutdown }
            return s.stoppers + (s.current != nil ? [s.stopAction].compactMap { $0 } : [])
        }
    }

    /// Sets (or clears) the action that stops the running job. True when a stop was already asked for: run it now.
    func setStopAction(_ action: (@Sendable () -> Void)?) -> Bool {
        state.withLock { s in
            s.stopAction = action
            return action != nil && (s.shuttingDown || s.reason != .none)
        }
    }

    func begin(_ id: JobID) { state.withLock { $0.current = id; $0.reason = $0.shuttingDown ? .shutdown : .none } }

    func end() -> StopReason {
        state.withLock { s in
            let r = s.shuttingDown && s.reason == .none ? .shutdown : s.reason
            s.current = nil
            s.reason = .none
            return r
        }
    }

    func cancel(_ id: JobID) {
        let action = state.withLock { s -> (@Sendable () -> Void)? in
            guard s.current == id && s.reason == .none else { return nil }
            s.reason = .cancel
            return s.stopAction
        }
        action?()
    }

    func timeOut(_ stage: String) {
        let action = state.withLock { s -> (@Sendable () -> Void)? in
            guard s.current != nil && s.reason == .none else { return nil }
            s.reason = .timeout(stage)
            return s.stopAction
        }
        action?()
    }
}

/// The daemon in a ServiceLifecycle `ServiceGroup` (what `prostudio-daemon` runs): a graceful shutdown of the group,
/// on SIGTERM or SIGINT, stops pick-up, checkpoints the running job (its worker stops at its next checkpoint) and
/// returns.
extension Daemon: Service {
    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await run(handleSignals: false)
        } onGracefulShutdown: { [self] in
            logger.notice("graceful shutdown: stopping pick-up and checkpointing")
            shutdown()
        }
    }
}

/// What the supervisor gives back when it goes idle.
enum Heap {
    /// `malloc_trim(0)`: returns the free pages of every malloc arena to the system. Swift's Glibc module does not
    /// import malloc.h, so the symbol is looked up (idle only: the cost does not matter).
    static func trim() {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return }  // RTLD_DEFAULT
        _ = unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)(0)
    }

    /// Unmaps the code pages start-up touched: most of an idle supervisor's resident size is the text of its binary,
    /// the Swift runtime and Foundation, faulted in (64 KiB at a time) while it started and never used again while it
    /// waits. Only executable, file-backed mappings holding no private (copy-on-write) page are dropped: their pages
    /// are the file's, so a later call faults them back from the page cache unchanged. Returns the kilobytes dropped.
    @discardableResult
    static func dropIdleCode() -> Int {
        guard let text = readProcFile("/proc/self/smaps") else { return 0 }
        var dropped = 0
        var candidate: (start: UInt, length: Int, rss: Int)?
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count >= 6, fields[1] == "r-xp", fields[5].hasPrefix("/"),
               let dash = fields[0].firstIndex(of: "-"),
               let start = UInt(fields[0][..<dash], radix: 16), let end = UInt(fields[0][fields[0].index(after: dash)...], radix: 16) {
                candidate = (start, Int(end - start), 0)
            } else if fields.count >= 2, fields[0] == "Rss:", candidate != nil {
                candidate?.rss = Int(fields[1]) ?? 0
            } else if fields.count >= 2, fields[0] == "Anonymous:", let c = candidate {
                if fields[1] == "0", c.rss > 0, madvise(UnsafeMutableRawPointer(bitPattern: c.start), c.length, MADV_DONTNEED) == 0 {
                    dropped += c.rss
                }
                candidate = nil
            } else if fields.count >= 5, fields[0].contains("-"), fields[1].count == 4 {
                candidate = nil  // another mapping's header
            }
        }
        return dropped
    }

    /// A /proc file (its size reads as 0, so read to EOF).
    private static func readProcFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var data = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            data.append(contentsOf: chunk[0..<n])
        }
        return String(decoding: data, as: UTF8.self)
    }
}
