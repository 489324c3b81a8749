import Foundation
import Yams

/// Site-wide defaults under every manifest (the daemon config's `defaults:` mapping): a manifest's own
/// fields win, field by field, so `voice: {rate: 1.2}` keeps the default engine.
public struct ManifestDefaults: Sendable, Equatable {
    static let sections = ["output", "voice", "visuals", "music", "captions", "transitions", "lexicon", "outputs"]
    let node: DocNode
    /// Where the defaults came from, which is also what makes two of them equal.
    let source: String
    /// The footage library the defaults choose (`visuals: {engine: library, folder: DIR}`), resolved: the
    /// daemon keeps its index up to date.
    public private(set) var libraryFolder: String?

    public static func == (a: ManifestDefaults, b: ManifestDefaults) -> Bool { a.source == b.source }

    /// The `defaults` mapping of a YAML config file, checked as a manifest would be; nil when there is none.
    public static func fromConfig(yaml: String, file: String) throws(ManifestErrors) -> ManifestDefaults? {
        let doc = try DocumentParser.parseYAML(yaml, file: file)
        guard case .map(let pairs) = doc.value, let section = pairs.first(where: { $0.key == "defaults" })?.node else { return nil }
        var reader = Reader(file: file)
        _ = reader.mapping(section, "defaults", allowed: sections)
        if !reader.errors.isEmpty { throw reader.problems }
        // Decode the defaults over a one-scene manifest: every value is checked exactly as in a manifest.
        let probe = DocNode(value: .map([(key: "scenes", node: DocNode(value: .list([DocNode(value: .scalar(text: "x", plain: false))])))]))
        var decoder = ManifestDecoder(reader: Reader(file: file), base: (file as NSString).deletingLastPathComponent)
        let decoded = decoder.decode(merge(probe, over: section), name: "defaults")
        if !decoder.reader.errors.isEmpty {
            throw ManifestErrors(errors: decoder.reader.errors.map {
                ManifestError($0.code, file: $0.file, field: "defaults." + ($0.field ?? ""), line: $0.line, found: $0.found, expected: $0.expected)
            }, omitted: decoder.reader.omitted)
        }
        var defaults = ManifestDefaults(node: section, source: file + "\n" + yaml)
        if let v = decoded?.visuals, v.engine == .library { defaults.libraryFolder = v.folder }
        return defaults
    }

    /// `top` with `base` beneath it: mappings merge key by key, anything else in `top` wins.
    static func merge(_ top: DocNode, over base: DocNode) -> DocNode {
        guard case .map(let topPairs) = top.value, case .map(let basePairs) = base.value else { return top }
        var result = topPairs
        for (key, baseValue) in basePairs {
            if let i = result.firstIndex(where: { $0.key == key }) {
                result[i].node = merge(result[i].node, over: baseValue)
            } else {
                result.append((key: key, node: baseValue))
            }
        }
        return DocNode(value: .map(result), line: top.line)
    }

    func apply(to manifest: DocNode) -> DocNode { Self.merge(manifest, over: node) }
}
