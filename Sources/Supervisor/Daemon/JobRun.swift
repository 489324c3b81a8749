import Contract
import Failures
import Foundation
import Intake
import Journal
import Logging

/// What one worker run reported, as the supervisor journaled it.
struct RunLedger: Sendable {
    var report = JobReport()
    /// Stage runs begun in the journal, in order; `open` until the worker said the stage ended.
    var runs: [(stage: String, id: Int64, open: Bool)] = []
    var outputs: Sidecar.Outputs?
    /// `.done` or `.failed`, when the worker got that far.
    var final: WorkerMessage?
    /// The stage the worker was in last.
    var stage: String?
}

extension Daemon {
    /// Runs `job` in a worker and records its end. The worker's messages are journaled in the order they came, by one
    /// task (`record`); every sidecar is then written from the journal row (`publishSidecar`).
    func run(_ job: Job, journal: any JobStore, pickUp: PickUp) async {
        let claimed = ContinuousClock.now
        var log = logger
        log[metadataKey: "job"] = "\(job.id)"
        log[metadataKey: "name"] = "\(job.name)"
        log.info("job started", metadata: ["attempt": "\(job.attempts)"])
        control.begin(job.id)
        writeSidecar(job)

        // Unbounded: the worker's reader thread never waits on the journal.
        let (messages, sink) = AsyncStream<WorkerMessage>.makeStream()
        let recorder = Task { await self.record(messages, job: job, journal: journal, claimed: claimed) }
        let exit = await runWorker(job, messages: sink, log: log)
        sink.finish()
        let ledger = await recorder.value
        let stop = control.end()
        let result = outcome(exit, ledger, stop: stop, log: log)
        if case .failure(let error) = result, error.code == WorkerRun.crashed {
            try? await journal.addEvent(job.id, kind: "worker", message: error.message)
        }

        // Stage runs the worker never ended were cut short by whatever ended the job.
        for run in ledger.runs where run.open {
            let outcome: StageOutcome = switch stop {
            case .shutdown: .interrupted
            case .cancel: .cancelled
            default: .failed
            }
            do { try await journal.endStage(run: run.id, StageEnd(outcome: outcome)) } catch {
                log.warning("journal: stage run", metadata: ["error": "\(error)"])
            }
        }
        if case .failure(let error) = result, stop == .none {
            try? await journal.addEvent(job.id, kind: "failure", message: "\(error.disposition.rawValue) at \(error.stage ?? "plan"): "
                                            + "\(error.code): \(error.message)" + (error.field.map { " (field \($0))" } ?? ""))
        }
        // F10: a journal that cannot be written (disk full) must not leave the job `running` until a restart: the end is
        // retried with backoff until it is recorded (or the daemon stops; the next start requeues it then).
        let backoff = Backoff(first: .milliseconds(500), cap: .seconds(30))
        var failures = 0
        while true {
            do {
                try await recordEnd(job, result: result, ledger: ledger, stop: stop, journal: journal, pickUp: pickUp, log: log)
                break
            } catch {
                if control.isShuttingDown {
                    log.error("journal: cannot record the job's end; the next start requeues it", metadata: ["error": "\(error)"])
                    break
                }
                failures += 1
                let delay = backoff.delay(afterFailures: failures)
                log.error("journal: cannot record the job's end; retrying", metadata: ["error": "\(error)", "in": "\(delay)"])
                try? await Task.sleep(for: delay)
            }
        }
    }

    /// How the run ended, from the worker's final message, or from how the process ended when it sent none.
    private func outcome(_ exit: Result<(exit: WorkerExit?, pid: pid_t), JobFailure>, _ ledger: RunLedger, stop: StopReason,
                         log: Logger) -> Result<Sidecar.Outputs, JobFailure> {
        let processExit: WorkerExit?, pid: pid_t
        switch exit {
        case .failure(let failure): return .failure(failure)
        case .success(let e): (processExit, pid) = e
        }
        switch ledger.final {
        case .done?:
            guard let outputs = ledger.outputs, outputs.video != nil else {
                return .failure(JobFailure(code: "worker.protocol", message: "the worker reported done without its outputs", stage: "publish"))
            }
            return .success(outputs)
        case .failed(let failure)?:
            return .failure(failure)
        default:
            let stage = ledger.stage ?? "plan"
            let how = processExit?.description ?? "went idle without its report"
            let message = "the worker (pid \(pid)) \(how) during stage \(stage)"
            if stop != .none { return .failure(JobFailure(code: JobFailure.cancelled.code, message: message, stage: stage, disposition: .cancelled)) }
            log.error("worker crashed", metadata: ["exit": "\(how)", "stage": "\(stage)"])
            // A crash (segfault, OOM kill) is retried under the loop guard, like an I/O failure.
            return .failure(JobFailure(code: WorkerRun.crashed, message: message, stage: stage, disposition: .retryable))
        }
    }

