import Engines
import Foundation
import Testing
import Manifest
@testable import Pipeline

struct TimelineTests {
    func manifest(_ yaml: String) throws -> JobManifest {
        let dir = TempDir()
        return try ManifestLoader.load(path: dir.write("t.yaml", yaml))
    }

    @Test func scenesLastAsLongAsTheirNarrationPlusPaddingInWholeFrames() throws {
        let m = try manifest("output: {fps: 30}\nscenes:\n  - a\n  - narration: b\n    pause: 1\n")
        let t = Timeline(manifest: m, narrationDurations: [2.0, 1.0])
        #expect(t.scenes[0].frames == Int(((Timeline.leadIn + 2 + Timeline.tail) * 30).rounded(.up)))
        #expect(t.scenes[1].frames == Int(((Timeline.leadIn + 1 + Timeline.tail + 1) * 30).rounded(.up)))
        #expect(t.scenes[1].startFrame == t.scenes[0].frames)
        #expect(t.totalFrames == t.scenes[0].frames + t.scenes[1].frames)
    }

    @Test func crossfadeNeverEatsMoreThanHalfAScene() throws {
        let m = try manifest("transitions: {type: crossfade, duration: 3}\nscenes: [a, b]\n")
        let t = Timeline(manifest: m, narrationDurations: [0.3, 2])
        #expect(t.transitionFrames == t.scenes[0].frames / 2)
    }

    @Test func captionsBreakAtSentencesAndStayShort() throws {
        let m = try manifest("scenes: [a]\n")
        let words = "One two three. Four five six seven eight nine ten eleven twelve thirteen fourteen.".split(separator: " ")
        let n = Narration(sampleRate: 1000, samples: .init(repeating: 0, count: 8000),
                          words: words.enumerated().map { .init(text: String($1), start: Double($0) * 0.5, end: Double($0) * 0.5 + 0.4) })
        let t = Timeline(manifest: m, narrationDurations: [8])
        let cues = Captions.cues(for: [n], timeline: t, maxCharacters: 30)
        #expect(cues.first?.text == "One two three.")
        #expect(cues.allSatisfy { $0.text.count <= 30 })
        #expect(cues.allSatisfy { $0.end - $0.start <= Captions.maxSeconds + 0.5 })
        #expect(zip(cues, cues.dropFirst()).allSatisfy { $0.end <= $1.start })
        #expect(cues.first!.start == Timeline.leadIn)
    }
}
