import Foundation
import Testing
@testable import Manifest

/// `schema/manifest.schema.json` is for editors; this keeps it in step with what the loader accepts.
struct SchemaTests {
    static let schemaURL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("schema/manifest.schema.json")

    func schema() throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: Self.schemaURL)) as! [String: Any]
    }

    /// The object form of a property (the schema allows string shorthands through oneOf).
    func object(_ node: Any?) -> [String: Any]? {
        guard let node = node as? [String: Any] else { return nil }
        if node["properties"] != nil { return node }
        for alt in node["oneOf"] as? [[String: Any]] ?? [] where alt["properties"] != nil { return alt }
        return nil
    }

    func keys(_ node: [String: Any]?) -> Set<String> { Set((node?["properties"] as? [String: Any])?.keys.map { $0 } ?? []) }

    func enumValues(_ node: [String: Any]?, _ key: String) -> Set<String> {
        Set(((node?["properties"] as? [String: Any])?[key] as? [String: Any])?["enum"] as? [String] ?? [])
    }

    @Test func fieldsAgreeWithTheLoader() throws {
        let root = try schema()
        let props = root["properties"] as! [String: Any]
        #expect(keys(root) == Set(ManifestFields.top))
        #expect(keys(object(props["output"])) == Set(ManifestFields.output))
        #expect(keys(object(props["voice"])) == Set(ManifestFields.voice))
        #expect(keys(object(props["visuals"])) == Set(ManifestFields.visuals))
        #expect(keys(object(props["music"])) == Set(ManifestFields.music))
        #expect(keys(object(props["captions"])) == Set(ManifestFields.captions))
        #expect(keys(object(props["transitions"])) == Set(ManifestFields.transitions))
        let items = (props["scenes"] as! [String: Any])["items"]
        #expect(keys(object(items)) == Set(ManifestFields.scene))
        #expect(keys(object(object(items).flatMap { ($0["properties"] as? [String: Any])?["visuals"] })) == Set(ManifestFields.visuals))
        #expect(keys(object(object(items).flatMap { ($0["properties"] as? [String: Any])?["sfx"] })) == Set(ManifestFields.sfx))
    }

    @Test func enumsAgreeWithTheSwiftTypes() throws {
        let props = try schema()["properties"] as! [String: Any]
        #expect(enumValues(object(props["output"]), "quality") == Set(JobManifest.Quality.allCases.map(\.rawValue)))
        #expect(enumValues(object(props["output"]), "aspect") == Set(ManifestFields.aspects.keys))
        #expect(enumValues(object(props["voice"]), "engine") == Set(JobManifest.Voice.Engine.allCases.map(\.rawValue)))
        #expect(enumValues(object(props["visuals"]), "engine") == Set(JobManifest.Visuals.Engine.allCases.map(\.rawValue)))
        #expect(enumValues(object(props["visuals"]), "style") == Set(JobManifest.Style.allCases.map(\.rawValue)))
        #expect(enumValues(object(props["music"]), "engine") == Set(JobManifest.Music.Engine.allCases.map(\.rawValue)))
        #expect(enumValues(object(props["music"]), "mood") == Set(JobManifest.Mood.allCases.map(\.rawValue)))
        #expect(enumValues(object(props["captions"]), "mode") == Set(JobManifest.Captions.Mode.allCases.map(\.rawValue)))
        #expect(enumValues(object(props["captions"]), "position") == Set(JobManifest.Captions.Position.allCases.map(\.rawValue)))
        #expect(enumValues(object(props["transitions"]), "type") == Set(JobManifest.Transitions.Kind.allCases.map(\.rawValue)))
    }

    /// Every numeric property in the schema, by the name the decoder's table gives it, with its bounds.
    func numericProperties(_ node: Any, _ name: String, into out: inout [String: (lower: Double?, upper: Double?, integer: Bool)]) {
        if let list = node as? [Any] { for item in list { numericProperties(item, name, into: &out) } }
        guard let object = node as? [String: Any] else { return }
        if let type = object["type"] as? String, type == "integer" || type == "number" {
            // A scene's voice and visuals are checked as the job's: the table names them once.
            let key = name.replacingOccurrences(of: "scenes[].voice.", with: "voice.").replacingOccurrences(of: "scenes[].visuals.", with: "visuals.")
            let const = (object["const"] as? NSNumber)?.doubleValue
            out[key] = ((object["minimum"] as? NSNumber)?.doubleValue ?? const, (object["maximum"] as? NSNumber)?.doubleValue ?? const, type == "integer")
        }
        for (key, value) in (object["properties"] as? [String: Any]) ?? [:] { numericProperties(value, name.isEmpty ? key : name + "." + key, into: &out) }
        if let items = object["items"] { numericProperties(items, name + "[]", into: &out) }
        if let alternatives = object["oneOf"] { numericProperties(alternatives, name, into: &out) }
    }

    /// Issue 23: every number has a documented range, the same in the decoder, the schema and the README.
    @Test func numericRangesAgreeWithTheDecoder() throws {
        var found: [String: (lower: Double?, upper: Double?, integer: Bool)] = [:]
        numericProperties(try schema(), "", into: &found)
        #expect(Set(found.keys) == Set(ManifestLimits.numeric.map(\.field)))
        for field in ManifestLimits.numeric {
            guard let s = found[field.field] else { continue }
            #expect(s.lower == field.lower && s.upper == field.upper && s.integer == field.integer,
                    "\(field.field): schema \(String(describing: s.lower))...\(String(describing: s.upper)), decoder \(field.lower)...\(field.upper)")
        }
    }

    /// The README's table of ranges, one row per field: `| `voice.rate` | 0.5 to 2 | number |`.
    @Test func theReadmeListsEveryRange() throws {
        let readme = try String(contentsOf: Self.schemaURL.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("README.md"), encoding: .utf8)
        func show(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e16 ? String(Int(v)) : String(v) }
        for field in ManifestLimits.numeric {
            let row = "| `\(field.field)` | \(show(field.lower)) to \(show(field.upper)) | \(field.integer ? "whole number" : "number") |"
            #expect(readme.contains(row), "README.md lacks the row \(row)")
        }
        #expect(readme.contains("\(ManifestLimits.fileBytes >> 20) MiB"))
    }

    @Test func examplesValidate() throws {
        let examples = Self.schemaURL.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("inbox.example")
        let files = try FileManager.default.contentsOfDirectory(atPath: examples.path).filter { !$0.hasPrefix(".") }
        #expect(!files.isEmpty)
        for file in files {
            do { _ = try ManifestLoader.load(path: examples.appendingPathComponent(file).path) } catch {
                // Examples that need a model pack are valid manifests; only their render needs the pack.
                Issue.record("\(file): \(error)")
            }
        }
    }
}
