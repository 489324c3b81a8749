import Contract
import Failures
import Foundation
import Journal
import Logging
import Synchronization

enum WorkerRun {
    static let crashed = "worker.crashed"
}

extension Duration {
    var asSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

extension Daemon {
    /// Journals the worker's messages as they come, one at a time and in order (a cache entry stored then pruned is
    /// never recorded the other way round), and writes the sidecar from the journal after each change. Starts each
    /// stage's timeout.
    /// `claimed`: when the job was taken from the queue (its first stage's delay goes into the report).
    func record(_ messages: AsyncStream<WorkerMessage>, job: Job, journal: any JobStore, claimed: ContinuousClock.Instant = .now) async -> RunLedger {
        var ledger = RunLedger()
        var journaled = -1.0
        var timeout: Task<Void, Never>?
        var lastWrite = ContinuousClock.now - .seconds(1)
        var unwritten: Job?
        let root = layout.cache
        for await message in messages {
            var changed: Job?
            var throttled = false
            do {
                switch message {
                case .stageStarted(let stage):
                    if ledger.runs.isEmpty {
                        ledger.report.first_stage_s = (ContinuousClock.now - claimed).asSeconds
                        // A spare for the next job (or a retry) starts now that this one has begun, not at the hand-over,
                        // where its start-up took the cores the job's first stage was waiting for.
                        pool?.ensureSpare(template: workerSpec(nil))
                    }
                    ledger.stage = stage
                    let run = try await journal.beginStage(job.id, stage: stage, engine: nil)
                    ledger.runs.append((stage, run, true))
                    timeout?.cancel()
                    let limit = config.stageTimeout, control = self.control
                    timeout = Task {
                        try? await Task.sleep(for: limit)
                        if !Task.isCancelled { control.timeOut(stage) }
                    }
                    try? notifier.status("job \(job.id) \(job.name): \(stage)")
                    changed = try await journal.job(job.id)
                case .progress(let stage, _, let overall, let finished):
                    ledger.stage = stage
                    // Every 2% is plenty for `jobs watch`; every frame would be a write per frame.
                    if finished || overall - journaled >= 0.02 {
                        try await journal.setProgress(job.id, stage: stage, progress: overall)
                        journaled = overall
                        changed = try await journal.job(job.id)
                        // Progress alone rewrites the sidecar at most twice a second (each write is two fsyncs).
                        throttled = !finished && ContinuousClock.now - lastWrite < .milliseconds(500)
                    }
                case .stageEnded(let stage, let record):
                    // F8: a stage's run is closed when the stage ends, not when the job does.
                    // The record first: whoever sees the run closed (the API's metrics) finds it in the report.
                    timeout?.cancel()
                    ledger.report.stages[stage] = record
                    if let uses = record.models, !uses.isEmpty {
                        ledger.report.models = (ledger.report.models ?? []) + ModelLoad.from(stage: stage, uses)
                    }
                    changed = try await journal.setReport(job.id, ledger.report)
                    if let i = ledger.runs.lastIndex(where: { $0.stage == stage && $0.open }) {
                        ledger.runs[i].open = false
                        try await journal.endStage(run: ledger.runs[i].id, StageEnd(outcome: .ok, engine: record.engine, peakMemoryBytes: record.peak_memory_bytes,
                                                                                     cacheHit: record.cached, seconds: record.seconds))
                    }
                case .seed(let seed):
                    try await journal.setSeed(job.id, seed: seed)
                    changed = try await journal.job(job.id)
                case .warnings(let warnings):
                    ledger.report.warnings = warnings.isEmpty ? nil : warnings
                    changed = try await journal.setReport(job.id, ledger.report)
                case .details(let details):
                    ledger.report.details = details
                    changed = try await journal.setReport(job.id, ledger.report)
                case .outputs(let outputs):
                    ledger.outputs = outputs
                case .cacheStored(let name, let stage, let bytes):
                    try await journal.recordArtifact(Artifact(key: name, stage: stage, path: root + "/" + name, sizeBytes: bytes))
                case .cacheUsed(let name):
                    try await journal.touchArtifact(key: name)
                case .cacheRemoved(let names):
                    for name in names { try await journal.removeArtifact(key: name) }
                case .done, .failed:
                    ledger.final = message
                case .idle:
                    break  // the pool's (WarmWorker), never forwarded to a job's stream
                }
            } catch {
                logger.warning("journal: cannot record the worker's report", metadata: ["job": "\(job.id)", "error": "\(error)"])
            }
            if let changed, changed.state == .running {
                if throttled { unwritten = changed; continue }
                writeSidecar(changed)
                lastWrite = .now
                unwritten = nil
            }
        }
        // The last progress held back by the throttle, so the sidecar ends the run as the row does.
        if let unwritten { writeSidecar(unwritten) }
        timeout?.cancel()
        return ledger
    }

