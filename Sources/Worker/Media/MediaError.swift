import CFFmpeg

/// A libav* call that failed, with what ProStudio was doing and FFmpeg's own words.
public struct MediaError: Error, Sendable, CustomStringConvertible {
    public let operation: String
    public let path: String?
    public let detail: String

    public init(_ operation: String, path: String? = nil, detail: String) {
        self.operation = operation
        self.path = path
        self.detail = detail
    }

    init(_ operation: String, path: String? = nil, code: Int32) {
        self.init(operation, path: path, detail: averrorString(code))
    }

    public var description: String {
        "\(operation)\(path.map { " (\($0))" } ?? ""): \(detail)"
    }
}

func averrorString(_ code: Int32) -> String {
    var buf = [CChar](repeating: 0, count: 256)
    ps_err2str(code, &buf, buf.count)
    return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Throws when a libav return code is negative.
@discardableResult
func check(_ code: Int32, _ operation: @autoclosure () -> String, path: String? = nil) throws(MediaError) -> Int32 {
    if code < 0 { throw MediaError(operation(), path: path, code: code) }
    return code
}

/// libav logs to stderr by default; a daemon wants only its own structured logs.
public enum MediaLog {
    public static func quiet() { av_log_set_level(AV_LOG_ERROR) }
}
