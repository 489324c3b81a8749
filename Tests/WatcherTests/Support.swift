import Foundation
import Synchronization
import Watcher

/// An inbox and a state folder in a fresh temp folder (one filesystem), removed afterwards.
final class Sandbox: Sendable {
    let root: String
    init() {
        root = NSTemporaryDirectory() + "prostudio-watch-" + UUID().uuidString
        for dir in [inbox, state] { try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
    }
    var inbox: String { root + "/inbox" }
    var state: String { root + "/state" }
    deinit { try? FileManager.default.removeItem(atPath: root) }

    /// Writes a file the way careful producers do: a hidden temp name, then rename into place.
    func drop(_ name: String, _ text: String = "title: test\n", in folder: String? = nil) {
        let dir = folder ?? inbox
        let tmp = dir + "/." + name + ".tmp"
        try! Data(text.utf8).write(to: URL(fileURLWithPath: tmp))
        precondition(rename(tmp, dir + "/" + name) == 0)
    }

    /// Writes a file in place (open, write, close): the watcher sees IN_CLOSE_WRITE.
    func write(_ path: String, _ text: String = "title: test\n") {
        try! Data(text.utf8).write(to: URL(fileURLWithPath: path), options: [])
    }

    func mkdir(_ path: String) { try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
    func list(_ path: String) -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() }
}

/// Collects a stream's elements in the background so tests can wait for a count.
final class Recorder<Element: Sendable>: Sendable {
    private let items: Items<Element>
    private let task: Task<Void, Never>

    init(_ stream: AsyncStream<Element>) {
        let items = Items<Element>()
        self.items = items
        task = Task { for await item in stream { items.append(item) } }
    }

    var all: [Element] { items.all }

    /// Waits (generously) until at least `count` elements arrived; returns them.
    func wait(for count: Int, timeout: Duration = .seconds(20)) async -> [Element] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if all.count >= count { return all }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return all
    }

    /// Waits `quiet` and returns everything, to check that nothing more arrives.
    func settle(_ quiet: Duration = .seconds(1)) async -> [Element] {
        try? await Task.sleep(for: quiet)
        return all
    }

    deinit { task.cancel() }
}

/// A Mutex is noncopyable: this class lets the collecting task and the recorder share one.
final class Items<Element: Sendable>: Sendable {
    private let items = Mutex<[Element]>([])
    func append(_ e: Element) { items.withLock { $0.append(e) } }
    var all: [Element] { items.withLock { $0 } }
}

/// Runs blocking work (writers with sleeps) off the cooperative pool.
func onThread(_ body: @escaping @Sendable () -> Void) async {
    await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
        Thread { body(); c.resume() }.start()
    }
}

let fastSettle = InboxWatcher.Options(settle: .milliseconds(200))
