import Foundation
import Yams

/// A parsed manifest before it is given meaning: YAML and JSON both become this, so one
/// validator serves both and every value keeps its line for error messages.
struct DocNode: Sendable {
    enum Value: Sendable {
        /// `text` is the scalar as written; `plain` is false when it was quoted (so `"12"` stays a string).
        case scalar(text: String, plain: Bool)
        case number(Double, isInteger: Bool)
        case bool(Bool)
        case null
        case list([DocNode])
        case map([(key: String, node: DocNode)])
    }
    var value: Value
    var line: Int?

    var typeName: String {
        switch value {
        case .scalar: return "a string"
        case .number(_, let isInt): return isInt ? "an integer" : "a number"
        case .bool: return "a boolean"
        case .null: return "null"
        case .list: return "a list"
        case .map: return "a mapping"
        }
    }

    /// A number as a person wrote it: `12` rather than `12.0`. Never `Int(v)` on a value outside Int's range (a trap):
    /// a whole number that large is shown as the Double it became.
    static func render(_ v: Double, isInteger: Bool) -> String {
        if isInteger, let whole = Int(exactly: v) { return String(whole) }
        return String(v)
    }

    /// A short rendering of the value for "found ..." in errors.
    var shortDescription: String {
        switch value {
        case .scalar(let text, _):
            let clipped = text.count > 40 ? String(text.prefix(37)) + "..." : text
            return "\"\(clipped)\""
        case .number(let v, let isInt): return Self.render(v, isInteger: isInt)
        case .bool(let b): return String(b)
        case .null: return "null"
        case .list(let items): return "a list of \(items.count)"
        case .map: return "a mapping"
        }
    }
}

enum DocumentParser {
    static func parseYAML(_ text: String, file: String) throws(ManifestErrors) -> DocNode {
        var text = text
        let estimate = text.withUTF8 { StructureCount.yaml($0) }
        if estimate > StructureCount.limit { throw tooManyValues("about \(ManifestErrors.grouped(estimate))", file: file) }
        return try compose(text, file: file)
    }

    /// Refused before any tree is built: `found` is the count (exact for JSON, an upper estimate for YAML).
    private static func tooManyValues(_ found: String, file: String) -> ManifestErrors {
        ManifestErrors(errors: [ManifestError(.tooComplex, file: file, field: nil,
                                              found: "\(found) keys and values, counted before parsing",
                                              expected: "a manifest of at most \(ManifestErrors.grouped(StructureCount.limit)) keys and values (500 scenes of 15 fields hold about 15,000)")])
    }

