import Foundation
import Testing
import TestSupport
@testable import Manifest

struct ManifestTests {
    @Test func yamlAndJSONGiveTheSameManifest() throws {
        let dir = TempDir()
        let yaml = dir.write("job.yaml", """
        title: Same
        seed: 42
        output: {width: 640, height: 360, fps: 24, quality: draft}
        voice: {engine: espeak, voice: en-gb, rate: 1.2}
        music: {mood: dramatic, volume: 0.4}
        captions: {mode: sidecar, size: 30, position: top}
        transitions: {type: crossfade, duration: 0.8}
        scenes:
          - narration: One.
            prompt: sea
          - Two.
        """)
        let json = dir.write("job.json", """
        {"title": "Same", "seed": 42, "output": {"width": 640, "height": 360, "fps": 24, "quality": "draft"},
         "voice": {"engine": "espeak", "voice": "en-gb", "rate": 1.2}, "music": {"mood": "dramatic", "volume": 0.4},
         "captions": {"mode": "sidecar", "size": 30, "position": "top"}, "transitions": {"type": "crossfade", "duration": 0.8},
         "scenes": [{"narration": "One.", "prompt": "sea"}, "Two."]}
        """)
        let a = try ManifestLoader.load(path: yaml)
        let b = try ManifestLoader.load(path: json)
        #expect(a == b)
        #expect(a.output == .init(width: 640, height: 360, fps: 24, quality: .draft))
        #expect(a.voice.voice == "en-gb" && a.voice.rate == 1.2)
        #expect(a.captions == .init(mode: .sidecar, size: 30, position: .top))
        #expect(a.transitions == .init(kind: .crossfade, duration: 0.8))
        #expect(a.scenes.map(\.narration) == ["One.", "Two."])
        #expect(a.scenes[0].prompt == "sea")
    }

    @Test func piperNoiseSettingsParseAndDefaultToThePack() throws {
        let dir = TempDir()
        let m = try ManifestLoader.load(path: dir.write("n.yaml", "voice: {engine: piper, noise_scale: 0.3, noise_w: 0}\nscenes: [hi]\n"))
        #expect(m.voice.pack == "joe-medium" && m.voice.noiseScale == 0.3 && m.voice.noiseW == 0)
        let plain = try ManifestLoader.load(path: dir.write("p.yaml", "voice: {engine: piper}\nscenes: [hi]\n"))
        #expect(plain.voice.noiseScale == nil && plain.voice.noiseW == nil)
        #expect(m != plain)  // so the speech stage's cache key (which includes the voice) differs too
    }

    /// A webhook per job; the look is the same with or without it (its words are not the script's).
    @Test func notifyParsesAndLeavesTheContentSeedAlone() throws {
        let dir = TempDir()
        let m = try ManifestLoader.load(path: dir.write("w.yaml", "notify: {url: \"https://example.com/hook\", secret: k3y}\nscenes: [hi]\n"))
        #expect(m.notify == JobManifest.Notify(url: "https://example.com/hook", secret: "k3y"))
        let plain = try ManifestLoader.load(path: dir.write("p.yaml", "scenes: [hi]\n"))
        #expect(plain.notify == nil && plain.seed == m.seed)
    }

    @Test func defaultsAreFilledIn() throws {
        let dir = TempDir()
        let m = try ManifestLoader.load(path: dir.write("plain.yaml", "scenes: [Hello there.]\n"))
        #expect(m.name == "plain")
        #expect(m.output == .init(width: 1280, height: 720, fps: 30, quality: .standard))
        #expect(m.voice.engine == .auto && m.voice.voice == "en-us")
        #expect(m.scenes[0].voice == m.voice)
        #expect(m.captions.maxLines == 2 && m.captions.highlight == .none && m.captions.box == nil && m.captions.size == 45)
        #expect(m.visuals.engine == .procedural)
        #expect(m.music.engine == .procedural)
        #expect(m.captions.mode == .burn)
        #expect(m.transitions.kind == .cut)
        // No seed: the words choose it, so another script looks different and the same one looks the same.
        let again = try ManifestLoader.load(path: dir.write("again.yaml", "scenes: [Hello there.]\n"))
        let other = try ManifestLoader.load(path: dir.write("other.yaml", "scenes: [Goodbye now.]\n"))
        let text = try ManifestLoader.load(path: dir.write("same.txt", "Hello there.\n"))
        #expect(m.seed == again.seed && m.seed != other.seed && m.seed == text.seed)
        let seeded = try ManifestLoader.load(path: dir.write("seeded.yaml", "seed: 7\nscenes: [Hello there.]\n"))
        #expect(seeded.seed == 7)
    }

