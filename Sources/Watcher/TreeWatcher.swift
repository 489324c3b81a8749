import CInotify
import Foundation
import Logging

/// Rings (yields) once a folder tree has changed and then stayed quiet for `settle`: how the daemon learns that a
/// footage library needs its index updated. Every sub-folder is watched (new ones as they appear); hidden and temp
/// names (`*.tmp`, `*.part`) are ignored, so a copy in progress rings once, when it is renamed or closed and quiet.
/// Raw inotify on its own thread, like `InboxWatcher`; rings that come while the previous one is unhandled merge.
public final class TreeWatcher: Sendable {
    public let folder: String
    public let rings: AsyncStream<Void>
    private let wake: WakeFD

    static let mask = UInt32(IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF
                             | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW)

    public init(folder: String, settle: Duration = .seconds(2), logger: Logger = Logger(label: "prostudio.tree-watcher")) throws {
        let folder = (folder as NSString).standardizingPath
        var st = stat()
        guard stat(folder, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else { throw InboxWatcher.Failure.noFolder(folder) }
        let ifd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard ifd >= 0 else { throw InboxWatcher.Failure.syscall("inotify_init1", path: folder, errno: errno) }
        let efd = cinotify_eventfd()
        guard efd >= 0 else { let e = errno; close(ifd); throw InboxWatcher.Failure.syscall("eventfd", path: folder, errno: e) }
        var paths: [Int32: String] = [:]
        Self.watchTree(folder, ifd: ifd, paths: &paths, logger: logger)
        guard !paths.isEmpty else {
            let e = errno; close(ifd); close(efd)
            throw InboxWatcher.Failure.syscall("inotify_add_watch", path: folder, errno: e)
        }
        self.folder = folder
        let wake = WakeFD(efd)
        self.wake = wake
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        rings = stream
        let settleMs = Int32(clamping: settle.components.seconds * 1000 + settle.components.attoseconds / 1_000_000_000_000_000)
        let initial = paths
        let thread = Thread {
            var paths = initial
            let size = 64 * 1024
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 8)
            defer { buffer.deallocate() }
            var fds = [pollfd(fd: ifd, events: Int16(POLLIN), revents: 0), pollfd(fd: efd, events: Int16(POLLIN), revents: 0)]
            var pending = false
            loop: while true {
                fds[0].revents = 0; fds[1].revents = 0
                // Asleep until an event; once something changed, until the tree has been quiet for `settle`.
                let n = poll(&fds, 2, pending ? settleMs : -1)
                if n < 0 { if errno == EINTR { continue }; break }
                if fds[1].revents != 0 { break }
                if n == 0 {
                    pending = false
                    continuation.yield()
                    continue
                }
                while true {
                    let got = read(ifd, buffer, size)
                    if got <= 0 { break }
                    var offset = 0
                    while offset + MemoryLayout<inotify_event>.size <= got {
                        let event = buffer.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
                        let name = String(cString: cinotify_event_name((buffer + offset).assumingMemoryBound(to: inotify_event.self)))
                        offset += MemoryLayout<inotify_event>.size + Int(event.len)
                        if event.mask & UInt32(IN_Q_OVERFLOW) != 0 { pending = true; continue }
                        if event.mask & UInt32(IN_IGNORED) != 0 { paths[event.wd] = nil; continue }
                        if name.hasPrefix(".") || name.hasSuffix(".tmp") || name.hasSuffix(".part") { continue }
                        pending = true
                        // A folder created or moved in: watch it and everything already inside it.
                        if event.mask & UInt32(IN_ISDIR) != 0, event.mask & UInt32(IN_CREATE | IN_MOVED_TO) != 0,
                           let parent = paths[event.wd] {
                            Self.watchTree(parent + "/" + name, ifd: ifd, paths: &paths, logger: logger)
                        }
                    }
                }
                // The library folder itself was removed or moved away: nothing left to watch.
                if paths.isEmpty {
                    logger.warning("library folder is gone; no longer watched", metadata: ["folder": "\(folder)"])
                    continuation.yield()
                    break loop
                }
            }
            wake.close()
            close(ifd)
            continuation.finish()
        }
        thread.name = "prostudio.tree-watcher"
        thread.start()
        continuation.onTermination = { _ in wake.ring() }
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
    public func stop() { wake.ring() }
    deinit { stop() }
}
