import Foundation
import Testing
import TestSupport
@testable import Manifest

/// Each bad manifest must be refused with the exact code and field path a user would need to fix it.
struct BadManifestTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let label: String
        let file: String
        let text: String
        let code: ManifestError.Code
        let field: String?
        var testDescription: String { label }
    }

    static let cases: [Case] = [
        Case(label: "notify without secret", file: "a.yaml", text: "notify: {url: \"https://example.com/h\"}\nscenes: [hi]\n", code: .missingField, field: "notify.secret"),
        Case(label: "notify not a URL", file: "a.yaml", text: "notify: {url: \"ftp://example.com/h\", secret: s}\nscenes: [hi]\n", code: .invalidValue, field: "notify.url"),
        Case(label: "notify unknown field", file: "a.yaml", text: "notify: {url: \"https://example.com/h\", secret: s, retries: 3}\nscenes: [hi]\n", code: .unknownField, field: "notify.retries"),
        Case(label: "caption colour", file: "a.yaml", text: "captions: {color: purplish}\nscenes: [hi]\n", code: .invalidValue, field: "captions.color"),
        Case(label: "caption box", file: "a.yaml", text: "captions: {box: {opacity: 2}}\nscenes: [hi]\n", code: .outOfRange, field: "captions.box.opacity"),
        Case(label: "caption lines", file: "a.yaml", text: "captions: {max_lines: 5}\nscenes: [hi]\n", code: .outOfRange, field: "captions.max_lines"),
        Case(label: "caption highlight", file: "a.yaml", text: "captions: {highlight: line}\nscenes: [hi]\n", code: .invalidValue, field: "captions.highlight"),
        Case(label: "scene voice engine", file: "a.yaml", text: "scenes:\n  - narration: hi\n    voice: {engine: siri}\n", code: .invalidValue, field: "scenes[0].voice.engine"),
        Case(label: "YAML syntax", file: "a.yaml", text: "scenes: [\n  - narration: hi\n", code: .syntax, field: nil),
        Case(label: "JSON syntax", file: "a.json", text: "{\"scenes\": [{\"narration\": \"hi\"},]", code: .syntax, field: nil),
        Case(label: "top level is a list", file: "a.yaml", text: "- narration: hi\n", code: .wrongType, field: nil),
        Case(label: "unknown top field", file: "a.yaml", text: "scenes: [hi]\ntitel: x\n", code: .unknownField, field: "titel"),
        Case(label: "unknown scene field", file: "a.yaml", text: "scenes:\n  - narration: hi\n    imgae: x.png\n", code: .unknownField, field: "scenes[0].imgae"),
        Case(label: "no scenes", file: "a.yaml", text: "title: x\n", code: .missingField, field: "scenes"),
        Case(label: "empty scenes", file: "a.yaml", text: "scenes: []\n", code: .emptyScenes, field: "scenes"),
        Case(label: "scenes not a list", file: "a.yaml", text: "scenes: hello\n", code: .wrongType, field: "scenes"),
        Case(label: "scene without narration", file: "a.yaml", text: "scenes:\n  - prompt: sea\n", code: .missingField, field: "scenes[0].narration"),
        Case(label: "empty narration", file: "a.yaml", text: "scenes:\n  - narration: \"   \"\n", code: .invalidValue, field: "scenes[0].narration"),
        Case(label: "narration is a list", file: "a.yaml", text: "scenes:\n  - narration: [a, b]\n", code: .wrongType, field: "scenes[0].narration"),
        Case(label: "width is text", file: "a.yaml", text: "output: {width: wide}\nscenes: [hi]\n", code: .wrongType, field: "output.width"),
        Case(label: "absurd width", file: "a.yaml", text: "output: {width: 100000, height: 720}\nscenes: [hi]\n", code: .outOfRange, field: "output.width"),
        Case(label: "odd height", file: "a.yaml", text: "output: {width: 640, height: 361}\nscenes: [hi]\n", code: .invalidValue, field: "output.height"),
        Case(label: "fps zero", file: "a.yaml", text: "output: {fps: 0}\nscenes: [hi]\n", code: .outOfRange, field: "output.fps"),
        Case(label: "fps fractional", file: "a.yaml", text: "output: {fps: 29.97}\nscenes: [hi]\n", code: .wrongType, field: "output.fps"),
        Case(label: "unknown aspect", file: "a.yaml", text: "output: {aspect: \"21:9\"}\nscenes: [hi]\n", code: .invalidValue, field: "output.aspect"),
        Case(label: "unknown quality", file: "a.yaml", text: "output: {quality: ultra}\nscenes: [hi]\n", code: .invalidValue, field: "output.quality"),
        Case(label: "unknown voice engine", file: "a.yaml", text: "voice: {engine: siri}\nscenes: [hi]\n", code: .invalidValue, field: "voice.engine"),
        Case(label: "rate too fast", file: "a.yaml", text: "voice: {rate: 5}\nscenes: [hi]\n", code: .outOfRange, field: "voice.rate"),
        Case(label: "piper noise too high", file: "a.yaml", text: "voice: {engine: piper, noise_scale: 3}\nscenes: [hi]\n", code: .outOfRange, field: "voice.noise_scale"),
        Case(label: "piper noise_w not a number", file: "a.yaml", text: "voice: {engine: piper, noise_w: lots}\nscenes: [hi]\n", code: .wrongType, field: "voice.noise_w"),
        Case(label: "unknown visuals engine", file: "a.yaml", text: "visuals: {engine: dalle}\nscenes: [hi]\n", code: .invalidValue, field: "visuals.engine"),
        Case(label: "diffusion without pack", file: "a.yaml", text: "visuals: {engine: diffusion}\nscenes: [hi]\n", code: .missingField, field: "visuals.pack"),
        Case(label: "unknown mood", file: "a.yaml", text: "music: {mood: angry}\nscenes: [hi]\n", code: .invalidValue, field: "music.mood"),
        Case(label: "music volume too loud", file: "a.yaml", text: "music: {volume: 3}\nscenes: [hi]\n", code: .outOfRange, field: "music.volume"),
        Case(label: "file engine without file", file: "a.yaml", text: "music: {engine: file}\nscenes: [hi]\n", code: .missingField, field: "music.file"),
        Case(label: "missing music file", file: "a.yaml", text: "music: {file: song.mp3}\nscenes: [hi]\n", code: .missingAsset, field: "music.file"),
        Case(label: "unknown caption mode", file: "a.yaml", text: "captions: subtitles\nscenes: [hi]\n", code: .invalidValue, field: "captions"),
        Case(label: "caption size too small", file: "a.yaml", text: "captions: {size: 2}\nscenes: [hi]\n", code: .outOfRange, field: "captions.size"),
        Case(label: "unknown transition", file: "a.yaml", text: "transitions: {type: wipe}\nscenes: [hi]\n", code: .invalidValue, field: "transitions.type"),
        Case(label: "missing image", file: "a.yaml", text: "scenes:\n  - narration: hi\n    image: photo.jpg\n", code: .missingAsset, field: "scenes[0].image"),
        Case(label: "image escapes with ..", file: "a.yaml", text: "scenes:\n  - narration: hi\n    image: ../secret.png\n", code: .pathEscape, field: "scenes[0].image"),
        Case(label: "absolute image path", file: "a.yaml", text: "scenes:\n  - narration: hi\n    image: /etc/passwd.png\n", code: .pathEscape, field: "scenes[0].image"),
        Case(label: "image not an image", file: "a.yaml", text: "scenes:\n  - narration: hi\n    image: notes.txt\n", code: .invalidValue, field: "scenes[0].image"),
        Case(label: "pause negative", file: "a.yaml", text: "scenes:\n  - narration: hi\n    pause: -1\n", code: .outOfRange, field: "scenes[0].pause"),
        Case(label: "second scene bad override", file: "a.yaml", text: "scenes:\n  - hi\n  - narration: there\n    visuals: {style: neon}\n", code: .invalidValue, field: "scenes[1].visuals.style"),
        Case(label: "seed negative", file: "a.yaml", text: "seed: -3\nscenes: [hi]\n", code: .outOfRange, field: "seed"),
        Case(label: "JSON unknown field", file: "a.json", text: "{\"scenes\": [\"hi\"], \"ouput\": {}}", code: .unknownField, field: "ouput"),
        Case(label: "JSON width as string", file: "a.json", text: "{\"output\": {\"width\": \"640\"}, \"scenes\": [\"hi\"]}", code: .wrongType, field: "output.width"),
        Case(label: "empty text script", file: "a.txt", text: "\n\n   \n", code: .emptyScenes, field: "scenes"),
        Case(label: "unsupported extension", file: "a.toml", text: "scenes = []", code: .unsupportedFormat, field: nil),
        Case(label: "duplicate key", file: "a.yaml", text: "title: a\ntitle: b\nscenes: [hi]\n", code: .syntax, field: nil),
        Case(label: "version 2", file: "a.yaml", text: "version: 2\nscenes: [hi]\n", code: .outOfRange, field: "version"),
        Case(label: "too many scenes", file: "a.json", text: "{\"scenes\": [" + Array(repeating: "\"x\"", count: 501).joined(separator: ",") + "]}", code: .outOfRange, field: "scenes"),
    ]

    @Test(arguments: cases)
    func refused(_ c: Case) throws {
        let dir = TempDir()
        dir.write("notes.txt", "not an image")
        let path = dir.write(c.file, c.text)
        do {
            _ = try ManifestLoader.load(path: path, displayName: c.file)
            Issue.record("\(c.label): accepted")
        } catch {
            let first = error.first
            #expect(first.code == c.code, "\(c.label): \(first)")
            #expect(first.field == c.field, "\(c.label): \(first)")
            #expect(first.file == c.file)
            #expect(first.description.contains("expected"))
        }
    }

    @Test func unknownFieldSuggestsTheNearestName() throws {
        let dir = TempDir()
        let path = dir.write("a.yaml", "scenes:\n  - narration: hi\n    promt: sea\n")
        #expect(throws: ManifestErrors.self) { try ManifestLoader.load(path: path) }
        do { _ = try ManifestLoader.load(path: path) } catch {
            #expect(error.first.expected.contains("did you mean \"prompt\""))
            #expect(error.first.line == 3)
        }
    }

    @Test func everyProblemIsReportedAtOnce() throws {
        let dir = TempDir()
        let path = dir.write("a.yaml", "output: {fps: 0}\nvoice: {rate: 9}\nscenes: [hi]\n")
        do { _ = try ManifestLoader.load(path: path); Issue.record("accepted") } catch {
            #expect(error.errors.map(\.field) == ["output.fps", "voice.rate"])
        }
    }

    @Test func symlinkLeadingOutIsRefused() throws {
        let outside = TempDir()
        let image = outside.write("x.png", "png")
        let dir = TempDir()
        try FileManager.default.createSymbolicLink(atPath: dir.url.appendingPathComponent("link.png").path, withDestinationPath: image)
        let path = dir.write("a.yaml", "scenes:\n  - narration: hi\n    image: link.png\n")
        do { _ = try ManifestLoader.load(path: path); Issue.record("accepted") } catch {
            #expect(error.first.code == .pathEscape)
            #expect(error.first.field == "scenes[0].image")
        }
    }
}
