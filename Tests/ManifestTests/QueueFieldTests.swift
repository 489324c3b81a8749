import Contract
import Foundation
import Testing
import TestSupport
@testable import Manifest

/// Issue 32: `priority` and `not_before` in a manifest, and the packs a job's worker will load (`ModelNeeds`).
@Suite struct QueueFieldTests {
    static func load(_ text: String, ext: String = "yaml") throws(ManifestErrors) -> JobManifest {
        let dir = TempDir()
        return try ManifestLoader.load(path: dir.write("q.\(ext)", text))
    }

    static func problems(_ text: String, ext: String = "yaml") -> [ManifestError] {
        do { _ = try load(text, ext: ext); return [] } catch { return error.errors }
    }

    @Test func priorityAndNotBeforeAreRead() throws {
        let m = try Self.load("priority: 7\nnot_before: 2026-12-24T23:00:00+01:00\nscenes: [hi]\n")
        #expect(m.priority == 7)
        #expect(m.notBefore == Date(timeIntervalSince1970: 1_798_149_600))  // 22:00 UTC
        // Quoted, in JSON, with fractional seconds and a lower-case z: the same reading.
        let j = try Self.load("{\"priority\": -100, \"not_before\": \"2026-12-24t22:00:00.250z\", \"scenes\": [\"hi\"]}", ext: "json")
        #expect(j.priority == -100 && j.notBefore == Date(timeIntervalSince1970: 1_798_149_600.25))
        let plain = try Self.load("scenes: [hi]\n")
        #expect(plain.priority == 0 && plain.notBefore == nil)
    }

    /// A bad value names the file, the field and the form expected.
    @Test(arguments: [
        ("priority: 101\n", "priority", ManifestError.Code.outOfRange, "a whole number from -100 to 100"),
        ("priority: 2.5\n", "priority", .wrongType, "a whole number from -100 to 100"),
        ("priority: high\n", "priority", .wrongType, "a whole number from -100 to 100"),
        ("not_before: tomorrow\n", "not_before", .invalidValue, "an RFC 3339 time"),
        ("not_before: 2026-12-24\n", "not_before", .invalidValue, "an RFC 3339 time"),
        ("not_before: 2026-12-24T22:00:00\n", "not_before", .invalidValue, "an RFC 3339 time"),  // no offset
        ("not_before: 2026-02-30T22:00:00Z\n", "not_before", .invalidValue, "an RFC 3339 time"),
        ("not_before: 1798149600\n", "not_before", .wrongType, "an RFC 3339 time"),
    ])
    func badQueueFieldsAreRefusedNamingFieldAndForm(text: String, field: String, code: ManifestError.Code, expected: String) {
        let found = Self.problems(text + "scenes: [hi]\n")
        let e = found.first { $0.field == field }
        #expect(e?.code == code, "\(found)")
        #expect(e?.expected.contains(expected) == true, "\(found)")
        #expect(e?.file.hasSuffix("q.yaml") == true && e?.line == 1, "\(found)")
    }

    @Test func rfc3339ParsesOnlyWhatItShould() {
        #expect(RFC3339.parse("1970-01-01T00:00:00Z") == Date(timeIntervalSince1970: 0))
        #expect(RFC3339.parse("1970-01-01T01:30:00+01:30") == Date(timeIntervalSince1970: 0))
        #expect(RFC3339.parse("1969-12-31T23:00:00-01:00") == Date(timeIntervalSince1970: 0))
        #expect(RFC3339.parse("2024-02-29T00:00:00Z") != nil)
        for bad in ["", "2023-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-12-24T24:00:00Z", "2026-12-24T22:00:00+1:00",
                    "2026-12-24T22:00:00.Z", "2026-12-24T22:00:00Zjunk", "2026-12-24 22:00:00", "２026-12-24T22:00:00Z"] {
            #expect(RFC3339.parse(bad) == nil, "\(bad)")
        }
    }

    /// A models folder with pack.json files only: what `ModelNeeds` reads.
    static func models(_ packs: [String: String]) throws -> TempDir {
        let dir = TempDir()
        for (name, json) in packs {
            try FileManager.default.createDirectory(atPath: dir.path + "/" + name, withIntermediateDirectories: true)
            try json.write(toFile: dir.path + "/\(name)/pack.json", atomically: true, encoding: .utf8)
        }
        return dir
    }

    @Test func thePacksAJobLoadsFollowTheEnginesItUses() throws {
        let dir = try Self.models([
            "joe-medium": #"{"kind": "speech", "architecture": "vits-piper", "espeak_voice": "en-us"}"#,
            "kokoro-ja": #"{"kind": "speech", "architecture": "kokoro", "languages": ["ja"]}"#,
            "minilm-l6-v2": #"{"kind": "embedding"}"#,
            "tiny-musicgen": #"{"kind": "music"}"#,
        ])
        func packs(_ text: String) throws -> Set<String> { ModelNeeds.packs(for: try Self.load(text), models: dir.path) }
        #expect(try packs("voice: {engine: espeak}\nscenes: [hi]\n") == [])
        #expect(try packs("voice: {engine: piper}\nscenes: [hi]\n") == ["joe-medium"])
        #expect(try packs("voice: {engine: kokoro}\nscenes: [hi]\n") == ["kokoro-ja"])
        // auto: Kokoro for Japanese, Piper for English (its espeak_voice), espeak-ng (no pack) for French.
        #expect(try packs("voice: {engine: auto, voice: ja}\nscenes: [hi]\n") == ["kokoro-ja"])
        #expect(try packs("voice: {engine: auto, voice: en-us}\nscenes: [hi]\n") == ["joe-medium"])
        #expect(try packs("voice: {engine: auto, voice: fr}\nscenes: [hi]\n") == [])
        #expect(try packs("voice: {engine: espeak}\nmusic: {engine: musicgen, pack: tiny-musicgen}\nvisuals: {engine: diffusion, pack: tiny-video}\nscenes: [hi]\n")
                == ["tiny-musicgen", "tiny-video"])
        // A scene's own voice counts; the job's voice does not when every scene overrides it.
        #expect(try packs("voice: {engine: piper}\nscenes:\n  - narration: hi\n    voice: {engine: espeak}\n") == [])
        #expect(try packs("voice: {engine: espeak}\nscenes:\n  - narration: hi\n  - narration: yo\n    voice: {engine: piper}\n") == ["joe-medium"])
        // Explainer cards use the sentence encoder when it is installed.
        #expect(try packs("voice: {engine: espeak}\nvisuals: {engine: explainer}\nscenes: [hi]\n") == ["minilm-l6-v2"])
        let empty = TempDir()
        #expect(ModelNeeds.packs(for: try Self.load("voice: {engine: auto, voice: en-us}\nvisuals: {engine: explainer}\nscenes: [hi]\n"),
                                 models: empty.path) == [])
    }
}
