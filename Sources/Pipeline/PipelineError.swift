import Engines
import Manifest
import Media

/// Why a job did not finish, in words a person can act on. Its code and message go to the sidecar
/// and the journal; `exitCode` follows the CLI contract (2: bad manifest or asset, 1: anything else).
public struct PipelineError: Error, Sendable, CustomStringConvertible {
    public var code: String
    public var message: String
    public var field: String?
    public var stage: String?
    /// Every problem of a refused manifest, each with its field and line (`message` joins them): what
    /// `validate --json` prints.
    public var problems: [ManifestError] = []

    public init(code: String, message: String, field: String? = nil, stage: String? = nil) {
        self.code = code; self.message = message; self.field = field; self.stage = stage
    }

    public var isInvalidInput: Bool { code.hasPrefix("manifest.") }
    public var exitCode: Int32 { isInvalidInput ? 2 : 1 }
    public var description: String { message }

    public static let cancelled = PipelineError(code: "job.cancelled", message: "the job was cancelled")

    init(_ errors: ManifestErrors) {
        self.init(code: errors.first.code.rawValue, message: errors.description, field: errors.first.field, stage: "plan")
        problems = errors.errors
    }

    /// Engine and media failures keep their own codes; anything else is named after its stage.
    init(_ error: any Error, stage: String) {
        switch error {
        case let e as PipelineError: self = e
        case let e as EngineError: self.init(code: e.code, message: e.message, field: e.field, stage: stage)
        case let e as MediaError: self.init(code: "\(stage).media", message: "\(stage) failed: \(e)", stage: stage)
        default: self.init(code: "\(stage).failed", message: "\(stage) failed: \(error)", stage: stage)
        }
    }

    var sidecarError: Sidecar.ErrorInfo { Sidecar.ErrorInfo(code: code, message: message, field: field) }
}
