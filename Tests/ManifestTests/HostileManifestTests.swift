import Foundation
import Testing
import TestSupport
@testable import Manifest

/// Manifests built to hurt the parser (issue 12, F5 and F14): refused quickly, with a precise error.
struct HostileManifestTests {
    /// "Billion laughs": 9 anchors, each a list of 9 aliases of the previous: 9^9 values once expanded.
    /// Before the bound, `validate` took 4.8 GB within 20 s.
    static let aliasBomb: String = {
        var text = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for i in 1...8 {
            text += "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 9).joined(separator: ", ") + "]\n"
        }
        return text + "scenes: *a8\n"
    }()

    @Test func anAliasBombIsRefusedAsTooComplex() throws {
        let dir = TempDir()
        let path = dir.write("bomb.yaml", Self.aliasBomb)
        #expect(Self.aliasBomb.utf8.count < 1200)
        let started = ContinuousClock.now
        let error = try #require(throws: ManifestErrors.self) { try ManifestLoader.load(path: path) }
        #expect(error.first.code == .tooComplex)
        #expect(error.first.code.rawValue == "manifest.too_complex")
        #expect(error.first.description.contains("bomb.yaml"))
        #expect(error.first.description.contains("aliases"))
        // Not a speed target: a bound that lets the expansion run for long is not a bound.
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test func nestingDeeperThanTheBoundIsRefused() throws {
        let dir = TempDir()
        let deep = dir.write("deep.yaml", "scenes: " + String(repeating: "[", count: 100) + "hi" + String(repeating: "]", count: 100) + "\n")
        let e1 = try #require(throws: ManifestErrors.self) { try ManifestLoader.load(path: deep) }
        #expect(e1.first.code == .tooComplex && e1.first.description.contains("nested"))
        // Past libyaml's own limit (1000 levels) too: the parser's refusal reads as the same code.
        let deeper = dir.write("deeper.yaml", "scenes: " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + "\n")
        let e2 = try #require(throws: ManifestErrors.self) { try ManifestLoader.load(path: deeper) }
        #expect(e2.first.code == .tooComplex)
    }

    @Test func ordinaryAliasesStillWork() throws {
        let dir = TempDir()
        let path = dir.write("alias.yaml", """
            visuals: &v {engine: procedural, style: vivid}
            scenes:
              - narration: One.
                visuals: *v
              - narration: Two.
                visuals: *v
            """)
        let m = try ManifestLoader.load(path: path)
        #expect(m.scenes.count == 2)
    }

    @Test(arguments: ["txt", "md", "yaml", "json"])
    func nulAndControlCharactersAreRefusedWithTheirByteOffset(ext: String) throws {
        let dir = TempDir()
        let body: String = switch ext {
        case "yaml": "scenes:\n  - narration: Hello\u{0}\u{0}\u{0} world\n"
        case "json": "{\"scenes\": [{\"narration\": \"Hello\u{0}\u{0}\u{0} world\"}]}"
        default: "Hello\u{0}\u{0}\u{0} world\n"
        }
        let path = dir.write("nul.\(ext)", body)
        let offset = Array(body.utf8).firstIndex(of: 0)!
        let error = try #require(throws: ManifestErrors.self) { try ManifestLoader.load(path: path) }
        #expect(error.first.code == .controlCharacter)
        #expect(error.first.description.contains("byte offset \(offset)"))
        #expect(error.first.description.contains("NUL"))
        #expect(error.first.description.contains("nul.\(ext)"))

        let bell = dir.write("bell.\(ext)", body.replacingOccurrences(of: "\u{0}\u{0}\u{0}", with: "\u{7}"))
        let e2 = try #require(throws: ManifestErrors.self) { try ManifestLoader.load(path: bell) }
        #expect(e2.first.code == .controlCharacter && e2.first.description.contains("U+0007"))
    }

    @Test func escapedControlCharactersAreRefusedToo() throws {
        let dir = TempDir()
        let json = dir.write("esc.json", #"{"scenes": [{"narration": "Hello\u0000 world"}]}"#)
        let e1 = try #require(throws: ManifestErrors.self) { try ManifestLoader.load(path: json) }
        #expect(e1.first.code == .controlCharacter)
        let yaml = dir.write("esc.yaml", "scenes:\n  - narration: \"Hello\\0 world\"\n")
        let e2 = try #require(throws: ManifestErrors.self) { try ManifestLoader.load(path: yaml) }
        #expect(e2.first.code == .controlCharacter && e2.first.line == 2)
    }

    @Test func tabsAndWindowsLineEndsAreText() throws {
        let dir = TempDir()
        let path = dir.write("crlf.txt", "First\tparagraph.\r\n\r\nSecond one.\r\n")
        #expect(try ManifestLoader.load(path: path).scenes.count == 2)
    }
}
