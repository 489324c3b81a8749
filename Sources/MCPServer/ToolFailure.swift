import Failures
import Foundation
import MCP

/// A tool call that did not do what was asked, as the product's own structured error: a stable `code`, a message a
/// person (or a model) can act on, the manifest `field` at fault and, for a refused manifest, every `problems` entry
/// with its line, exactly as `prostudio validate --json` and the HTTP API's 400 list them.
public struct ToolFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: String
    public var message: String
    public var field: String?
    public var problems: [JobFailure.Problem]
    /// The manifest as the problems name it (`NAME.yaml`), for a refused manifest.
    public var file: String?

    public init(_ code: String, _ message: String, field: String? = nil, problems: [JobFailure.Problem] = [], file: String? = nil) {
        self.code = code; self.message = message; self.field = field; self.problems = problems; self.file = file
    }

    public var description: String { "\(code): \(message)" }

    /// The tool result an MCP client sees: `isError` set, the error both as JSON text (for clients that only show
    /// text) and as structured content `{error: {code, message, field}, errors: [...]}`.
    var result: CallTool.Result {
        var error: [String: Value] = ["code": .string(code), "message": .string(message)]
        error["field"] = field.map(Value.string) ?? .null
        var body: [String: Value] = ["error": .object(error)]
        if !problems.isEmpty { body["errors"] = .array(problems.map(ValidationReport.value)) }
        let value = Value.object(body)
        return CallTool.Result(content: [.text(text: JSONText.of(value), annotations: nil, _meta: nil)], structuredContent: Optional(value), isError: true)
    }
}

/// `validate --json`'s shape for a refused manifest: `{valid: false, file, errors: [{code, field, line, message}]}`,
/// with absent field and line written as null so every problem has the same four keys. The CLI prints this type, so
/// the MCP tool and the command cannot drift apart.
public struct ValidationReport: Encodable, Sendable {
    public var valid = false
    public var file: String
    public var errors: [JobFailure.Problem]

    public init(_ file: String, _ error: JobFailure) {
        self.file = file
        errors = error.problems.isEmpty
            ? [JobFailure.Problem(code: error.code, field: error.field, line: nil, message: error.message)]
            : error.problems
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(valid, forKey: .valid)
        try c.encode(file, forKey: .file)
        try c.encode(errors.map(Problem.init), forKey: .errors)
    }
    enum Keys: String, CodingKey { case valid, file, errors }

    struct Problem: Encodable {
        var p: JobFailure.Problem
        init(_ p: JobFailure.Problem) { self.p = p }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(p.code, forKey: .code)
            try c.encode(p.field, forKey: .field)
            try c.encode(p.line, forKey: .line)
            try c.encode(p.message, forKey: .message)
        }
        enum Keys: String, CodingKey { case code, field, line, message }
    }

    static func value(_ p: JobFailure.Problem) -> Value {
        .object(["code": .string(p.code), "field": p.field.map(Value.string) ?? .null,
                 "line": p.line.map(Value.int) ?? .null, "message": .string(p.message)])
    }

    var value: Value {
        .object(["valid": .bool(false), "file": .string(file), "errors": .array(errors.map(Self.value))])
    }
}

enum JSONText {
    /// Sorted keys and unescaped slashes: stable text for clients that read the content, not the structure.
    static func of(_ value: Value) -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? e.encode(value)) ?? Data("null".utf8), as: UTF8.self)
    }
}