    /// The spec the worker gets for `job` (a warm worker's template is the same without a job).
    func workerSpec(_ job: Job?) -> WorkerSpec {
        var spec = WorkerSpec(jobID: job?.id.rawValue ?? "", name: job?.name ?? "", manifestPath: job?.manifestPath ?? "",
                              displayName: job?.sourcePath, outbox: config.outbox, cache: layout.cache, models: config.models,
                              config: config.configFile, memoryLimitBytes: config.workerMemoryLimitBytes, cacheMaxBytes: config.cacheMaxBytes,
                              logLevel: config.logLevel.rawValue, device: config.device, nice: config.workerNice, work: layout.work)
        if config.workers.warm {
            // The manager keeps several components loaded within the host budget on the CPU (the GPU's on CUDA: the
            // worker picks by its device).
            spec.modelBudgetBytes = config.workers.maxHostBytes
            spec.modelBudgetGPUBytes = config.workers.maxGPUBytes
        }
        return spec
    }

    /// Runs the job in a `prostudio worker` child process (a warm one when `workers.warm`), its messages into
    /// `messages`. Cancel, stage timeout and shutdown terminate it (SIGTERM, SIGKILL after `worker_grace_s`). Returns
    /// how the process ended: nil when it is a warm worker that stays for the next job.
    func runWorker(_ job: Job, messages: AsyncStream<WorkerMessage>.Continuation, log: Logger) async -> Result<(exit: WorkerExit?, pid: pid_t), JobFailure> {
        guard let executable = config.worker else {
            return .failure(JobFailure(code: "worker.none", message: "no worker executable configured (DaemonConfig.worker)"))
        }
        if let pool { return await runWarm(job, pool: pool, messages: messages, log: log) }
        let spec = workerSpec(job)
        let grace = config.workerGrace, control = self.control, logger = log
        let pid = Mutex<pid_t>(0)
        do {
            let exit = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<WorkerExit, any Error>) in
                do {
                    let process = try WorkerProcess(executable: executable, spec: spec, onMessage: { messages.yield($0) },
                                                    onExit: { continuation.resume(returning: $0) })
                    pid.withLock { $0 = process.pid }
                    logger.debug("worker started", metadata: ["pid": "\(process.pid)"])
                    if control.setStopAction({ process.terminate(grace: grace) }) { process.terminate(grace: grace) }
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            _ = control.setStopAction(nil)
            return .success((exit, pid.withLock { $0 }))
        } catch {
            // Retryable: a spawn fails for want of memory or processes far more often than for a missing file.
            return .failure(JobFailure(code: "worker.spawn", message: "\(error)", disposition: .retryable))
        }
    }

    /// The job in a warm worker. One that ends before saying anything about the job (killed while it waited, or as
    /// the spec arrived) never began it: the job goes to another worker in the same attempt, once.
    private func runWarm(_ job: Job, pool: WorkerPool, messages: AsyncStream<WorkerMessage>.Continuation,
                         log: Logger) async -> Result<(exit: WorkerExit?, pid: pid_t), JobFailure> {
        let spec = workerSpec(job), template = workerSpec(nil), grace = config.workerGrace
        var tries = 0
        while true {
            tries += 1
            let worker: WarmWorker
            do { worker = try pool.take(template: template) } catch {
                return .failure(JobFailure(code: "worker.spawn", message: "\(error)", disposition: .retryable))
            }
            if control.setStopAction({ worker.terminate(grace: grace) }) { worker.terminate(grace: grace) }
            log.debug("job given to a warm worker", metadata: ["pid": "\(worker.pid)", "jobs_before": "\(worker.jobsRun)"])
            // While the job runs, a spare is started once its first stage begins (`record`).
            let end = await worker.run(spec, messages: messages)
            _ = control.setStopAction(nil)
            switch end {
            case .idle:
                pool.giveBack(worker)
                return .success((nil, worker.pid))
            case .exited(let exit, let heard):
                if !heard && tries < 2 && !control.shouldStop {
                    log.notice("a warm worker ended before it began the job; another takes it", metadata: [
                        "pid": "\(worker.pid)", "exit": "\(exit.description)"])
                    continue
                }
                return .success((exit, worker.pid))
            }
        }
    }
}