    /// The job's end in the journal, then its sidecar from the journal (the publish order: outputs renamed in by the
    /// worker, journal `done`, sidecar), then its webhook.
    private func recordEnd(_ job: Job, result: Result<Sidecar.Outputs, JobFailure>, ledger: RunLedger, stop: StopReason,
                           journal: any JobStore, pickUp: PickUp, log: Logger) async throws {
        switch result {
        case .success(let o):
            var outputs: [String: String] = ["sidecar": job.name + ".json"]
            for (role, file) in [("video", o.video), ("captions", o.captions), ("webvtt", o.webvtt), ("poster", o.poster)] {
                if let file { outputs[role] = file }
            }
            // Each rendition's file under its own role, so whatever lists or removes a job's files finds it.
            for r in ledger.report.details.renditions ?? [] { outputs["rendition." + r.name] = r.file }
            // Journaled before `done`, so whoever sees done sees them too (`jobs show`, the API, the dashboard).
            for w in ledger.report.warnings ?? [] { try await journal.addEvent(job.id, kind: "warning", message: w) }
            let finished = try await journal.finish(job.id, outputs: outputs)
            // The webhook carries the bytes written (projected again should the write have failed).
            if let body = await publishSidecar(finished, journal: journal) ?? (try? finished.sidecar.encoded()) {
                await webhooks.jobEnded(finished, event: "done", body: body)
            }
            log.notice("job done", metadata: ["video": "\(o.video ?? "-")"])
        case .failure(let error):
            let jobError = JobError(code: error.code, message: error.message, field: error.field, stage: error.stage,
                                    disposition: error.disposition.rawValue)
            switch stop {
            case .shutdown:
                let after = try await journal.suspend(job.id)
                writeSidecar(after)
                log.info("job checkpointed for shutdown; it resumes on the next start")
            case .cancel:
                // The worker's own words when it stopped at a checkpoint; a worker killed before it could say anything
                // leaves no error (nothing failed).
                let after: Job
                if case .failed(let said)? = ledger.final {
                    after = try await journal.cancel(job.id, error: JobError(code: said.code, message: said.message, field: said.field,
                                                                             stage: said.stage, disposition: said.disposition.rawValue))
                } else {
                    after = try await journal.cancel(job.id)
                }
                await publishSidecar(after, journal: journal)
                log.info("job cancelled")
            case .timeout(let stage):
                let timeout = JobError(code: "stage_timeout", message: "stage \(stage) ran longer than \(config.stageTimeout) (limits.stage_timeout_s)",
                                       stage: stage, disposition: JobFailure.Disposition.permanent.rawValue)
                let after = try await journal.fail(job.id, error: timeout, retryable: false)
                await notifyEnded(after, body: await publishSidecar(after, journal: journal))
                log.error("job failed: stage timeout", metadata: ["stage": "\(stage)"])
            case .none:
                switch error.disposition {
                case .invalidInput:
                    let rejected = try await pickUp.reject(job, error: jobError)
                    await notifyEnded(rejected, body: await publishSidecar(rejected, journal: journal))
                    log.notice("job rejected", metadata: ["code": "\(error.code)", "field": "\(error.field ?? "-")"])
                case .retryable, .permanent, .cancelled:
                    // `cancelled` without a stop asked of this daemon: the worker was stopped from outside (a SIGTERM to
                    // the whole service); not the job's fault, so it runs again under the loop guard.
                    let after = try await journal.fail(job.id, error: jobError, retryable: error.disposition != .permanent)
                    if after.state == .queued {
                        writeSidecar(after)
                        log.warning("job failed; it runs again", metadata: ["code": "\(error.code)", "stage": "\(error.stage ?? "-")",
                                                                          "attempt": "\(after.attempts)", "error": "\(error.message)"])
                    } else {
                        await notifyEnded(after, body: await publishSidecar(after, journal: journal))
                        log.error("job failed", metadata: ["code": "\(error.code)", "stage": "\(error.stage ?? "-")", "error": "\(error.message)"])
                    }
                }
            }
        }
    }
}
