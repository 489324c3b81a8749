import Engines
import Foundation
import Manifest
import MediaHeaders
import Testing
import TestSupport
@testable import Pipeline

/// Voices are checked when the manifest is: a misspelt voice is an invalid manifest, a script the voice
/// cannot read is a warning naming the scene.
struct VoiceCheckTests {
    @Test func anUnknownVoiceIsRefusedWithADidYouMean() throws {
        let dir = TempDir()
        let path = dir.write("a.yaml", "voice: english\nscenes: [Hello.]\n".replacingOccurrences(of: "voice: english", with: "voice: {voice: english}"))
        do {
            _ = try Pipeline.validate(manifestPath: path)
            Issue.record("accepted voice english")
        } catch {
            #expect(error.exitCode == 2)
            #expect(error.code == "manifest.invalid_value" && error.field == "voice.voice")
            #expect(error.message.contains("did you mean \"en\""), "\(error.message)")
        }
        // A scene's own voice is checked too, and named by its scene.
        let scene = dir.write("b.yaml", "scenes:\n  - Hello.\n  - narration: Bonjour.\n    voice: {voice: frnech}\n")
        #expect { try Pipeline.validate(manifestPath: scene) } throws: { ($0 as? PipelineError)?.field == "scenes[1].voice.voice" }
        // Regions people write that espeak-ng names otherwise (issue 27: en-UK was offered en-us).
        for (written, meant) in [("en-UK", "en-gb"), ("jp", "ja")] {
            let f = dir.write("\(written).yaml", "voice: {voice: \(written)}\nscenes: [Hi.]\n")
            #expect { try Pipeline.validate(manifestPath: f) } throws: {
                (($0 as? PipelineError)?.message ?? "").contains("did you mean \"\(meant)\"")
            }
        }
        // Languages, voice names and voice files all pass.
        for v in ["en-us", "EN-GB", "fr", "cmn", "ja", "English_(America)"] {
            _ = try Pipeline.validate(manifestPath: dir.write("\(v).yaml", "voice: {voice: \"\(v)\"}\nscenes: [Hi.]\n"))
        }
    }

    /// A scene mostly in a writing system its voice cannot read is refused at validate (issue 33: a Japanese video
    /// read every kanji as "Chinese letter" and ended `done`), naming the scene, the language and what would read it;
    /// a few such characters in a scene are a warning.
    @Test func aSceneItsVoiceCannotReadIsRefusedAndAFewCharactersAreAWarning() throws {
        let dir = TempDir()
        let refused = dir.write("a.yaml", """
        scenes:
          - Tokyo is lovely.
          - 東京は日本の首都です。
          - narration: 東京は日本の首都です。
            voice: {engine: espeak, voice: ja}
          - narration: きょうは いい てんき ですね。
            voice: {voice: ja}
        """)
        do {
            _ = try Pipeline.validate(manifestPath: refused)
            Issue.record("a Japanese scene under en-us was accepted")
        } catch {
            #expect(error.exitCode == 2)
            let lines = error.message.split(separator: "\n")
            #expect(lines.count == 2, "\(error.message)")
            #expect(lines.first { $0.contains("scenes[1].narration") }?.contains("Japanese text") == true, "\(error.message)")
            #expect(lines.first { $0.contains("scenes[2].narration") }?.contains("kana") == true, "\(error.message)")
            #expect(error.code == "manifest.no_voice")
        }
        let m = try Pipeline.validate(manifestPath: dir.write("b.yaml", """
        scenes:
          - The sign said 東京 in big letters, which means Tokyo, the capital of Japan.
          - narration: きょうは いい てんき ですね。
            voice: {voice: ja}
        """))
        let warnings = Pipeline.warnings(for: m)
        #expect(warnings.count == 1 && warnings[0].hasPrefix("scenes[0]:") && warnings[0].contains("Chinese characters"), "\(warnings)")
    }

    /// `auto` with kanji passes validate (Kokoro would read it), but when no Kokoro pack is installed auto falls
    /// back to espeak-ng, and the job is refused at plan in the same words instead of spelling every kanji out.
    @Test func kanjiUnderAutoWithoutKokoroIsRefusedAtPlan() async throws {
        let dir = TempDir()
        let path = dir.write("ja.yaml", "voice: {voice: ja}\nscenes: [\"東京は日本の首都です。とても大きな都市です。\"]\n")
        _ = try Pipeline.validate(manifestPath: path)
        let out = dir.url.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let pipeline = Pipeline(options: PipelineOptions(outbox: out, cache: dir.url.appendingPathComponent("cache"), models: dir.url.appendingPathComponent("models")))
        do {
            _ = try await pipeline.run(manifestPath: path, jobID: "test-ja")
            Issue.record("kanji under espeak-ng's ja was rendered")
        } catch {
            #expect(error.code == "manifest.no_voice" && error.message.contains("prostudio models install kokoro-ja"), "\(error.message)")
        }
    }

    @Test func aCaptionFontThatIsNotInstalledIsAWarning() throws {
        let dir = TempDir()
        let missing = try Pipeline.validate(manifestPath: dir.write("a.yaml", "captions: {font: No Such Font Family}\nscenes: [Hi.]\n"))
        #expect(Pipeline.warnings(for: missing).contains { $0.hasPrefix("captions.font:") && $0.contains("No Such Font Family") })
        let present = try Pipeline.validate(manifestPath: dir.write("b.yaml", "captions: {font: Noto Sans CJK JP}\nscenes: [Hi.]\n"))
        #expect(Pipeline.warnings(for: present).isEmpty)
    }

    @Test func autoPicksEspeakWithoutAVoicePack() throws {
        let dir = TempDir()
        let m = try Pipeline.validate(manifestPath: dir.write("a.yaml", "scenes: [Hi.]\n"))
        #expect(m.voice.engine == .auto)
        #expect(EngineSet.embedded.resolve(m.voice).engine == .espeak)
    }
}

