/// Unknown keys in other YAML files the product reads (the daemon's config), refused by the manifest's own reader:
/// the same line numbers and did-you-mean a manifest gets, so a typo never passes silently as a default.
public enum KeyCheck {
    /// A top-level key and the keys its mapping may hold; nil when the value is a scalar or is checked elsewhere.
    public typealias Section = (key: String, fields: [String]?)

    /// Throws every unknown key of `yaml` (at the top, and inside each section that lists its fields).
    public static func check(yaml: String, file: String, sections: [Section]) throws(ManifestErrors) {
        let doc = try DocumentParser.parseYAML(yaml, file: file)
        if case .null = doc.value { return }
        var reader = Reader(file: file)
        guard let top = reader.mapping(doc, "", allowed: sections.map(\.key)) else {
            throw ManifestErrors(errors: reader.errors)
        }
        for section in sections {
            guard let fields = section.fields, let node = top[section.key] else { continue }
            if case .null = node.value { continue }  // `notify:` with everything below commented out
            _ = reader.mapping(node, section.key, allowed: fields)
        }
        if !reader.errors.isEmpty { throw ManifestErrors(errors: reader.errors) }
    }
}
