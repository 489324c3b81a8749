import Engines
import Foundation
import Testing
import TestSupport
import Manifest
@testable import Pipeline

struct TimelineTests {
    func manifest(_ yaml: String) throws -> JobManifest {
        let dir = TempDir()
        return try ManifestLoader.load(path: dir.write("t.yaml", yaml))
    }

    /// The progress bar gives most of its length to the stage that takes the time: compose on the embedded
    /// engines, speech with a neural voice, visuals with a video model; it always runs from 0 to 1 in order.
    @Test func progressSharesFollowTheEngines() throws {
        let embedded = StageWeights(for: try manifest("scenes: [Hi.]\n"), engines: .embedded)
        let piper = StageWeights(for: try manifest("voice: {engine: piper}\nscenes: [Hi.]\n"), engines: .embedded)
        let video = StageWeights(for: try manifest("scenes: [{narration: Hi., visuals: {engine: diffusion, pack: p}}, Two.]\n"), engines: .embedded)
        #expect(abs(embedded.share(.compose) - 0.75) < 1e-9)
        #expect(piper.share(.speech) > 0.3 && piper.share(.speech) > embedded.share(.speech))
        #expect(video.share(.visuals) > 0.5 && video.share(.visuals) > video.share(.compose))
        for w in [embedded, piper, video, StageWeights.embedded] {
            let points = Stage.allCases.flatMap { s in [w.overall(s, 0), w.overall(s, 0.5), w.overall(s, 1)] }
            #expect(zip(points, points.dropFirst()).allSatisfy { $0 <= $1 })
            #expect(points.first == 0 && abs(points.last! - 1) < 1e-9)
        }
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
}

struct StageCacheTests {
    @Test func pruneRemovesLeastRecentlyUsedFirstAndReportsIt() throws {
        let dir = TempDir()
        let events = EventLog()
        let cache = StageCache(root: dir.url, observer: { events.append($0) })
        let blob = Data(count: 1000)
        for key in ["a", "b", "c"] { cache.write(blob, stage: "music", key: key, ext: "f32") }
        // Make "a" the oldest, then use it: "b" becomes the least recently used.
        for (key, age) in [("a", 300.0), ("b", 200.0), ("c", 100.0)] {
            try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-age)],
                                                  ofItemAtPath: cache.url(stage: "music", key: key, ext: "f32").path)
        }
        #expect(cache.read(stage: "music", key: "a", ext: "f32") == blob)
        let removed = cache.prune(maxBytes: 2000)
        #expect(removed == ["music/b.f32"])
        #expect(!cache.contains(stage: "music", key: "b", ext: "f32"))
        #expect(cache.contains(stage: "music", key: "a", ext: "f32") && cache.contains(stage: "music", key: "c", ext: "f32"))
        #expect(events.names == ["stored music/a.f32", "stored music/b.f32", "stored music/c.f32", "used music/a.f32"])
    }
}

final class EventLog: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ e: StageCache.Event) {
        lines.withLock {
            switch e {
            case .stored(let name, _, _): $0.append("stored \(name)")
            case .used(let name): $0.append("used \(name)")
            }
        }
    }
    var names: [String] { lines.withLock { $0 } }
}

import Synchronization
