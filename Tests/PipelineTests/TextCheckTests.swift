import Foundation
import Manifest
import Testing
import TestSupport
@testable import Pipeline

/// Titles and headings no size can fit are refused at validate, naming the field and the limit; characters no
/// installed font has are a warning naming them (issue 26).
struct TextCheckTests {
    @Test func aTitleNoSizeFitsIsRefusedWithTheLimit() throws {
        let dir = TempDir()
        let long = String(repeating: "Space is big and dark. ", count: 22)
        for output in ["{width: 1280, height: 720}", "{width: 1080, height: 1920}", "{width: 1080, height: 1080}"] {
            let path = dir.write("t.yaml", "title: \"\(long)\"\noutput: \(output)\nscenes: [Hello.]\n")
            do {
                _ = try Pipeline.validate(manifestPath: path)
                Issue.record("a \(long.count)-character title was accepted at \(output)")
            } catch {
                #expect(error.exitCode == 2)
                #expect(error.field == "title", "\(error.message)")
                #expect(error.message.contains("at most about"), "\(error.message)")
            }
        }
        // A heading that runs past two lines at its smallest size, named by its scene.
        let heading = dir.write("h.yaml", "scenes:\n  - Hi.\n  - narration: Hello.\n    heading: \"\(long)\"\n")
        #expect { try Pipeline.validate(manifestPath: heading) } throws: { ($0 as? PipelineError)?.field == "scenes[1].heading" }
        // The issue's title and a long but reasonable one pass, at 9:16 too.
        let fine = dir.write("f.yaml", """
        title: "3 Facts About Space You Didn't Know 🚀 and Why the Night Sky Is Dark Even Though the Universe Is Full of Stars"
        output: {width: 1080, height: 1920}
        scenes: [Hello.]
        """)
        _ = try Pipeline.validate(manifestPath: fine)
    }

    @Test func aCharacterNoFontHasIsAWarningNamingIt() throws {
        let dir = TempDir()
        let m = try Pipeline.validate(manifestPath: dir.write("w.yaml", """
        title: "Space \u{11F04} facts 🚀"
        scenes:
          - narration: Hello there.
            heading: "Stars ✨"
        """))
        let warnings = Pipeline.warnings(for: m).filter { $0.contains("no installed font") }
        #expect(warnings.count == 1, "\(warnings)")
        #expect(warnings.first?.hasPrefix("title:") == true && warnings.first?.contains("U+11F04") == true, "\(warnings)")
        // The rocket and the sparkles are in Symbola (scripts/setup): no warning for them.
        #expect(!(warnings.first ?? "").contains("1F680"), "🚀 has no font: is fonts-symbola installed (scripts/setup)? \(warnings)")
    }

    @Test func posterCaptionsParse() throws {
        let dir = TempDir()
        let m = try Pipeline.validate(manifestPath: dir.write("p.yaml", "poster: {time: 1.5, captions: true}\nscenes: [Hello.]\n"))
        #expect(m.poster.captions && m.poster.time == 1.5 && m.poster.title)
        let d = try Pipeline.validate(manifestPath: dir.write("d.yaml", "scenes: [Hello.]\n"))
        #expect(!d.poster.captions)
    }

    @Test func posterSizesAreThePlatforms() {
        #expect(PosterSize.of(width: 1920, height: 1080) == (1280, 720))
        #expect(PosterSize.of(width: 720, height: 1280) == (1080, 1920))
        #expect(PosterSize.of(width: 720, height: 720) == (1080, 1080))
    }
}
