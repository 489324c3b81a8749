import Contract
import Foundation

/// Walks a `DocNode` tree, reading typed values and collecting precise errors instead of stopping
/// at the first one, so a user sees every problem in one go.
struct Reader {
    let file: String
    /// The first `ManifestLimits.listedProblems` problems; later ones are only counted in `omitted`, so a manifest
    /// of 190,000 unknown keys costs 50 errors of memory, not 190,000.
    private(set) var errors: [ManifestError] = []
    private(set) var omitted = 0

    init(file: String) { self.file = file }

    /// Everything found, capped: what a loader throws.
    var problems: ManifestErrors { ManifestErrors(errors: errors, omitted: omitted) }

    mutating func record(_ error: ManifestError) {
        if errors.count < ManifestLimits.listedProblems { errors.append(error) } else { omitted += 1 }
    }

    mutating func fail(_ code: ManifestError.Code, _ path: String, _ node: DocNode?, found: String? = nil, expected: String) {
        record(ManifestError(code, file: file, field: path.isEmpty ? nil : path, line: node?.line,
                             found: found ?? node?.shortDescription, expected: expected))
    }

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// A mapping with only `allowed` keys; unknown keys are errors with a did-you-mean.
    mutating func mapping(_ node: DocNode, _ path: String, allowed: [String]) -> [String: DocNode]? {
        guard case .map(let pairs) = node.value else {
            fail(.wrongType, path, node, found: node.typeName, expected: "a mapping with fields \(allowed.joined(separator: ", "))")
            return nil
        }
        var result: [String: DocNode] = [:]
        for (key, value) in pairs {
            if allowed.contains(key) {
                result[key] = value
            } else {
                var expected = "one of \(allowed.joined(separator: ", "))"
                if let guess = Self.closest(to: key, in: allowed) { expected += " (did you mean \"\(guess)\"?)" }
                record(ManifestError(.unknownField, file: file, field: Self.join(path, key), line: value.line,
                                     found: "unknown field \"\(key)\"", expected: expected))
            }
        }
        return result
    }

    mutating func string(_ node: DocNode?, _ path: String, nonEmpty: Bool = true) -> String? {
        guard let node else { return nil }
        let text: String
        switch node.value {
        case .scalar(let t, _): text = t
        // A bare number where text is expected (a title like 1984) is what the user meant.
        case .number(let v, let isInt): text = DocNode.render(v, isInteger: isInt)
        default:
            fail(.wrongType, path, node, found: node.typeName, expected: "a string")
            return nil
        }
        if nonEmpty && text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            fail(.invalidValue, path, node, found: "an empty string", expected: "some text")
            return nil
        }
        return text
    }

    mutating func double(_ node: DocNode?, _ path: String, range: ClosedRange<Double>, unit: String = "") -> Double? {
        guard let node else { return nil }
        guard case .number(let v, _) = node.value else {
            fail(.wrongType, path, node, found: node.typeName, expected: "a number from \(range.lowerBound) to \(range.upperBound)\(unit)")
            return nil
        }
        guard range.contains(v) else {
            fail(.outOfRange, path, node, expected: "a number from \(range.lowerBound) to \(range.upperBound)\(unit)")
            return nil
        }
        return v
    }

    /// A whole number in `range`. The value is compared as a Double before any conversion: `Int(v)` of a value past
    /// Int's range traps, and one YAML line (`rate: 9223372036854775807`) must never take the process down.
    mutating func int(_ node: DocNode?, _ path: String, range: ClosedRange<Int>) -> Int? {
        guard let node else { return nil }
        let expected = "a whole number from \(range.lowerBound) to \(range.upperBound)"
        guard case .number(let v, let isInt) = node.value, isInt else {
            fail(.wrongType, path, node, found: node.typeName, expected: expected)
            return nil
        }
        guard v >= Double(range.lowerBound), v <= Double(range.upperBound), let whole = Int(exactly: v), range.contains(whole) else {
            fail(.outOfRange, path, node, expected: expected)
            return nil
        }
        return whole
    }

    /// An RFC 3339 time with its offset (`2026-12-24T22:00:00Z`, `2026-12-24T23:00:00+01:00`). YAML leaves an unquoted
    /// one as text here (the document keeps scalars as written), so quoted or not reads the same.
    mutating func time(_ node: DocNode, _ path: String) -> Date? {
        let expected = "an RFC 3339 time with its offset, such as 2026-12-24T22:00:00Z or 2026-12-24T23:00:00+01:00"
        guard case .scalar(let text, _) = node.value else {
            fail(.wrongType, path, node, found: node.typeName, expected: expected)
            return nil
        }
        guard let date = RFC3339.parse(text.trimmingCharacters(in: .whitespaces)) else {
            fail(.invalidValue, path, node, expected: expected)
            return nil
        }
        return date
    }

    mutating func bool(_ node: DocNode?, _ path: String) -> Bool? {
        guard let node else { return nil }
        if case .bool(let b) = node.value { return b }
        fail(.wrongType, path, node, found: node.typeName, expected: "true or false")
        return nil
    }

    mutating func seed(_ node: DocNode?, _ path: String) -> UInt64? {
        int(node, path, range: ManifestLimits.seed).map { UInt64($0) }
    }

    mutating func choice<E: RawRepresentable & CaseIterable>(_ node: DocNode?, _ path: String, _: E.Type) -> E? where E.RawValue == String {
        guard let node, let text = string(node, path) else { return nil }
        if let value = E(rawValue: text.lowercased()) { return value }
        let names = E.allCases.map(\.rawValue)
        var expected = "one of \(names.joined(separator: ", "))"
        if let guess = Self.closest(to: text, in: names) { expected += " (did you mean \"\(guess)\"?)" }
        fail(.invalidValue, path, node, expected: expected)
        return nil
    }

    /// The candidate within edit distance 2 (or a third of the word), if any.
    static func closest(to word: String, in candidates: [String]) -> String? {
        let w = Array(word.lowercased())
        var best: (String, Int)?
        for c in candidates {
            let d = editDistance(w, Array(c.lowercased()))
            if d <= max(2, w.count / 3), d < (best?.1 ?? .max) { best = (c, d) }
        }
        return best?.0
    }

    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}

/// The did-you-mean rule the manifest's errors use, for other commands' names (packs, voices).
public func closestName(to word: String, in candidates: [String]) -> String? { Reader.closest(to: word, in: candidates) }
