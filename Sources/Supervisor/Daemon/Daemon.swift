import Contract
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
/// jobs one at a time, oldest first, each in a `prostudio worker` child process (see `run`, JobRun.swift). It never
/// loads libav or libtorch: the pipeline runs in the worker. SIGTERM (or `shutdown()`) stops pick-up, asks the running
/// job's worker to stop at its next checkpoint, puts the job back in the queue (its finished stages stay in the stage
/// cache) and returns.
///
/// Outputs are named after the job (`NAME.mp4`, `NAME.json`, ...). Same NAME rule: the most recent job of a NAME
/// owns those files; a later job with the same NAME replaces them (each file atomically) when it runs, and
/// the sidecar's `job_id` says which job a file belongs to. Older jobs stay in the journal (`jobs show ID`). A rejected
/// job, which produced nothing, never takes `NAME.json` from a done job whose video is still there, nor does a failed or
/// cancelled one: its sidecar is `rejected/NAME.json` (`failed/`, `cancelled/`) then (see `publishSidecar`, Publish.swift; Docs/contract.md).
public final class Daemon: Sendable {
    public let config: DaemonConfig
    let logger: Logger
    let notifier: SDNotifier
    let layout: StateLayout
    let control = Control()
    /// The journal to use instead of opening `state/journal.sqlite3` (tests: `SQLiteJournal.inMemory()`).
    let injectedStore: (any JobStore)?
    let webhooks: Webhooks
    /// Warm workers (`workers.warm`); nil: a fresh worker per job.
    let pool: WorkerPool?
    /// The journal and pick-up, for the HTTP API beside the daemon (nil until ready).
    public let live = DaemonLiveBox()
    private let wakeups: AsyncStream<Void>
    let wakeup: AsyncStream<Void>.Continuation
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
        pool = config.workers.warm ? config.worker.map { WorkerPool(executable: $0, settings: config.workers, grace: config.workerGrace, logger: logger) } : nil
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
        defer { ignored.cancel() }
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
        } else if let location = config.journal {
            // Issue 31: the journal on PostgreSQL (no file in the state folder to check first).
            journal = try await PostgresJournal.open(location, maxAttempts: config.maxAttempts, queue: config.queue, logger: logger)
        } else {
            // F12: a lost journal next to job folders, or a damaged one, must stop the start, not be replaced silently.
            try JournalGuard.checkPresent(layout)
            do { journal = try SQLiteJournal(path: layout.journal, maxAttempts: config.maxAttempts, queue: config.queue, logger: logger) } catch {
                throw DaemonError.journalCorrupt(journal: layout.journal, detail: "\(error)")
            }
        }
        defer { (journal as? PostgresJournal)?.close() }
        try await JournalGuard.checkOpened(journal, layout)
        // Webhooks send from a loop of their own (messages an earlier run left pending first).
        webhooks.attach(journal)
        let hooks = Task { await webhooks.run(journal: journal) }
        defer { webhooks.stop(); hooks.cancel() }
        let pickUp = PickUp(store: journal, layout: layout, logger: logger,
                            check: PickUpChecks.validate(defaults: config.defaults, access: config.inboxFolderAccess,
                                                                  models: config.models ?? PackCheck.defaultModels)) {
            [self] job in writeSidecar(job)
        }

        // 1. Whatever the last run left behind: first its workers, if a kill -9 left any still running (their job is
        // about to be requeued, and the sweep below must not race their last writes).
        let stale = await StaleWorkers.stop(cache: layout.cache)
        if !stale.isEmpty { logger.notice("stopped workers the last run left", metadata: ["pids": "\(stale)"]) }
        let report = try await journal.recover()
        for id in report.requeued { await refreshSidecar(journal, id, expecting: .queued) }
        for id in report.failedByLoopGuard + report.cancelled { await refreshSidecar(journal, id, expecting: nil) }
        await republishUnwritten(journal)
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
        let signals = handleSignals ? installSignalHandlers() : nil
        defer { signals?.cancel() }
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
        // On PostgreSQL a job queued or a request made by any process (another daemon, the CLI elsewhere) is a NOTIFY:
        // the idle runner wakes on it without polling.
        let notices = (journal as? PostgresJournal).map { pg in
            Task { await pg.listen { isRequest in if isRequest { Task { await self.applyRequests(journal) } } else { self.wakeup.yield() } } }
        }
        defer { notices?.cancel() }
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
        // The API reads the journal through `APIJournal` (SQLite, the in-memory one of tests, or PostgreSQL).
        if let api = journal as? any APIJournal {
            live.set(DaemonLive(journal: api, pickUp: pickUp, layout: layout, accepted: { outcome in
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
        await pool?.stopAll()

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
                // Model-aware order (issue 32): a job whose packs the warm worker holds goes first among equals,
                // within the queue's fairness bound (Docs/queue.md). Cold workers hold nothing: FIFO by priority.
                if let job = try await journal.startNext(preferring: pool?.loadedPacks ?? []) {
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
            // Idle: the spare waits for the next job (it goes with the idle time-out like the warm one).
            if let pool { pool.ensureSpare(template: workerSpec(nil)) }
            try? await journal.checkpoint()  // while nothing waits on the journal
            // Idle: hand the heap's free pages back to the system (glibc keeps them otherwise) and unmap the code
            // that start-up and the last job touched, so the supervisor's resident size is what waiting needs.
            Heap.trim()
            let dropped = Heap.dropIdleCode()
            logger.debug("idle: returned memory", metadata: ["code_kb": "\(dropped)"])
            // A job held back by `not_before` rings no bell when its time comes: wake then.
            let wakeup = self.wakeup
            let timer = (try? await journal.nextNotBefore()).map { at in
                Task { try? await Task.sleep(for: .seconds(max(0, at.timeIntervalSinceNow) + 0.01)); wakeup.yield() }
            }
            _ = await wakes.next()
            timer?.cancel()
        }
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
