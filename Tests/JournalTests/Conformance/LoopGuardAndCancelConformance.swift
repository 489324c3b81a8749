import Foundation
import Journal
import Testing

/// The conformance suite, part 2: the loop guard (attempt counts), requests and cancellation, restart recovery.
@Suite struct LoopGuardConformance {
    @Test(arguments: StoreFactory.all) func retryableFailuresRequeueUntilTheLoopGuard(_ factory: StoreFactory) async throws {
        let opened = try await factory.make(3)
        defer { opened.close() }
        let store = opened.store
        let job = try await store.queued(1)
        let error = JobError(code: "gpu_oom", message: "out of GPU memory", field: "visuals")
        for attempt in 1...2 {
            #expect(try await store.startNext()?.attempts == attempt)
            let requeued = try await store.fail(job.id, error: error, retryable: true)
            #expect(requeued.state == .queued && requeued.attempts == attempt && requeued.error == error)
        }
        #expect(try await store.startNext()?.attempts == 3)
        let failed = try await store.fail(job.id, error: error, retryable: true)
        #expect(failed.state == .failed && failed.attempts == 3 && failed.error == error)
        #expect(try await store.startNext() == nil)
    }

    @Test(arguments: StoreFactory.all) func aStopAtShutdownDoesNotCountTheAttempt(_ factory: StoreFactory) async throws {
        let opened = try await factory.make(2)
        defer { opened.close() }
        let store = opened.store
        let job = try await store.queued(1)
        for _ in 1...3 {
            _ = try await store.startNext()
            #expect(try await store.suspend(job.id).attempts == 0)
        }
        _ = try await store.startNext()
        #expect(try await store.fail(job.id, error: JobError(code: "x", message: "y"), retryable: true).state == .queued)
        _ = try await store.startNext()
        #expect(try await store.fail(job.id, error: JobError(code: "x", message: "y"), retryable: true).state == .failed)
    }

    @Test(arguments: StoreFactory.all) func aJobThatKeepsTakingTheDaemonDownIsStopped(_ factory: StoreFactory) async throws {
        let opened = try await factory.make(3)
        defer { opened.close() }
        let id = try await opened.store.queued(1).id
        _ = try await opened.store.queued(2)
        var store = opened.store
        for crash in 1...3 {
            // The daemon takes the job, opens a stage, and dies: the next one finds it `running`.
            #expect(try await store.startNext()?.id == id)
            _ = try await store.beginStage(id, stage: "visuals", engine: "diffusion")
            store = try await opened.reopen()
            let report = try await store.recover()
            if crash < 3 {
                #expect(report.requeued == [id] && report.failedByLoopGuard.isEmpty)
                let requeued = try #require(try await store.job(id))
                #expect(requeued.state == .queued && requeued.attempts == crash)
            } else {
                #expect(report.failedByLoopGuard == [id] && report.requeued.isEmpty)
            }
        }
        let runs = try await store.stageRuns(of: id)
        #expect(runs.map(\.outcome) == [.interrupted, .interrupted, .interrupted] && runs.map(\.attempt) == [1, 2, 3])
        #expect(runs.allSatisfy { $0.endedAt != nil })
        let failed = try #require(try await store.job(id))
        #expect(failed.state == .failed && failed.error?.code == "attempts_exhausted" && failed.attempts == 3)
        // The other job is next, not the guarded one.
        #expect(try await store.startNext()?.name == "job2")

        // A person's retry starts the count again.
        try await store.request(.retry, job: id, by: "alice")
        #expect(try await store.applyPendingRequests() == [.requeued(id)])
        let retried = try #require(try await store.job(id))
        #expect(retried.state == .queued && retried.attempts == 0 && retried.error == nil && retried.progress == 0)
    }
}

