import Engines
import Failures
import Manifest
import Media

/// Why a job did not finish: the one typed failure (`Failures.JobFailure`), whose `disposition` says whether the
/// input is at fault, a retry may help, or neither. Its code and message go to the sidecar and the journal;
/// `exitCode` follows the CLI contract (2: bad manifest or asset, 1: anything else).
public typealias PipelineError = JobFailure

extension JobFailure {
    /// A manifest that does not validate: the user's input, so `invalidInput`.
    init(_ errors: ManifestErrors) {
        self.init(code: errors.first.code.rawValue, message: errors.description, field: errors.first.field, stage: "plan",
                  disposition: .invalidInput)
        problems = errors.errors.map { Problem(code: $0.code.rawValue, field: $0.field, line: $0.line, message: $0.problem) }
    }

    /// Engine and media failures keep their own codes; anything else is named after its stage.
    init(_ error: any Error, stage: String) {
        switch error {
        case let e as JobFailure: self = e
        case let e as EngineError: self.init(code: e.code, message: e.message, field: e.field, stage: stage)
        case let e as MediaError: self.init(code: "\(stage).media", message: "\(stage) failed: \(e)", stage: stage)
        default: self.init(code: "\(stage).failed", message: "\(stage) failed: \(error)", stage: stage)
        }
    }

    /// The outbox or the work folder could not be written (full, read-only): worth another attempt once space is freed.
    static func io(_ code: String, _ message: String, stage: String? = nil) -> JobFailure {
        JobFailure(code: code, message: message, stage: stage, disposition: .retryable)
    }

    var sidecarError: Sidecar.ErrorInfo {
        Sidecar.ErrorInfo(code: code, message: message, field: field, stage: stage, disposition: disposition.rawValue)
    }
}
