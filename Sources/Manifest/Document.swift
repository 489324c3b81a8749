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

    /// A short rendering of the value for "found ..." in errors.
    var shortDescription: String {
        switch value {
        case .scalar(let text, _):
            let clipped = text.count > 40 ? String(text.prefix(37)) + "..." : text
            return "\"\(clipped)\""
        case .number(let v, let isInt): return isInt ? String(Int(v)) : String(v)
        case .bool(let b): return String(b)
        case .null: return "null"
        case .list(let items): return "a list of \(items.count)"
        case .map: return "a mapping"
        }
    }
}

enum DocumentParser {
    static func parseYAML(_ text: String, file: String) throws(ManifestErrors) -> DocNode {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw ManifestErrors(errors: [yamlSyntaxError(error, file: file)])
        } catch {
            throw ManifestErrors(errors: [ManifestError(.syntax, file: file, field: nil, found: "\(error)", expected: "valid YAML")])
        }
        guard let node else {
            throw ManifestErrors(errors: [ManifestError(.syntax, file: file, field: nil, found: "an empty file", expected: "a YAML mapping with `scenes`")])
        }
        return convert(node)
    }

    private static func yamlSyntaxError(_ error: YamlError, file: String) -> ManifestError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return ManifestError(.syntax, file: file, field: nil, line: mark.line, found: problem, expected: "valid YAML")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return ManifestError(.syntax, file: file, field: nil, line: context.mark.line,
                                 found: "duplicate key \(duplicates.joined(separator: ", "))", expected: "each key once per mapping")
        default:
            return ManifestError(.syntax, file: file, field: nil, found: "\(error)", expected: "valid YAML")
        }
    }

    private static func convert(_ node: Node) -> DocNode {
        let line = node.mark?.line
        switch node {
        case .scalar(let scalar):
            let plain = scalar.style == .plain
            if plain {
                if scalar.tag.description == Tag.Name.null.rawValue || node.null != nil { return DocNode(value: .null, line: line) }
                if let b = node.bool, ["true", "false", "True", "False", "TRUE", "FALSE"].contains(scalar.string) {
                    return DocNode(value: .bool(b), line: line)
                }
                if let i = node.int { return DocNode(value: .number(Double(i), isInteger: true), line: line) }
                if let d = node.float, d.isFinite { return DocNode(value: .number(d, isInteger: false), line: line) }
            }
            return DocNode(value: .scalar(text: scalar.string, plain: plain), line: line)
        case .mapping(let mapping):
            let pairs = mapping.map { (key: $0.key.string ?? "\($0.key)", node: convert($0.value)) }
            return DocNode(value: .map(pairs), line: line)
        case .sequence(let seq):
            return DocNode(value: .list(seq.map(convert)), line: line)
        case .alias:
            return DocNode(value: .null, line: line)
        }
    }

    /// JSON is checked by a JSON parser (so its errors read as JSON errors), then composed by the YAML
    /// parser, which accepts JSON and keeps line numbers for later messages.
    static func parseJSON(_ data: Data, file: String) throws(ManifestErrors) -> DocNode {
        do {
            _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
            throw ManifestErrors(errors: [ManifestError(.syntax, file: file, field: nil, found: detail, expected: "valid JSON")])
        }
        return try parseYAML(String(decoding: data, as: UTF8.self), file: file)
    }
}
