import Foundation
import Testing
import TestSupport
@testable import Manifest

/// Issue 23, item 1: no number in a manifest can trap the process. `voice: {rate: 9223372036854775807}` crashed the
/// supervisor at pick-up (`String(Int(v))` on a Double past Int's range), and every restart crashed again.
struct NumberRangeTests {
    @Test func thePoisonManifestIsRejectedNamingVoiceRate() throws {
        let dir = TempDir()
        let path = dir.write("p.yaml", "voice: {rate: 9223372036854775807}\nscenes: [hi]\n")
        let error = try #require(throws: ManifestErrors.self) { try ManifestLoader.load(path: path) }
        #expect(error.first.field == "voice.rate")
        #expect(error.first.code == .outOfRange)
        #expect(error.first.description.contains("0.5 to 2.0"))
    }

    /// Values no field accepts, as YAML writes them: past Int and UInt64, past Double, not numbers at all, hex past
    /// 64 bits, and base 60 (YAML 1.1's `1:30`) long enough to overflow Yams's Int arithmetic.
    static let hostileYAML = [
        "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
        "18446744073709551615", "18446744073709551616", "99999999999999999999999999999", "-99999999999999999999999999999",
        "1e308", "-1e308", "1e999", "-1e999", ".nan", ".NaN", ".inf", "-.inf", "+.inf",
        "0x7FFFFFFFFFFFFFFF", "0xFFFFFFFFFFFFFFFFFFFF", "-0x8000000000000000", "0o7777777777777777777777777",
        "1:2:3:4:5:6:7:8:9:10:11:12:13", "9223372036854775807:59", "-9223372036854775807:59:59", "1_000_000_000_000_000_000_000",
    ]
    /// The same for JSON, whose numbers are plainer.
    static let hostileJSON = [
        "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
        "18446744073709551616", "99999999999999999999999999999", "1e308", "-1e308", "1e999", "-1e999", "1.7976931348623157e308",
    ]

    /// A manifest (JSON text, which YAML reads too) with `value` written into `field` of the table, and what an error
    /// about it names (`scenes[0].focus[0]` for `scenes[].focus[]`).
    static func manifest(_ field: String, _ value: String) -> (text: String, path: String) {
        func object(_ pairs: [String]) -> String { "{" + pairs.joined(separator: ", ") + "}" }
        if field.hasPrefix("scenes[].") {
            let key = String(field.dropFirst("scenes[].".count))
            var scene = ["\"narration\": \"hi\""]
            switch key {
            case "focus[]": scene.append("\"focus\": [\(value), 0.5]")
            case let k where k.hasPrefix("sfx."):
                scene.append("\"sfx\": " + object(["\"prompt\": \"waves\"", "\"pack\": \"p\"", "\"\(k.dropFirst(4))\": \(value)"]))
            default: scene.append("\"\(key)\": \(value)")
            }
            let path = "scenes[0]." + key.replacingOccurrences(of: "[]", with: "[0]")
            return (object(["\"scenes\": [" + object(scene) + "]"]), path)
        }
        if field.hasPrefix("outputs[].") {
            let key = String(field.dropFirst("outputs[].".count))
            var item = ["\"name\": \"r\"", "\"\(key)\": \(value)"]
            if key == "width" { item.append("\"height\": 720") }
            if key == "height" { item.append("\"width\": 1280") }
            if key == "loudness" { item.append("\"preset\": \"youtube\"") }
            return (object(["\"outputs\": [" + object(item) + "]", "\"scenes\": [\"hi\"]"]), "outputs[0]." + key)
        }
        let parts = field.split(separator: ".").map(String.init)
        var inner = "\(value)"
        for key in parts.reversed() {
            var pairs = ["\"\(key)\": \(inner)"]
            // The other side, so that a width alone is not turned into a height out of range.
            if key == "width" { pairs.append("\"height\": 720") }
            if key == "height" { pairs.append("\"width\": 1280") }
            inner = object(pairs)
        }
        return (object([String(inner.dropFirst().dropLast()), "\"scenes\": [\"hi\"]"]), field)
    }

    static func problems(_ text: String, ext: String) -> [ManifestError]? {
        let dir = TempDir()
        let path = dir.write("m.\(ext)", text)
        do { _ = try ManifestLoader.load(path: path); return nil } catch { return error.errors }
    }

    @Test(arguments: ManifestLimits.numeric.map(\.field))
    func everyNumericFieldRefusesHostileValuesNamingTheField(field: String) {
        for (values, ext) in [(Self.hostileYAML, "yaml"), (Self.hostileJSON, "json")] {
            for value in values {
                let (text, path) = Self.manifest(field, value)
                let errors = Self.problems(text, ext: ext)
                #expect(errors?.contains { $0.field == path } == true, "\(field) = \(value) (.\(ext)): \(errors.map { "\($0)" } ?? "accepted")")
            }
        }
    }

    /// The table's ranges are the decoder's: each bound accepted, one step past it refused as out of range.
    @Test(arguments: ManifestLimits.numeric.map(\.field))
    func theTableIsTheDecodersRange(name: String) throws {
        let field = try #require(ManifestLimits.numeric.first { $0.field == name })
        func show(_ v: Double) -> String { field.integer ? String(Int(v)) : String(v) }
        let step = field.integer ? 1.0 : 0.001
        for v in [field.lower, field.upper] {
            let (text, path) = Self.manifest(field.field, show(v))
            let errors = Self.problems(text, ext: "yaml") ?? []
            #expect(!errors.contains { $0.field == path }, "\(field.field) = \(show(v)): \(errors)")
        }
        for v in [field.lower - step, field.upper + step] {
            let (text, path) = Self.manifest(field.field, show(v))
            let errors = Self.problems(text, ext: "yaml") ?? []
            #expect(errors.contains { $0.field == path && $0.code == .outOfRange }, "\(field.field) = \(show(v)): \(errors)")
        }
    }

    /// Text fields take a bare number as text (a title like 1984): one past Int's range became a trap there too.
    @Test(arguments: ["title: 9223372036854775807\nscenes: [hi]\n", "scenes: [9223372036854775808]\n",
                      "scenes: [{narration: -9223372036854775809, heading: 1e999, prompt: 99999999999999999999}]\n",
                      "title: 1:2:3:4:5:6:7:8:9:10:11:12:13\nscenes: [hi]\n"])
    func hugeNumbersInTextFieldsDoNotTrap(text: String) throws {
        let dir = TempDir()
        _ = try? ManifestLoader.load(path: dir.write("t.yaml", text))
    }

    @Test func siteDefaultsAreCheckedTheSameWay() throws {
        let yaml = "defaults:\n  voice: {rate: 9223372036854775807}\n  output: {fps: -9223372036854775809}\n"
        let error = try #require(throws: ManifestErrors.self) { try ManifestDefaults.fromConfig(yaml: yaml, file: "config.yaml") }
        #expect(Set(error.errors.compactMap(\.field)) == ["defaults.voice.rate", "defaults.output.fps"])
    }
}
