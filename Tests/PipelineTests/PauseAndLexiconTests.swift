import Engines
import Foundation
import Manifest
import Media
import Testing
import TestSupport
@testable import Pipeline

/// Pronunciation control (issue 33 item 4): pauses written in the script, and a lexicon of how words are said.
/// Spoken by espeak-ng for real; the captions never show the markup.
struct PauseAndLexiconTests {
    func spoken(_ yaml: String, in dir: TempDir, name: String) async throws -> (scene: JobManifest.Scene, n: (sampleRate: Int, frames: Int, words: [Narration.Word]), samples: [Float]) {
        let m = try Pipeline.validate(manifestPath: dir.write("\(name).yaml", yaml))
        let url = dir.url.appendingPathComponent("\(name).f32")
        let writer = try SampleFile.Writer(url: url)
        let n = try await NarrationParts.speak(scene: m.scenes[0], voice: m.scenes[0].voice, lexicon: m.lexicon, engine: EspeakEngine(), into: writer)
        try writer.close()
        let reader = try SampleFile.Reader(url: url)
        return (m.scenes[0], n, try reader.read(0..<reader.count))
    }

    @Test func aPauseMarkStopsTheVoiceThereAndLeavesNoTrace() async throws {
        let dir = TempDir()
        let plain = try await spoken("scenes: [\"One two three. Four five six.\"]\n", in: dir, name: "plain")
        let paused = try await spoken("scenes: [\"One two three. [pause 1.5s] Four five six.\"]\n", in: dir, name: "paused")
        // The narration keeps its length with the mark blanked: no caption can show it.
        #expect(!paused.scene.narration.contains("[") && paused.scene.pauses.map(\.seconds) == [1.5])
        let extra = Double(paused.n.frames - plain.n.frames) / Double(paused.n.sampleRate)
        // Spoken in two calls, the voice's own gap between the sentences goes; the mark's 1.5 s comes instead.
        #expect(extra > 1.0 && extra < 1.6, "the pause added \(extra) s")
        // "Four" starts 1.5 s after the voice stopped, and that stretch is silent.
        let four = try #require(paused.n.words.first { $0.text.lowercased().hasPrefix("four") })
        let three = try #require(paused.n.words.last { $0.text.lowercased().hasPrefix("three") })
        #expect(four.start - three.end >= 1.4, "three ends \(three.end) s, four starts \(four.start) s")
        let from = Int((three.end + 0.3) * Double(paused.n.sampleRate)), to = Int((four.start - 0.1) * Double(paused.n.sampleRate))
        #expect(paused.samples[from..<to].allSatisfy { $0 == 0 })
        // The voice's words land on the script's words, marks or not.
        let narration = Array(paused.scene.narration.unicodeScalars)
        let at = try #require(four.source)
        #expect(String(String.UnicodeScalarView(narration[at..<(at + 4)])) == "Four")
    }

    @Test func aBlankLineIsAShorterPause() async throws {
        let dir = TempDir()
        let para = try await spoken("scenes:\n  - narration: |\n      One two three.\n\n      Four five six.\n", in: dir, name: "para")
        #expect(para.scene.pauses.map(\.seconds) == [Pauses.paragraph])
    }

    @Test func aBadMarkOrOnlyMarksAreNamed() throws {
        let dir = TempDir()
        for (text, found) in [("Wait [pause 2 minutes] here.", "[pause 2 minutes]"), ("Wait [pause 99s] here.", "[pause 99s]"), ("[pause 1s]", "only pause marks")] {
            let path = dir.write("bad.yaml", "scenes: [\"\(text)\"]\n")
            #expect { try Pipeline.validate(manifestPath: path) } throws: { error in
                let e = error as? PipelineError
                return e?.field == "scenes[0]" && (e?.message.contains(found) ?? false)
            }
        }
    }

    @Test func theLexiconSaysAWordItsWayAndTheCaptionKeepsIt() async throws {
        let dir = TempDir()
        let said = try await spoken("lexicon: {SQL: sequel, ProStudio: pro studio}\nscenes: [\"ProStudio stores jobs in SQL.\"]\n", in: dir, name: "lex")
        let words = said.n.words.map { $0.text.lowercased() }
        #expect(words.contains("sequel") && words.contains("studio") && !words.contains("sql"), "\(words)")
        // "sequel" is placed on the script's "SQL".
        let narration = Array(said.scene.narration.unicodeScalars)
        let sequel = try #require(said.n.words.first { $0.text.lowercased() == "sequel" }?.source)
        #expect(String(String.UnicodeScalarView(narration[sequel..<(sequel + 3)])) == "SQL")
        // The site's lexicon is under the job's: the job's word wins, the site's others stay.
        let site = try ManifestDefaults.fromConfig(yaml: "defaults:\n  lexicon: {SQL: S Q L, GPU: G P U}\n", file: "site.yaml")
        let m = try ManifestLoader.load(path: dir.write("j.yaml", "lexicon: {SQL: sequel}\nscenes: [Hi.]\n"), defaults: site)
        #expect(m.lexicon == ["SQL": "sequel", "GPU": "G P U"])
        let bad = dir.write("b.yaml", "lexicon: {\"two words\": x}\nscenes: [Hi.]\n")
        #expect { try Pipeline.validate(manifestPath: bad) } throws: { ($0 as? PipelineError)?.field == "lexicon.two words" }
    }
}
