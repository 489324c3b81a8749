import Foundation
import Synchronization
import Testing
import Watcher

/// The footage-library watch: one ring per burst of changes, anywhere in the tree, once the tree is quiet.
@Suite struct TreeWatcherTests {
    func folder() -> String {
        let dir = NSTemporaryDirectory() + "prostudio-tree-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: dir + "/b-roll", withIntermediateDirectories: true)
        return dir
    }

    /// Counts rings on one consumer for the watcher's life (cancelling a waiting `next()` would end the stream).
    final class Rings: Sendable {
        final class Count: Sendable { let n = Mutex(0) }
        private let count = Count()
        private let consumer: Task<Void, Never>
        init(_ watcher: TreeWatcher) {
            let count = self.count
            consumer = Task { for await _ in watcher.rings { count.n.withLock { $0 += 1 } } }
        }
        var value: Int { count.n.withLock { $0 } }
        /// Waits for the count to pass `seen`, looking every 20 ms for `timeout`; true when it did. Counted in looks, not
        /// by the clock: on CI's starved pool (a run took 76 s for this 6 s test) the clock passed the deadline before the
        /// counting task, woken by the ring long before, had its turn; each look is a turn it gets too.
        func after(_ seen: Int, within timeout: Duration) async -> Bool {
            let looks = Int(timeout / .milliseconds(20))
            for _ in 0..<looks {
                if value > seen { return true }
                try? await Task.sleep(for: .milliseconds(20))
            }
            return value > seen
        }
    }

    @Test func aBurstOfChangesInANewSubfolderRingsOnceWhenQuiet() async throws {
        let dir = folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let watcher = try TreeWatcher(folder: dir, settle: .seconds(1))
        defer { watcher.stop() }
        let rings = Rings(watcher)
        let started = ContinuousClock.now
        // A folder made after the watch started, then files written into it in a burst.
        try FileManager.default.createDirectory(atPath: dir + "/b-roll/harbour", withIntermediateDirectories: true)
        for i in 0..<4 {
            try Data("x".utf8).write(to: URL(fileURLWithPath: dir + "/b-roll/harbour/boat\(i).jpg"))
            try await Task.sleep(for: .milliseconds(50))
        }
        let burst = ContinuousClock.now - started
        #expect(await rings.after(0, within: .seconds(10)))
        // Not before the tree stayed quiet for the settle time.
        #expect(ContinuousClock.now - started >= .seconds(1))
        // One ring for the burst, not one per file (unless the machine stalled the burst past the settle time).
        try await Task.sleep(for: .milliseconds(1500))
        #expect(rings.value == 1 || burst > .seconds(1))
        // A change deep in the new folder is seen (it is watched), and so is a removal.
        let seen = rings.value
        try FileManager.default.removeItem(atPath: dir + "/b-roll/harbour/boat1.jpg")
        #expect(await rings.after(seen, within: .seconds(10)))
    }

    @Test func hiddenAndTempNamesDoNotRing() async throws {
        let dir = folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let watcher = try TreeWatcher(folder: dir, settle: .milliseconds(200))
        defer { watcher.stop() }
        let rings = Rings(watcher)
        try Data("x".utf8).write(to: URL(fileURLWithPath: dir + "/b-roll/.clip.mp4"))
        try Data("x".utf8).write(to: URL(fileURLWithPath: dir + "/b-roll/clip.mp4.part"))
        try Data("x".utf8).write(to: URL(fileURLWithPath: dir + "/b-roll/clip.tmp"))
        try await Task.sleep(for: .milliseconds(800))
        #expect(rings.value == 0)
        // The copy finishing (renamed to its real name) rings.
        rename(dir + "/b-roll/clip.mp4.part", dir + "/b-roll/clip.mp4")
        #expect(await rings.after(0, within: .seconds(5)))
    }

    @Test func aMissingFolderIsRefusedByName() {
        #expect(throws: InboxWatcher.Failure.self) { try TreeWatcher(folder: "/nonexistent/prostudio-footage") }
    }
}
