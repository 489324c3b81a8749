import Foundation
import Testing
import TestSupport
@testable import Manifest

/// Issue 23 items 4 and 9: a 2.5 MB manifest of 190,000 unknown keys took the supervisor from 36 MB to 144 MB
/// building trees for a document it then refused. It is refused as too complex on a count made before parsing;
/// a real manifest of the most scenes allowed, each with the longest narration, still loads. (Memory figures are
/// in the fault suite's `pm` scenario, not here.)
struct StructureBoundTests {
    static let keys = 190_000

    @Test func jsonWithTooManyKeysIsRefusedAsTooComplex() throws {
        let dir = TempDir()
        let path = dir.write("keys.json", "{\"scenes\": [\"hi\"]" + (0..<Self.keys).map { ", \"k\($0)\": 1" }.joined() + "}")
        let error = try #require(throws: ManifestErrors.self) { try ManifestLoader.load(path: path) }
        #expect(error.errors.count == 1)
        #expect(error.first.code == .tooComplex)
        // Exact for JSON: the object, `scenes`, its list and item, and each key with its value.
        #expect(error.first.description.contains("380,004 keys and values"))
        #expect(error.first.description.contains("50,000"))
        #expect(error.first.description.contains("keys.json"))
    }

    @Test func yamlWithTooManyKeysIsRefusedAsTooComplex() throws {
        let dir = TempDir()
        let path = dir.write("keys.yaml", "scenes: [hi]\n" + (0..<Self.keys).map { "k\($0): 1\n" }.joined())
        let error = try #require(throws: ManifestErrors.self) { try ManifestLoader.load(path: path) }
        #expect(error.first.code == .tooComplex)
        #expect(error.first.description.contains("50,000"))
        #expect(error.first.description.contains("keys.yaml"))
    }

    /// Under the old bound (200,000 values, counted while converting Yams' finished tree) this was read whole.
    @Test func aLongFlowListIsRefusedToo() throws {
        let dir = TempDir()
        let path = dir.write("flow.yaml", "scenes: [" + Array(repeating: "1", count: 150_000).joined(separator: ",") + "]\n")
        let error = try #require(throws: ManifestErrors.self) { try ManifestLoader.load(path: path) }
        #expect(error.first.code == .tooComplex)
    }

    /// Prose as narrations are written: commas, full stops, about one comma per 60 characters.
    static let narration: String = {
        let sentence = "The river bends here, and the old mill stands where it always has. Visitors come in spring to see the water rise. "
        return String(String(repeating: sentence, count: 50).prefix(ManifestLimits.narrationCharacters.upperBound - 1)) + "."
    }()

    static let scenes = ManifestLimits.scenes.upperBound

    /// Lines of about 80 characters broken at spaces: a folded block scalar (`>-`) reads them back as `text`.
    static func folded(_ text: String) -> [String] {
        var lines: [String] = [], line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty && line.count + word.count >= 80 { lines.append(line); line = "" }
            line += line.isEmpty ? String(word) : " " + word
        }
        return lines + [line]
    }

    @Test(arguments: ["plain", "quoted", "block", "json"])
    func theLargestRealManifestStillLoads(style: String) throws {
        let dir = TempDir()
        let text = Self.narration
        let body: String
        switch style {
        case "json":
            let scene: [String: Any] = ["narration": text, "pause": 0.5, "visuals": ["engine": "procedural", "style": "vivid", "seed": 7],
                                        "voice": ["rate": 1.1, "pitch": 0.9]]
            let object: [String: Any] = ["title": "Big", "scenes": Array(repeating: scene, count: Self.scenes)]
            body = String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted]), as: UTF8.self)
        default:
            let value = switch style {
            case "plain": text
            case "quoted": "\"" + text + "\""
            default: ">-\n" + Self.folded(text).map { "      " + $0 }.joined(separator: "\n")
            }
            body = "title: Big\nscenes:\n" + String(repeating: """
                  - narration: \(value)
                    pause: 0.5
                    visuals: {engine: procedural, style: vivid, seed: 7}
                    voice:
                      rate: 1.1
                      pitch: 0.9

                """, count: Self.scenes)
        }
        #expect(body.utf8.count > 2_500_000)
        let path = dir.write("big.\(style == "json" ? "json" : "yaml")", body)
        let m = try ManifestLoader.load(path: path)
        #expect(m.scenes.count == Self.scenes)
        #expect(m.scenes.last?.narration.count == ManifestLimits.narrationCharacters.upperBound)
    }
}
