import CInotify
import Foundation
import Logging

/// Rings (yields) once a folder tree has changed and then stayed quiet for `settle`: how the daemon learns that a
/// footage library needs its index updated. Every sub-folder is watched (new ones as they appear); hidden and temp
/// names (`*.tmp`, `*.part`) are ignored, so a copy in progress rings once, when it is renamed or closed and quiet.
/// Rings that come while the previous one is unhandled merge.
public final class TreeWatcher: Sendable {
    public let folder: String
    public let rings: AsyncStream<Void>
    private let loop: InotifyLoop

    static let mask = UInt32(IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF
                             | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW)

    public init(folder: String, settle: Duration = .seconds(2), logger: Logger = Logger(label: "prostudio.tree-watcher")) throws {
        let folder = (folder as NSString).standardizingPath
        var st = stat()
        guard stat(folder, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else { throw InboxWatcher.Failure.noFolder(folder) }
        let loop = try InotifyLoop(path: folder)
        var paths: [Int32: String] = [:]
        Self.watchTree(folder, ifd: loop.fd, paths: &paths, logger: logger)
        guard !paths.isEmpty else {
            let e = errno
            loop.discard()
            throw InboxWatcher.Failure.syscall("inotify_add_watch", path: folder, errno: e)
        }
        self.folder = folder
        self.loop = loop
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        rings = stream
        let settleMs = Int32(clamping: settle.components.seconds * 1000 + settle.components.attoseconds / 1_000_000_000_000_000)
        let initial = paths
        loop.start(name: "prostudio.tree-watcher", { loop in
            var paths = initial
            var pending = false
            // Asleep until an event; once something changed, until the tree has been quiet for `settle`.
            _ = loop.run(timeoutMillis: { pending ? settleMs : -1 }, onEvent: { event in
                if event.has(IN_Q_OVERFLOW) { pending = true; return }
                if event.has(IN_IGNORED) { paths[event.wd] = nil; return }
                // The inbox's rule for names a writer uses on the way to the real one (hidden, `*.tmp`, `*.part`, ...).
                if InboxRules.isIgnored(event.name) && !event.name.isEmpty { return }
                pending = true
                // A folder created or moved in: watch it and everything already inside it.
                if event.has(IN_ISDIR), event.has(IN_CREATE) || event.has(IN_MOVED_TO), let parent = paths[event.wd] {
                    Self.watchTree(parent + "/" + event.name, ifd: loop.fd, paths: &paths, logger: logger)
                }
            }, afterWake: { timedOut in
                if timedOut {
                    pending = false
                    continuation.yield()
                    return true
                }
                // The library folder itself was removed or moved away: nothing left to watch.
                if paths.isEmpty {
                    logger.warning("library folder is gone; no longer watched", metadata: ["folder": "\(folder)"])
                    continuation.yield()
                    return false
                }
                return true
            })
        }, finished: { continuation.finish() })
        continuation.onTermination = { _ in loop.stop() }
    }

    /// Adds a watch on `root` and every folder below it (symlinks not followed, hidden folders skipped).
    static func watchTree(_ root: String, ifd: Int32, paths: inout [Int32: String], logger: Logger) {
        var stack = [root]
        while let dir = stack.popLast() {
            let wd = inotify_add_watch(ifd, dir, mask)
            guard wd >= 0 else {
                if dir != root || errno == ENOSPC {
                    logger.warning("cannot watch a library folder", metadata: ["folder": "\(dir)", "error": "\(String(cString: strerror(errno)))"])
                }
                continue
            }
            paths[wd] = dir
            for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where !name.hasPrefix(".") {
                let path = dir + "/" + name
                var st = stat()
                if lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR { stack.append(path) }
            }
        }
    }

    /// Stops watching; `rings` finishes. Safe to call more than once, from anywhere.
    public func stop() { loop.stop() }
    deinit { stop() }
}