@Suite struct CancellationConformance {
    @Test(arguments: StoreFactory.all) func requestsAreAppliedInOrderOnce(_ factory: StoreFactory) async throws {
        let opened = try await factory.make()
        defer { opened.close() }
        let store = opened.store
        let queued = try await store.queued(1)
        let running = try await store.job(in: .running, 2)
        let done = try await store.job(in: .done, 3)
        let failed = try await store.job(in: .failed, 4)
        let rejected = try await store.job(in: .rejected, 5)
        for (action, job) in [(RequestAction.cancel, queued), (.cancel, running), (.retry, done), (.cancel, done),
                              (.retry, failed), (.retry, rejected)] {
            try await store.request(action, job: job.id, by: "alice")
        }
        // Nothing changes until the daemon applies them: it is the only writer of job state.
        #expect(try await store.job(queued.id)?.state == .queued)
        #expect(try await store.requests(of: nil).map(\.handledAt) == Array(repeating: nil, count: 6))

        let effects = try await store.applyPendingRequests()
        #expect(effects.count == 6)
        #expect(effects.prefix(2) == [.cancelled(queued.id), .stopRunning(running.id)])
        for (i, id) in [(2, done.id), (3, done.id), (5, rejected.id)] {
            guard case .ignored(id, let reason) = effects[i] else { Issue.record("effect \(i): \(effects[i])"); continue }
            #expect(!reason.isEmpty)
        }
        #expect(effects[4] == .requeued(failed.id))
        #expect(try await store.applyPendingRequests().isEmpty)

        let handled = try await store.requests(of: nil)
        #expect(handled.allSatisfy { $0.handledAt != nil && $0.requestedBy == "alice" })
        #expect(handled.map(\.outcome) == ["cancelled", "stopping the running job", handled[2].outcome, handled[3].outcome,
                                           "requeued", handled[5].outcome])
        #expect(handled[2].outcome?.hasPrefix("ignored: ") == true && handled[3].outcome?.hasPrefix("ignored: ") == true)
        #expect(try await store.requests(of: running.id).map(\.action) == [.cancel])
        #expect(try await store.job(queued.id)?.state == .cancelled)
        #expect(try await store.job(done.id)?.state == .done)
    }

    /// Cancelling a running job is two steps: the request marks it (the runner is told to stop it), the runner's
    /// `cancel` ends it. A retryable failure of a job marked so is final; so is a crash before the runner stops it.
    @Test(arguments: StoreFactory.all) func aRunningJobIsMarkedThenCancelled(_ factory: StoreFactory) async throws {
        let opened = try await factory.make()
        defer { opened.close() }
        let store = opened.store
        let a = try await store.job(in: .running, 1)
        try await store.request(.cancel, job: a.id, by: "bob")
        #expect(try await store.applyPendingRequests() == [.stopRunning(a.id)])
        let marked = try #require(try await store.job(a.id))
        #expect(marked.state == .running && marked.cancelRequested)
        #expect(try await store.cancel(a.id).state == .cancelled)

        let b = try await store.job(in: .running, 2)
        try await store.request(.cancel, job: b.id, by: "bob")
        _ = try await store.applyPendingRequests()
        #expect(try await store.fail(b.id, error: JobError(code: "gpu_oom", message: "oom"), retryable: true).state == .failed)

        let c = try await store.job(in: .running, 3)
        try await store.request(.cancel, job: c.id, by: "bob")
        _ = try await store.applyPendingRequests()
        let restarted = try await opened.reopen()
        let report = try await restarted.recover()
        #expect(report.cancelled == [c.id] && report.requeued.isEmpty)
        #expect(try await restarted.job(c.id)?.state == .cancelled)

        // A cancelled job can be retried; the mark is cleared with it.
        try await restarted.request(.retry, job: c.id, by: "bob")
        #expect(try await restarted.applyPendingRequests() == [.requeued(c.id)])
        let again = try #require(try await restarted.job(c.id))
        #expect(again.state == .queued && !again.cancelRequested && again.attempts == 0)
    }

    @Test(arguments: StoreFactory.all) func aRestartRequeuesRunningJobsAndListsClaimedOnes(_ factory: StoreFactory) async throws {
        let opened = try await factory.make()
        defer { opened.close() }
        let running = try await opened.store.job(in: .running, 1)
        let claimed = try await opened.store.job(in: .claimed, 2)
        let queued = try await opened.store.job(in: .queued, 3)
        let store = try await opened.reopen()
        let report = try await store.recover()
        #expect(report.requeued == [running.id] && report.failedByLoopGuard.isEmpty && report.cancelled.isEmpty)
        #expect(report.claimed.map(\.id) == [claimed.id])
        #expect(try await store.job(queued.id) == queued)
        // The resumed run is attempt 2; the first one's record stays.
        #expect(try await store.startNext()?.id == running.id)
        #expect(try await store.job(running.id)?.attempts == 2)
        #expect(try await store.recover().requeued == [running.id])
    }
}
