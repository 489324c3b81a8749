import Logging

/// A log handler that escapes control characters in messages and metadata before the handler it wraps writes them:
/// file names and manifest fields reach the log, and a file named `new\nline.yaml` forged a log line, an ESC sequence
/// reached a terminal raw. Newline, CR and tab become `\n`, `\r`, `\t`; other C0/C1 controls, DEL and the Unicode line
/// separators become `\u{XX}`.
public struct EscapingLogHandler<Inner: LogHandler>: LogHandler {
    private var inner: Inner

    public init(_ inner: Inner) { self.inner = inner }

    public func log(event: LogEvent) {
        var event = event
        let text = event.message.description
        let escaped = Self.escape(text)
        if escaped != text { event.message = Logger.Message(stringLiteral: escaped) }
        event.metadata = event.metadata.map(Self.escape)
        inner.log(event: event)
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue.map(Self.escape) }
    }

    public var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = Self.escape(newValue) }
    }

    public var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }

    public var metadataProvider: Logger.MetadataProvider? {
        get { inner.metadataProvider }
        set { inner.metadataProvider = newValue }
    }

    static func escape(_ metadata: Logger.Metadata) -> Logger.Metadata { metadata.mapValues(escape) }

    static func escape(_ value: Logger.Metadata.Value) -> Logger.Metadata.Value {
        switch value {
        case .string(let s): .string(escape(s))
        case .stringConvertible(let c):
            { let s = c.description, e = escape(s); return e == s ? value : .string(e) }()
        case .dictionary(let d): .dictionary(escape(d))
        case .array(let a): .array(a.map(escape))
        }
    }

    public static func escape(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where needsEscape(scalar): out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static func needsEscape(_ s: Unicode.Scalar) -> Bool {
        s.value < 0x20 || (0x7F...0x9F).contains(s.value) || s.value == 0x2028 || s.value == 0x2029
    }
}

/// The daemon's log handlers: swift-log's stream handler on stderr at `level`, escaped.
public func daemonLogHandler(label: String, level: Logger.Level) -> some LogHandler {
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = level
    return EscapingLogHandler(handler)
}
