import Contract

/// What becomes of a job found `running` that nothing runs any more: after a restart (both journals' `recover`) or
/// when its lease expired (PostgreSQL's `rescueExpired`). One rule, so the stores and the rescuer agree: a requested
/// cancel is honoured, the loop guard fails a job that keeps taking its runner down, anything else goes back in the queue.
enum Interruption {
    enum Outcome: Equatable {
        case cancel
        case fail(JobError)
        case requeue
    }

    /// What interrupted it, in the loop guard's words: "the job <what> N times (<why>)".
    struct Cause { let what: String, why: String }

    static func outcome(for job: Job, maxAttempts: Int, cause: Cause) -> Outcome {
        if job.cancelRequested { return .cancel }
        guard job.attempts >= maxAttempts else { return .requeue }
        // The loop guard: a job that keeps taking the daemon down is not started again by itself.
        return .fail(JobError(
            code: "attempts_exhausted",
            message: "the job \(cause.what) \(job.attempts) times (\(cause.why)); it is not retried automatically: "
                + "run `prostudio jobs retry \(job.id)` once the cause is fixed"))
    }

    static let restart = Cause(what: "was interrupted", why: "the daemon stopped or crashed while running it")
    static let leaseExpired = Cause(what: "'s lease expired", why: "its host stopped, crashed or lost the database")
}
