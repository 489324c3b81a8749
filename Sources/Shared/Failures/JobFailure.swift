/// Why a job did not finish, in words a person can act on, typed so that nothing downstream guesses from the code.
///
/// The pipeline throws it, `prostudio worker` reports it to the supervisor over the pipe (`WorkerMessage.failed`),
/// and the supervisor decides the job's end from `disposition` alone: `invalidInput` is `rejected`, `retryable` goes
/// back to the queue under the loop guard, `permanent` is `failed`, `cancelled` is `cancelled`. The code, message,
/// field and stage go to the journal and the sidecar (`error`); codes are stable, users script against them.
public struct JobFailure: Error, Codable, Sendable, Equatable, CustomStringConvertible {
    /// What the failure means for the job.
    public enum Disposition: String, Codable, Sendable, CaseIterable {
        /// The manifest or one of its assets is at fault: the job is rejected; only a fixed input helps.
        case invalidInput = "invalid_input"
        /// Transient (a full or read-only disk, a crashed worker): the job runs again, up to the loop guard.
        case retryable
        /// Anything else: the job failed; `prostudio jobs retry` runs it again once the cause is fixed.
        case permanent
        /// Stopped on request (cancel, shutdown), not a failure.
        case cancelled
    }

    public var code: String
    public var message: String
    /// The manifest field at fault (`scenes[2].image`), when one is.
    public var field: String?
    /// The stage that failed (`plan`, `speech`, ..., `publish`).
    public var stage: String?
    public var disposition: Disposition
    /// Every problem of a refused manifest, each with its field and line (`message` joins them): what
    /// `validate --json` and the HTTP API's 400 list.
    public var problems: [Problem] = []

    public struct Problem: Codable, Sendable, Equatable {
        public var code: String
        public var field: String?
        public var line: Int?
        public var message: String
        public init(code: String, field: String?, line: Int?, message: String) {
            self.code = code; self.field = field; self.line = line; self.message = message
        }
    }

    public init(code: String, message: String, field: String? = nil, stage: String? = nil, disposition: Disposition = .permanent) {
        self.code = code; self.message = message; self.field = field; self.stage = stage; self.disposition = disposition
    }

    public var isInvalidInput: Bool { disposition == .invalidInput }
    public var isRetryable: Bool { disposition == .retryable }
    /// The CLI contract: 2 for a bad manifest or asset, 1 for anything else.
    public var exitCode: Int32 { isInvalidInput ? 2 : 1 }
    public var description: String { message }

    public static let cancelled = JobFailure(code: "job.cancelled", message: "the job was cancelled", disposition: .cancelled)
}