    private static func compose(_ text: String, file: String) throws(ManifestErrors) -> DocNode {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw ManifestErrors(errors: [yamlSyntaxError(error, file: file, text: text)])
        } catch {
            throw ManifestErrors(errors: [ManifestError(.syntax, file: file, field: nil, found: "\(error)", expected: "valid YAML")])
        }
        guard let node else {
            throw ManifestErrors(errors: [ManifestError(.syntax, file: file, field: nil, found: "an empty file", expected: "a YAML mapping with `scenes`")])
        }
        var budget = Budget()
        guard let doc = convert(node, &budget, depth: 0) else {
            if let scalar = budget.control {
                throw ManifestErrors(errors: [ManifestError(.controlCharacter, file: file, field: nil, line: budget.line,
                                                            found: "the control character \(TextCheck.name(scalar)) in a string (written as an escape)",
                                                            expected: TextCheck.expected)])
            }
            let found = budget.tooDeep
                ? "values nested more than \(Limits.maxDepth) levels deep"
                : "more than \(Limits.maxNodes) values once aliases are expanded"
            throw ManifestErrors(errors: [ManifestError(.tooComplex, file: file, field: nil, line: budget.line, found: found,
                                                        expected: Limits.expected)])
        }
        return doc
    }

    /// Bounds on what a manifest may expand to. YAML aliases share one parsed node, so a 1 KB file of nested
    /// anchors ("billion laughs") expands to billions of values when walked: the walk stops at `maxNodes`.
    /// A real manifest of a thousand scenes holds about ten thousand values and a handful of levels.
    enum Limits {
        static let maxNodes = 200_000
        static let maxDepth = 64
        static let expected = "a manifest of at most \(maxNodes) values (aliases expanded) nested at most \(maxDepth) levels deep"
    }

    struct Budget {
        var nodes = 0
        var tooDeep = false
        var control: Unicode.Scalar?
        var line: Int?
    }

    private static func yamlSyntaxError(_ error: YamlError, file: String, text: String) -> ManifestError {
        switch error {
        case .scanner(_, let problem, let mark, _) where problem.contains("mapping values are not allowed"):
            // `narration: Note: text`: an unquoted value holding ": " reads as a second key. Say to quote it.
            return ManifestError(.syntax, file: file, field: nil, line: mark.line, found: problem,
                                 expected: quoteHint(text: text, line: mark.line))
        case .parser(_, let problem, let mark, _) where problem.contains("nesting level"), .scanner(_, let problem, let mark, _) where problem.contains("nesting level"):
            // libyaml's own bound (1000 levels) on flow and block nesting.
            return ManifestError(.tooComplex, file: file, field: nil, line: mark.line, found: "values nested too deep (\(problem))",
                                 expected: Limits.expected)
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return ManifestError(.syntax, file: file, field: nil, line: mark.line, found: problem, expected: "valid YAML")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return ManifestError(.syntax, file: file, field: nil, line: context.mark.line,
                                 found: "duplicate key \(duplicates.joined(separator: ", "))", expected: "each key once per mapping")
        default:
            return ManifestError(.syntax, file: file, field: nil, found: "\(error)", expected: "valid YAML")
        }
    }

    /// The fix for a value with a colon in it, written out for the line libyaml stopped at: `key: "value"`.
    static func quoteHint(text: String, line: Int) -> String {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let generic = "valid YAML; a value that contains \": \" must be quoted, e.g. narration: \"Note: text\""
        guard line >= 1, line <= lines.count else { return generic }
        let source = String(lines[line - 1]).trimmingCharacters(in: CharacterSet(charactersIn: "\r"))
        let indent = source.prefix { $0 == " " || $0 == "-" }
        let body = source.dropFirst(indent.count)
        guard let colon = body.range(of: ": ") else { return generic }
        let key = body[..<colon.lowerBound]
        let value = body[colon.upperBound...].trimmingCharacters(in: .whitespaces)
        guard !value.isEmpty, !key.isEmpty else { return generic }
        let quoted = "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        return "valid YAML; the value on line \(line) contains \": \", so it must be quoted: \(key): \(quoted)"
    }

    /// Nil once the budget is spent (too many values or too deep); `budget` then says which, and where.
    private static func convert(_ node: Node, _ budget: inout Budget, depth: Int) -> DocNode? {
        let line = node.mark?.line
        budget.nodes += 1
        guard budget.nodes <= Limits.maxNodes else { budget.line = budget.line ?? line; return nil }
        guard depth <= Limits.maxDepth else { budget.tooDeep = true; budget.line = line; return nil }
        switch node {
        case .scalar(let scalar):
            if let bad = scalar.string.unicodeScalars.first(where: TextCheck.isForbidden) {
                budget.control = bad; budget.line = line
                return nil
            }
            let plain = scalar.style == .plain
            if plain {
                if scalar.tag.description == Tag.Name.null.rawValue || node.null != nil { return DocNode(value: .null, line: line) }
                if let b = node.bool, ["true", "false", "True", "False", "TRUE", "FALSE"].contains(scalar.string) {
                    return DocNode(value: .bool(b), line: line)
                }
                if scalar.string.contains(":") {
                    // `1:30` is base 60 in YAML 1.1. Yams reads it in Int arithmetic that traps on overflow
                    // (`1:1:1:1:1:1:1:1:1:1:1:1`, or one huge part), so read it only as a Double.
                    if let d = node.float, d.isFinite {
                        let whole = !scalar.string.contains(".") && d.rounded() == d && d.magnitude < 0x1p53
                        return DocNode(value: .number(d, isInteger: whole), line: line)
                    }
                } else {
                    if let i = node.int { return DocNode(value: .number(Double(i), isInteger: true), line: line) }
                    if let d = node.float, d.isFinite { return DocNode(value: .number(d, isInteger: false), line: line) }
                }
            }
            return DocNode(value: .scalar(text: scalar.string, plain: plain), line: line)
        case .mapping(let mapping):
            var pairs: [(key: String, node: DocNode)] = []
            pairs.reserveCapacity(mapping.count)
            for (key, value) in mapping {
                guard let converted = convert(value, &budget, depth: depth + 1) else { return nil }
                pairs.append((key: key.string ?? "\(key)", node: converted))
            }
            return DocNode(value: .map(pairs), line: line)
        case .sequence(let seq):
            var items: [DocNode] = []
            items.reserveCapacity(seq.count)
            for value in seq {
                guard let converted = convert(value, &budget, depth: depth + 1) else { return nil }
                items.append(converted)
            }
            return DocNode(value: .list(items), line: line)
        case .alias:
            return DocNode(value: .null, line: line)
        }
    }

    /// JSON is checked by a JSON parser (so its errors read as JSON errors), then composed by the YAML
    /// parser, which accepts JSON and keeps line numbers for later messages.
    static func parseJSON(_ data: Data, file: String) throws(ManifestErrors) -> DocNode {
        let count = data.withUnsafeBytes { StructureCount.json($0) }
        if count > StructureCount.limit { throw tooManyValues(ManifestErrors.grouped(count), file: file) }
        do {
            _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
            // `1e999` is valid JSON that Foundation cannot hold: the YAML reading below refuses it naming its field.
            if !detail.contains("not representable") {
                throw ManifestErrors(errors: [ManifestError(.syntax, file: file, field: nil, found: detail, expected: "valid JSON")])
            }
        }
        // Counted exactly above: the YAML estimate (which counts the commas too) is not asked again.
        return try compose(String(decoding: data, as: UTF8.self), file: file)
    }
}