    @Test func oneSideAloneKeepsSixteenByNine() throws {
        let dir = TempDir()
        let tall = try ManifestLoader.load(path: dir.write("a.yaml", "output: {height: 1080}\nscenes: [hi]\n"))
        #expect(tall.output.width == 1920 && tall.output.height == 1080)
        let narrow = try ManifestLoader.load(path: dir.write("b.yaml", "output: {width: 640}\nscenes: [hi]\n"))
        #expect(narrow.output.width == 640 && narrow.output.height == 360)
    }

    @Test(arguments: [("16:9", 1280, 720), ("9:16", 720, 1280), ("1:1", 720, 720), ("4:5", 720, 900)])
    func aspectPresets(_ aspect: String, _ width: Int, _ height: Int) throws {
        let dir = TempDir()
        let m = try ManifestLoader.load(path: dir.write("a.yaml", "output: {aspect: \"\(aspect)\"}\nscenes: [hi]\n"))
        #expect(m.output.width == width && m.output.height == height)
    }

    @Test func aspectWithHeight() throws {
        let dir = TempDir()
        let m = try ManifestLoader.load(path: dir.write("a.yaml", "output: {aspect: \"16:9\", height: 1080}\nscenes: [hi]\n"))
        #expect(m.output.width == 1920 && m.output.height == 1080)
    }

    @Test func plainTextParagraphsBecomeScenes() throws {
        let dir = TempDir()
        let m = try ManifestLoader.load(path: dir.write("story.txt", "First paragraph,\nstill first.\n\nSecond one.\n\n\nThird.\n"))
        #expect(m.scenes.map(\.narration) == ["First paragraph, still first.", "Second one.", "Third."])
        #expect(m.name == "story")
    }

    @Test func markdownTitleImagesAndFormatting() throws {
        let dir = TempDir()
        dir.write("pics/cat.png", "png")
        let m = try ManifestLoader.load(path: dir.write("story.md", """
        # The Cat

        ![a cat](pics/cat.png)
        A **very** [good](https://example.com) cat.

        ## Part two
        - The end.
        """))
        #expect(m.title == "The Cat")
        #expect(m.scenes.count == 2)
        #expect(m.scenes[0].narration == "A very good cat.")
        #expect(m.scenes[0].image?.hasSuffix("/pics/cat.png") == true)
        #expect(m.scenes[1].narration == "The end.")
    }