/// Scene images and the music file are opened at plan.
struct AssetCheckTests {
    @Test func aFileThatIsNotAPictureIsRefusedAtPlanNamingItsField() throws {
        let dir = TempDir()
        dir.write("broken.png", "this is not a PNG")
        dir.write("song.mp3", "nor is this an MP3")
        let path = dir.write("a.yaml", "music: {file: song.mp3}\nscenes:\n  - narration: Hi.\n    image: broken.png\n")
        do {
            _ = try Pipeline.validate(manifestPath: path)
            Issue.record("accepted")
        } catch {
            #expect(error.exitCode == 2 && error.code == "manifest.unreadable_asset" && error.field == "scenes[0].image")
            #expect(error.message.contains("broken.png") && error.message.contains("music.file"), "\(error.message)")
        }
    }

    /// The worker's plan runs the supervisor's header check first: what pick-up refuses, plan (and `validate`) refuses
    /// in the same words, once per field, without decoding a picture whose header is already refused.
    @Test func planAgreesWithThePickUpHeaderCheckAndReportsEachFieldOnce() throws {
        let dir = TempDir()
        var huge: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + Array("IHDR".utf8)
        huge += [0, 0, 0x4E, 0x20, 0, 0, 0x4E, 0x20, 8, 6, 0, 0, 0, 0, 0, 0, 0]  // 20000 x 20000
        try Data(huge).write(to: dir.url.appendingPathComponent("huge.png"))
        try FileManager.default.copyItem(atPath: Fixtures.image, toPath: dir.url.appendingPathComponent("song.wav").path)
        let path = dir.write("a.yaml", "music: {file: song.wav}\nscenes:\n  - narration: Hi.\n    image: huge.png\n")
        let atPickUp = AssetHeaderCheck.problems(in: try ManifestLoader.load(path: path), file: path)
        do {
            _ = try Pipeline.validate(manifestPath: path)
            Issue.record("accepted")
        } catch {
            #expect(error.problems.map(\.field) == ["scenes[0].image", "music.file"])
            #expect(error.problems.map(\.message) == atPickUp.map(\.problem), "\(error.problems.map(\.message)) vs \(atPickUp.map(\.problem))")
            #expect(error.code == "manifest.out_of_range" && error.message.contains("at most \(MediaLimits.maxPictureSide) pixels"))
        }
    }

    /// What a header cannot show (a PNG whose pixel data is garbage) passes pick-up and is still refused at plan.
    @Test func aGoodHeaderOverBadDataIsLeftToThePlansDecode() throws {
        let dir = TempDir()
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + Array("IHDR".utf8)
        png += [0, 0, 0, 64, 0, 0, 0, 48, 8, 6, 0, 0, 0, 0, 0, 0, 0] + [0, 0, 0, 16] + Array("IDAT".utf8) + Array(repeating: 0xAB, count: 20)
        try Data(png).write(to: dir.url.appendingPathComponent("pic.png"))
        let path = dir.write("a.yaml", "scenes:\n  - narration: Hi.\n    image: pic.png\n")
        #expect(AssetHeaderCheck.problems(in: try ManifestLoader.load(path: path), file: path).isEmpty)
        do {
            _ = try Pipeline.validate(manifestPath: path)
            Issue.record("accepted")
        } catch {
            #expect(error.field == "scenes[0].image" && error.message.contains("libav"), "\(error.message)")
        }
    }

    @Test func aSmallPictureShownLargeIsAWarning() throws {
        let dir = TempDir()
        try FileManager.default.copyItem(atPath: Fixtures.image, toPath: dir.url.appendingPathComponent("pic.png").path)
        let small = try Pipeline.validate(manifestPath: dir.write("a.yaml", "output: {width: 1920, height: 1080}\nscenes:\n  - narration: Hi.\n    image: pic.png\n"))
        #expect(Pipeline.warnings(for: small).contains { $0.hasPrefix("scenes[0].image:") && $0.contains("enlarged") })
        let fine = try Pipeline.validate(manifestPath: dir.write("b.yaml", "output: {width: 320, height: 180}\nscenes:\n  - narration: Hi.\n    image: pic.png\n"))
        #expect(Pipeline.warnings(for: fine).isEmpty)
    }
}

/// The user's own music, looped to the video's length.
struct MusicLoopTests {
    @Test func aLoopedTrackNeverStepsAtItsSeam() async throws {
        let dir = TempDir()
        let song = dir.url.appendingPathComponent("song.wav").path
        // 1.37 s of 440 Hz: the loop point falls mid-cycle, where a plain splice jumps.
        try Fixtures.writeTone(to: song, seconds: 1.37)
        let m = try Pipeline.validate(manifestPath: dir.write("a.yaml", "music: {file: song.wav}\nscenes: [Hi.]\n"))
        let bed = try await FileMusic().bed(frames: 48_000 * 6, sampleRate: 48_000, music: m.music, seed: 1)
        func steps(_ x: [Float], _ range: Range<Int>) -> Float { range.dropLast().map { abs(x[2 * ($0 + 1)] - x[2 * $0]) }.max() ?? 0 }
        // The track's own largest step, away from the fades at both ends.
        let own = steps(bed, 48_000..<(48_000 + 20_000))
        let seams = [1.37, 2.24, 3.11, 3.98].map { Int($0 * 48_000) }
        for seam in seams {
            let around = steps(bed, (seam - 48_000 / 2)..<(seam + 48_000 / 2))
            #expect(around <= own * 1.05, "step \(around) near \(seam), the track's own \(own)")
        }
        #expect(bed.count == 48_000 * 6 * 2)
    }
}
