/// Why a manifest was refused: precise enough for a person to fix it without reading code.
public struct ManifestError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Codable {
        case unreadable = "manifest.unreadable"
        case unsupportedFormat = "manifest.unsupported_format"
        case syntax = "manifest.syntax"
        case wrongType = "manifest.wrong_type"
        case unknownField = "manifest.unknown_field"
        case missingField = "manifest.missing_field"
        case outOfRange = "manifest.out_of_range"
        case invalidValue = "manifest.invalid_value"
        case emptyScenes = "manifest.empty_scenes"
        case missingAsset = "manifest.missing_asset"
        case unreadableAsset = "manifest.unreadable_asset"
        case pathEscape = "manifest.path_escape"
        /// Too many values after alias expansion, or nested too deep (a "billion laughs" YAML).
        case tooComplex = "manifest.too_complex"
        /// NUL or another control character in the text (only tab, newline and carriage return are allowed).
        case controlCharacter = "manifest.control_character"
        /// A manifest file over `ManifestLimits.fileBytes`, refused from its size before it is read.
        case tooLarge = "manifest.too_large"
        /// A scene in a language its voice cannot read aloud (Japanese with kanji under espeak-ng's ja, Chinese under en-us).
        case noVoice = "manifest.no_voice"
        /// The summary after the first `ManifestLimits.listedProblems` problems: how many more were found.
        case moreProblems = "manifest.more_problems"
        /// A model pack the manifest names (voice.pack, visuals.pack, music.pack, sfx.pack) is not installed (`PackCheck`).
        case packMissing = "manifest.pack_missing"
    }

    public let code: Code
    /// The manifest file, as the user named it.
    public let file: String
    /// Field path such as `scenes[2].image`; nil when the problem is the whole file.
    public let field: String?
    public let line: Int?
    public let found: String?
    public let expected: String

    public init(_ code: Code, file: String, field: String?, line: Int? = nil, found: String?, expected: String) {
        self.code = code
        self.file = file
        self.field = field.map { Self.clip($0, 200) }
        self.line = line
        // Both can quote the user's text (an unknown key, a YAML line): clipped, so no one problem is megabytes.
        self.found = found.map { Self.clip($0, 300) }
        self.expected = Self.clip(expected, 1000)
    }

    static func clip(_ text: String, _ limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(limit - 3)) + "..."
    }

    /// What is wrong without the file and line: `found "x"; expected y`.
    public var problem: String {
        (found.map { "found \($0); " } ?? "") + "expected \(expected)"
    }

    /// One line: `FILE:LINE: scenes[2].image: found "x", expected y`.
    public var description: String {
        var where_ = file
        if let line { where_ += ":\(line)" }
        var text = "\(where_): "
        if let field { text += "\(field): " }
        if let found { text += "found \(found); " }
        text += "expected \(expected)"
        return text
    }
}

/// All the problems found in one manifest, first one first, at most `ManifestLimits.listedProblems` of them and then
/// one `manifest.more_problems` entry counting the rest: every consumer (job error, journal row, sidecar, API answer)
/// is bounded because the list is. Thrown by `ManifestLoader`.
public struct ManifestErrors: Error, Sendable, CustomStringConvertible {
    public let errors: [ManifestError]
    /// Problems found but not listed (beyond the cap).
    public let omitted: Int

    /// `errors` must not be empty. `omitted` counts problems already left out (a `Reader` keeps only the first ones).
    public init(errors: [ManifestError], omitted: Int = 0) {
        let limit = ManifestLimits.listedProblems
        // A list that already ends in a summary is re-capped from its own entries (the count it held is kept by
        // whoever passes `omitted`: `Reader.problems` and the defaults' re-labelled list do).
        let listed = errors.filter { $0.code != .moreProblems }
        var kept = Array(listed.prefix(limit))
        let more = omitted + max(0, listed.count - limit)
        self.omitted = more
        if more > 0, let first = kept.first {
            kept.append(ManifestError(.moreProblems, file: first.file, field: nil,
                                      found: "\(Self.grouped(more)) more problem\(more == 1 ? "" : "s") (only the first \(limit) are listed)",
                                      expected: "the problems above fixed; validate again for the rest"))
        }
        self.errors = kept
    }

    /// 189950 -> "189,950".
    static func grouped(_ n: Int) -> String {
        var digits = Array(String(n)), out = ""
        while digits.count > 3 { out = "," + String(digits.suffix(3)) + out; digits.removeLast(3) }
        return String(digits) + out
    }
    public var first: ManifestError { errors[0] }
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