    @Test func markdownImagesOnTheirOwnLinesHeadingsAndLists() throws {
        let dir = TempDir()
        dir.write("a.png", "png")
        dir.write("b.png", "png")
        let m = try ManifestLoader.load(path: dir.write("tips.md", """
        # Sleep better

        ![a bedroom](a.png)

        Most adults need seven hours.

        ## Three habits
        - Drink water early
        - Stop caffeine by 2 pm
        1. Dim the lights!

        ## The payoff
        You will wake up rested.

        ![the end](b.png)
        """))
        #expect(m.title == "Sleep better")
        #expect(m.scenes.map(\.narration) == ["Most adults need seven hours.", "Drink water early. Stop caffeine by 2 pm. Dim the lights!",
                                               "You will wake up rested."])
        #expect(m.scenes.map(\.heading) == [nil, "Three habits", "The payoff"])
        #expect(m.scenes[0].image?.hasSuffix("/a.png") == true && m.scenes[1].image == nil && m.scenes[2].image?.hasSuffix("/b.png") == true)
    }

    @Test func jobFolderUsesItsManifestAndFolderName() throws {
        let dir = TempDir()
        dir.write("trip/manifest.yaml", "scenes:\n  - narration: hi\n    image: a.png\n")
        dir.write("trip/a.png", "png")
        let m = try ManifestLoader.load(path: dir.url.appendingPathComponent("trip").path)
        #expect(m.name == "trip")
        #expect(m.scenes[0].image?.hasSuffix("/trip/a.png") == true)
    }

    @Test func sceneOverridesVisuals() throws {
        let dir = TempDir()
        let m = try ManifestLoader.load(path: dir.write("a.yaml", """
        visuals: {style: dark, seed: 5}
        scenes:
          - one
          - narration: two
            visuals: {style: vivid}
        """))
        #expect(m.scenes[0].visuals.style == .dark)
        #expect(m.scenes[1].visuals.style == .vivid)
        #expect(m.scenes[1].visuals.seed == 5)
    }

    @Test func captionStyleFieldsParse() throws {
        let dir = TempDir()
        let m = try ManifestLoader.load(path: dir.write("a.yaml", """
        output: {aspect: "9:16"}
        captions: {font: Noto Sans, color: "#ff0", outline: 3, box: {opacity: 0.4}, max_lines: 3, highlight: word, highlight_color: cyan}
        scenes: [hi]
        """))
        let c = m.captions
        #expect(c.font == "Noto Sans" && c.color == "#FFFF00" && c.outline == 3 && c.maxLines == 3)
        #expect(c.box == .init(color: "#000000", opacity: 0.4))
        #expect(c.highlight == .word && c.highlightColor == "#00BCD4")
        // The default size follows the short side: a 720x1280 short gets the 1280x720 size.
        #expect(c.size == 45)
        let boxed = try ManifestLoader.load(path: dir.write("b.yaml", "captions: {box: true}\nscenes: [hi]\n"))
        #expect(boxed.captions.box == .init(color: "#000000", opacity: 0.6))
    }

    @Test func aSceneMayOverrideTheVoiceFieldByField() throws {
        let dir = TempDir()
        let m = try ManifestLoader.load(path: dir.write("a.yaml", """
        voice: {engine: espeak, voice: en-gb, rate: 1.2}
        scenes:
          - Hello.
          - narration: Bonjour.
            voice: {voice: fr}
        """))
        #expect(m.scenes[0].voice == m.voice)
        #expect(m.scenes[1].voice.voice == "fr" && m.scenes[1].voice.rate == 1.2 && m.scenes[1].voice.engine == .espeak)
    }

    @Test func quotedNumbersStayText() throws {
        let dir = TempDir()
        let m = try ManifestLoader.load(path: dir.write("a.yaml", "title: \"1984\"\nscenes: [\"42\"]\n"))
        #expect(m.title == "1984")
        #expect(m.scenes[0].narration == "42")
    }
}

struct DefaultsTests {
    @Test func siteDefaultsSitUnderTheManifest() throws {
        let dir = TempDir()
        let config = """
        folders: {inbox: /x}
        defaults:
          voice: {voice: en-gb, rate: 0.9}
          music: {mood: calm, volume: 0.1}
          output: {fps: 24}
        """
        let defaults = try #require(try ManifestDefaults.fromConfig(yaml: config, file: "prostudio.yaml"))
        let m = try ManifestLoader.load(path: dir.write("a.yaml", "voice: {rate: 1.3}\nscenes: [hi]\n"), defaults: defaults)
        #expect(m.voice.voice == "en-gb" && m.voice.rate == 1.3)
        #expect(m.music.mood == .calm && m.music.volume == 0.1)
        #expect(m.output.fps == 24)
        // A plain text script takes them too.
        let t = try ManifestLoader.load(path: dir.write("b.txt", "Hello."), defaults: defaults)
        #expect(t.voice.voice == "en-gb")
    }

    @Test func badDefaultsNameTheConfigAndTheField() {
        do {
            _ = try ManifestDefaults.fromConfig(yaml: "defaults:\n  voice: {engine: siri}\n", file: "prostudio.yaml")
            Issue.record("accepted")
        } catch {
            #expect(error.first.field == "defaults.voice.engine")
            #expect(error.first.file == "prostudio.yaml")
        }
        #expect(throws: ManifestErrors.self) { try ManifestDefaults.fromConfig(yaml: "defaults:\n  scenes: [x]\n", file: "c.yaml") }
        #expect((try? ManifestDefaults.fromConfig(yaml: "folders: {}\n", file: "c.yaml")) as ManifestDefaults?? == .some(nil))
    }
}