/// Manifests are text: NUL and other control characters (tab, newline and carriage return aside) are refused,
/// with the byte offset of the first one, before any parser sees them (a `.txt` of NUL bytes once became a script).
enum TextCheck {
    static let expected = "text without NUL or control characters (only tab, newline and carriage return)"

    static func isForbidden(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        return (v < 0x20 && v != 0x09 && v != 0x0A && v != 0x0D) || (0x7F...0x9F).contains(v)
    }

    static func name(_ s: Unicode.Scalar) -> String {
        s.value == 0 ? "NUL (U+0000)" : String(format: "U+%04X", s.value)
    }

    /// The first forbidden character in UTF-8 `data`: its byte offset, 1-based line, and the character.
    static func firstForbidden(in data: Data) -> (offset: Int, line: Int, scalar: Unicode.Scalar)? {
        var line = 1
        var previous: UInt8 = 0
        for (i, b) in data.enumerated() {
            if b == 0x0A { line += 1 }
            if b < 0x20 && b != 0x09 && b != 0x0A && b != 0x0D { return (i, line, Unicode.Scalar(b)) }
            if b == 0x7F { return (i, line, Unicode.Scalar(b)) }
            // C1 controls U+0080...U+009F are 0xC2 0x80...0x9F in UTF-8.
            if previous == 0xC2 && (0x80...0x9F).contains(b) { return (i - 1, line, Unicode.Scalar(UInt32(b))!) }
            previous = b
        }
        return nil
    }

    static func check(_ data: Data, file: String) throws(ManifestErrors) {
        guard let bad = firstForbidden(in: data) else { return }
        throw ManifestErrors(errors: [ManifestError(.controlCharacter, file: file, field: nil, line: bad.line,
                                                    found: "the control character \(name(bad.scalar)) at byte offset \(bad.offset)",
                                                    expected: expected)])
    }
}
