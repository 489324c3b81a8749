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
        self.field = field
        self.line = line
        self.found = found
        self.expected = expected
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

/// All the problems found in one manifest, first one first. Thrown by `ManifestLoader`.
public struct ManifestErrors: Error, Sendable, CustomStringConvertible {
    public let errors: [ManifestError]
    public init(errors: [ManifestError]) { self.errors = errors }
    public var first: ManifestError { errors[0] }
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
