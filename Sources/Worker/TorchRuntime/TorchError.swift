import CTorchShim
import Foundation

/// A failure reported by libtorch (through the shim) or by this module's own checks.
/// `message` is the shim's text; `context` says what ProStudio was doing ("loading /p/denoiser.pt onto cpu").
public struct TorchError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Code: String, Sendable, Codable {
        case torch            // a c10::Error: wrong input count, shape or dtype, ...
        case invalidArgument
        case notFound         // a file that does not exist
        case loadFailed       // not a loadable TorchScript archive (corrupt, truncated, wrong format)
        case noSuchMethod
        case outOfMemory
        case unsupported      // e.g. CUDA asked of a CPU build
        case cpp              // another std::exception
        case unknown
        case unloaded         // the module was unloaded (by the model manager) before this call
        case dtypeMismatch    // reading a tensor as an element type it does not have
    }

    public let code: Code
    public let message: String
    public let context: String

    public init(_ code: Code, _ message: String, context: String) {
        self.code = code
        self.message = message
        self.context = context
    }

    /// The message without TorchScript's tracebacks: the interpreter puts the actual failure
    /// ("RuntimeError: Given groups=1, weight of size ...") after two tracebacks of serialized code.
    public var summary: String {
        guard message.contains("Traceback of TorchScript") else { return message }
        let lines = message.split(separator: "\n", omittingEmptySubsequences: true)
        if let i = lines.lastIndex(where: { $0.range(of: #"^[A-Za-z.]*(Error|Exception):"#, options: .regularExpression) != nil }) {
            return lines[i...].joined(separator: " ").trimmingCharacters(in: .whitespaces)
        }
        return lines.last.map(String.init) ?? message
    }

    public var description: String { context.isEmpty ? summary : "\(context): \(summary)" }
}

extension TorchError.Code {
    init(_ status: ct_status) {
        switch status {
        case CT_ERR_TORCH: self = .torch
        case CT_ERR_INVALID_ARGUMENT: self = .invalidArgument
        case CT_ERR_NOT_FOUND: self = .notFound
        case CT_ERR_LOAD_FAILED: self = .loadFailed
        case CT_ERR_NO_SUCH_METHOD: self = .noSuchMethod
        case CT_ERR_OUT_OF_MEMORY: self = .outOfMemory
        case CT_ERR_UNSUPPORTED: self = .unsupported
        case CT_ERR_STD: self = .cpp
        default: self = .unknown
        }
    }
}

/// Calls a fallible shim function and turns a failure into a TorchError (freeing the shim's error once).
@inline(__always)
func check(_ context: @autoclosure () -> String, _ body: (UnsafeMutablePointer<OpaquePointer?>) -> ct_status) throws(TorchError) {
    var err: OpaquePointer?
    let status = body(&err)
    if status == CT_OK { return }
    defer { if let err { ct_error_free(err) } }
    let message = err.map { String(cString: ct_error_message($0)) } ?? "failed (no message)"
    throw TorchError(TorchError.Code(status), message, context: context())
}
