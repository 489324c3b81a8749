import Foundation
@testable import Manifest
import Testing
import TestSupport

/// A `.txt` or `.md` script may start with YAML front matter naming its voice and the job's other fields (issue
/// 33): it became a spoken scene before.
@Suite struct FrontMatterTests {
    @Test func frontMatterSetsTheJobsFieldsAndIsNotSpoken() throws {
        let dir = TempDir()
        let txt = try ManifestLoader.load(path: dir.write("fr.txt", """
        ---
        title: Le Marché
        voice: {voice: fr}
        output: {width: 640, height: 360}
        ---
        Premier paragraphe.

        Second paragraphe.
        """))
        #expect(txt.voice.voice == "fr" && txt.title == "Le Marché" && txt.output.width == 640)
        #expect(txt.scenes.map(\.narration) == ["Premier paragraphe.", "Second paragraphe."])
        #expect(txt.scenes.allSatisfy { $0.voice.voice == "fr" })

        // In Markdown, with Windows line ends: the front matter's title wins, the `# heading` heads the first scene.
        let md = try ManifestLoader.load(path: dir.write("de.md", "---\r\nvoice: {voice: de}\r\ntitle: Vorne\r\n---\r\n# Kopf\r\n\r\nHallo Welt.\r\n"))
        #expect(md.title == "Vorne" && md.voice.voice == "de" && md.scenes.count == 1 && md.scenes[0].heading == "Kopf")

        // A script without front matter, or with a `---` rule later on, is read as before.
        let plain = try ManifestLoader.load(path: dir.write("plain.txt", "One.\n\n---\n\nTwo.\n"))
        #expect(plain.scenes.first?.narration == "One." && plain.voice.voice == "en-us")
    }

    @Test func aFieldFrontMatterCannotSetIsNamedWithItsLine() throws {
        let dir = TempDir()
        let path = dir.write("bad.txt", "---\ntitle: T\nscenes: [x]\nvoise: {voice: fr}\n---\nText.\n")
        #expect { try ManifestLoader.load(path: path) } throws: { error in
            guard let e = error as? ManifestErrors else { return false }
            return e.errors.map(\.field) == ["scenes", "voise"] && e.errors.map(\.line) == [3, 4] && e.errors.allSatisfy { $0.code == .unknownField }
        }
        // Wrong values inside it are the manifest's own errors, with the file's line numbers.
        let range = dir.write("range.txt", "---\noutput: {fps: 1000}\n---\nText.\n")
        #expect { try ManifestLoader.load(path: range) } throws: { error in
            (error as? ManifestErrors)?.errors.first.map { $0.field == "output.fps" && $0.line == 2 } ?? false
        }
    }
}
