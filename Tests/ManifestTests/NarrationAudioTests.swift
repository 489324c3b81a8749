import Foundation
import Testing
import TestSupport
@testable import Manifest

/// `narration_audio:` the producer's own recording of a scene's narration (or of a one-scene job's).
struct NarrationAudioTests {
    @Test func sceneRecordingIsResolvedInsideTheFolder() throws {
        let dir = TempDir()
        dir.write("take1.wav", "RIFF")
        let m = try ManifestLoader.load(path: dir.write("a.yaml", "scenes:\n  - narration: Hello there.\n    narration_audio: take1.wav\n  - Second scene.\n"))
        #expect(m.scenes[0].narrationAudio?.hasSuffix("/take1.wav") == true)
        #expect(m.scenes[1].narrationAudio == nil)
        #expect(m.assetPaths.contains { $0.hasSuffix("/take1.wav") })
    }

    @Test func jobRecordingGoesToItsOneScene() throws {
        let dir = TempDir()
        dir.write("vo.m4a", "x")
        let m = try ManifestLoader.load(path: dir.write("a.yaml", "narration_audio: vo.m4a\nscenes: [Just one scene.]\n"))
        #expect(m.scenes[0].narrationAudio?.hasSuffix("/vo.m4a") == true)
    }

    static let refused: [(String, ManifestError.Code, String)] = [
        ("scenes:\n  - narration: hi\n    narration_audio: take.wav\n", .missingAsset, "scenes[0].narration_audio"),
        ("scenes:\n  - narration: hi\n    narration_audio: notes.txt\n", .invalidValue, "scenes[0].narration_audio"),
        ("scenes:\n  - narration: hi\n    narration_audio: ../take.wav\n", .pathEscape, "scenes[0].narration_audio"),
        ("scenes:\n  - narration: hi\n    narration_audio: /tmp/take.wav\n", .pathEscape, "scenes[0].narration_audio"),
        ("narration_audio: take.flac\nscenes: [hi]\n", .missingAsset, "narration_audio"),
        ("narration_audio: here.mp3\nscenes: [one, two]\n", .invalidValue, "narration_audio"),
    ]

    @Test func badRecordingsAreRefusedNamingTheField() throws {
        for (text, code, field) in Self.refused {
            let dir = TempDir()
            dir.write("notes.txt", "words")
            dir.write("here.mp3", "ID3")
            do {
                _ = try ManifestLoader.load(path: dir.write("a.yaml", text), displayName: "a.yaml")
                Issue.record("accepted: \(text)")
            } catch {
                #expect(error.first.code == code, "\(text): \(error.first)")
                #expect(error.first.field == field, "\(text): \(error.first)")
            }
        }
    }

    @Test func headerCheckWantsSound() throws {
        let dir = TempDir()
        dir.write("take.wav", "not a wav at all")
        let m = try ManifestLoader.load(path: dir.write("a.yaml", "scenes:\n  - narration: hi\n    narration_audio: take.wav\n"))
        let problems = AssetHeaderCheck.problems(in: m, file: "a.yaml")
        #expect(problems.map(\.field) == ["scenes[0].narration_audio"])
    }
}
