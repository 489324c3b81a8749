import CInotify
import Foundation
import Logging

/// The watcher's state machine. Confined to the watcher thread: nothing here is shared.
final class Loop {
    static let mask: UInt32 = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_MODIFY
        | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

    /// What identifies one version of an entry: a rewrite, an append or a replacement changes it.
    struct Identity: Equatable {
        var dev: UInt64, ino: UInt64, size: Int64, mtimeNanos: Int64
        init?(path: String) {
            var st = stat()
            guard lstat(path, &st) == 0 else { return nil }
            dev = UInt64(st.st_dev); ino = UInt64(st.st_ino); size = Int64(st.st_size)
            mtimeNanos = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        }
    }

    struct PendingFile {
        var deadline: UInt64
        var identity: Identity
        var trigger: Arrival.Trigger
    }

    /// A folder being filled in place.
    struct Folder {
        /// Nil while it cannot be ready (no manifest yet, or a file mid-write): only an event re-arms it.
        var deadline: UInt64?
        /// Files (relative paths) written to and not closed since.
        var openWriters: Set<String> = []
        var emitted = false
        var trigger: Arrival.Trigger
    }

    let inbox: String
    let inotify: InotifyLoop
    /// The inotify descriptor, for adding and removing watches.
    var fd: Int32 { inotify.fd }
    /// The inbox's own watch; replaced when the inbox is removed and recreated.
    var rootWD: Int32
    /// The watch on the inbox's parent folder, for the inbox's own removal: the inbox's IN_DELETE_SELF comes only
    /// once nothing holds it open, and the daemon holds it open (its inbox lock), so `rm -rf inbox` said nothing.
    var parentWD: Int32 = -1
    lazy var inboxName = (inbox as NSString).lastPathComponent
    let settle: UInt64
    let continuation: AsyncStream<Arrival>.Continuation
    let logger: Logger

    /// Watch descriptors of subfolders of job folders being filled in place, to their path relative to the inbox.
    var dirs: [Int32: String] = [:]
    var pendingFiles: [String: PendingFile] = [:]
    var folders: [String: Folder] = [:]
    /// What was last reported per name, so a rescan or a repeated close does not report the same version twice.
    var emitted: [String: Identity] = [:]

    init(inbox: String, inotify: InotifyLoop, rootWD: Int32, settleNanos: UInt64,
         continuation: AsyncStream<Arrival>.Continuation, logger: Logger) {
        self.inbox = inbox; self.inotify = inotify; self.rootWD = rootWD
        self.settle = settleNanos; self.continuation = continuation; self.logger = logger
    }

    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    func run() {
        // Best effort: without it (an unreadable parent) the inbox's own watch still notices most removals.
        parentWD = inotify_add_watch(fd, (inbox as NSString).deletingLastPathComponent, UInt32(IN_DELETE | IN_MOVED_FROM | IN_ONLYDIR))
        scan(trigger: .scanned)
        fireDue()
        let failure = inotify.run(timeoutMillis: timeoutMillis, onEvent: { handle(wd: $0.wd, mask: $0.mask, name: $0.name) },
                                  afterWake: { _ in
            if failed { return false }
            fireDue()
            return true
        })
        if let failure { logger.error("inbox watcher: poll failed", metadata: ["errno": "\(failure)"]) }
    }

    /// Sleep until the nearest deadline; forever when nothing is pending (idle costs no CPU).
    func timeoutMillis() -> Int32 {
        let deadlines = pendingFiles.values.map(\.deadline) + folders.values.compactMap { $0.emitted ? nil : $0.deadline }
        guard let next = deadlines.min() else { return -1 }
        let now = Self.now()
        if next <= now { return 0 }
        return Int32(min(UInt64(Int32.max), (next - now + 999_999) / 1_000_000))
    }

    // MARK: Events

    func has(_ mask: UInt32, _ flag: Int32) -> Bool { mask & UInt32(bitPattern: flag) != 0 }

    func handle(wd: Int32, mask: UInt32, name: String) {
        if has(mask, IN_Q_OVERFLOW) {
            logger.warning("inbox watcher: inotify queue overflowed; rescanning the inbox", metadata: ["inbox": "\(inbox)"])
            scan(trigger: .scanned)
            return
        }
        if wd == parentWD {
            if name == inboxName, has(mask, IN_ISDIR), has(mask, IN_DELETE) || has(mask, IN_MOVED_FROM) {
                logger.error("inbox watcher: the inbox itself was removed or moved; recreating and watching it again",
                             metadata: ["inbox": "\(inbox)"])
                if !rewatchInbox() { failed = true }
            }
            return
        }
        if wd == rootWD {
            if has(mask, IN_DELETE_SELF) || has(mask, IN_MOVE_SELF) || has(mask, IN_IGNORED) {
                // F11: after `rm -rf inbox` the watch is gone and nothing would ever be taken again.
                logger.error("inbox watcher: the inbox itself was removed or moved; recreating and watching it again",
                             metadata: ["inbox": "\(inbox)"])
                if !rewatchInbox() { failed = true }
                return
            }
            if !name.isEmpty { handleRoot(mask: mask, name: name) }
            return
        }
        if has(mask, IN_IGNORED) { dirs.removeValue(forKey: wd); return }
        guard let dir = dirs[wd] else { return }
        handleInFolder(dir: dir, mask: mask, name: name)
    }

    /// Set when the inbox cannot be watched any more: the loop ends and the stream finishes.
    var failed = false

    /// Recreates the inbox folder (when it is gone) and watches it again, then rescans it. False when it cannot.
    func rewatchInbox() -> Bool {
        inotify_rm_watch(fd, rootWD)
        for (wd, _) in dirs { inotify_rm_watch(fd, wd) }
        dirs = [:]; folders = [:]; pendingFiles = [:]; emitted = [:]
        do { try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true) } catch {
            logger.critical("inbox watcher: cannot recreate the inbox", metadata: ["inbox": "\(inbox)", "error": "\(error)"])
            return false
        }
        let wd = inotify_add_watch(fd, inbox, Self.mask)
        guard wd >= 0 else {
            logger.critical("inbox watcher: cannot watch the inbox again", metadata: ["inbox": "\(inbox)", "errno": "\(errno)"])
            return false
        }
        rootWD = wd
        scan(trigger: .scanned)
        return true
    }

    func handleRoot(mask: UInt32, name: String) {
        guard !InboxRules.isIgnored(name) else { return }
        let path = inbox + "/" + name
        if has(mask, IN_MOVED_FROM) || has(mask, IN_DELETE) {
            // Gone (usually: pick-up moved it out). Forget it, so the same name can arrive again.
            pendingFiles.removeValue(forKey: name)
            emitted.removeValue(forKey: name)
            if folders.removeValue(forKey: name) != nil { unwatchFolder(name) }
            return
        }
        if has(mask, IN_ISDIR) {
            if has(mask, IN_MOVED_TO) {
                folders.removeValue(forKey: name)
                emit(.folder, name: name, trigger: .movedIn)
            } else if has(mask, IN_CREATE) {
                trackFolder(name, trigger: .folderSettled)
            }
            return
        }
        guard InboxRules.isManifestName(name) else { return }
        if has(mask, IN_CREATE) {
            // F4: a hard link (`ln`) or a symlink, FIFO or socket made in place gives IN_CREATE and nothing after
            // it. A new file being written has one link and is taken at its close instead.
            var st = stat()
            guard lstat(path, &st) == 0 else { return }
            let isRegular = (st.st_mode & S_IFMT) == S_IFREG
            if (isRegular && st.st_nlink > 1) || !isRegular, let identity = Identity(path: path) {
                pendingFiles[name] = PendingFile(deadline: Self.now() + settle, identity: identity, trigger: .settled)
            }
            return
        }
        if has(mask, IN_MOVED_TO) {
            pendingFiles.removeValue(forKey: name)
            emit(.file, name: name, trigger: .movedIn)
        } else if has(mask, IN_CLOSE_WRITE) {
            guard let identity = Identity(path: path) else { return }
            pendingFiles[name] = PendingFile(deadline: Self.now() + settle, identity: identity, trigger: .settled)
        } else if has(mask, IN_MODIFY) {
            // A writer is (still) at work: wait for its next close.
            pendingFiles.removeValue(forKey: name)
        }
    }

    func handleInFolder(dir: String, mask: UInt32, name: String) {
        let top = String(dir.split(separator: "/", maxSplits: 1).first ?? Substring(dir))
        guard var folder = folders[top], !folder.emitted else { return }
        let rel = dir + "/" + name
        if has(mask, IN_ISDIR), has(mask, IN_CREATE) || has(mask, IN_MOVED_TO) {
            watchTree(rel)
        } else if has(mask, IN_MODIFY) {
            folder.openWriters.insert(rel)
        } else if has(mask, IN_CLOSE_WRITE) || has(mask, IN_DELETE) || has(mask, IN_MOVED_FROM) {
            folder.openWriters.remove(rel)
        }
        folder.deadline = Self.now() + settle
        folders[top] = folder
    }

    // MARK: Folders created in place

    func trackFolder(_ name: String, trigger: Arrival.Trigger) {
        guard folders[name] == nil else { return }
        folders[name] = Folder(deadline: Self.now() + settle, trigger: trigger)
        watchTree(name)
    }

    /// Watches a folder and its subfolders. Each watch is added before its folder is listed, so a subfolder
    /// made in between is seen either by the listing or by an event.
    func watchTree(_ rel: String) {
        let path = inbox + "/" + rel
        let wd = inotify_add_watch(fd, path, Self.mask)
        guard wd >= 0 else {
            logger.warning("inbox watcher: cannot watch folder", metadata: ["folder": "\(path)", "errno": "\(errno)"])
            return
        }
        dirs[wd] = rel
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: path) else { return }
        for entry in entries {
            var st = stat()
            if lstat(path + "/" + entry, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR { watchTree(rel + "/" + entry) }
        }
    }

    func unwatchFolder(_ name: String) {
        for (wd, rel) in dirs where rel == name || rel.hasPrefix(name + "/") {
            inotify_rm_watch(fd, wd)
            dirs.removeValue(forKey: wd)
        }
    }

    // MARK: Scans and deadlines

    /// Lists the inbox and treats every candidate as just closed: it is taken once it settles.
    func scan(trigger: Arrival.Trigger) {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: inbox) else { return }
        let now = Self.now()
        for name in entries where !InboxRules.isIgnored(name) {
            let path = inbox + "/" + name
            var st = stat()
            guard lstat(path, &st) == 0 else { continue }
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                if folders[name] == nil && emitted[name] == nil { trackFolder(name, trigger: trigger) }
            case S_IFREG:
                guard InboxRules.isManifestName(name), let identity = Identity(path: path) else { continue }
                if emitted[name] == identity || pendingFiles[name] != nil { continue }
                pendingFiles[name] = PendingFile(deadline: now + settle, identity: identity, trigger: trigger)
            default:
                // Symlinks, FIFOs and the like are never followed or opened: reported, so that pick-up rejects them
                // (`not_a_file`) with a sidecar.
                guard InboxRules.isManifestName(name), let identity = Identity(path: path) else { continue }
                if emitted[name] == identity || pendingFiles[name] != nil { continue }
                pendingFiles[name] = PendingFile(deadline: now + settle, identity: identity, trigger: trigger)
            }
        }
    }

    func fireDue() {
        let now = Self.now()
        for (name, pending) in pendingFiles where pending.deadline <= now {
            let path = inbox + "/" + name
            guard let identity = Identity(path: path) else { pendingFiles.removeValue(forKey: name); continue }
            if identity == pending.identity {
                pendingFiles.removeValue(forKey: name)
                if emitted[name] != identity { emit(.file, name: name, trigger: pending.trigger, identity: identity) }
            } else {
                // Changed during the settle interval: start over from this version.
                pendingFiles[name] = PendingFile(deadline: now + settle, identity: identity, trigger: pending.trigger)
            }
        }
        for (name, folder) in folders where !folder.emitted {
            guard let deadline = folder.deadline, deadline <= now else { continue }
            var next = folder
            next.deadline = nil
            // Ambiguous is reported too, so pick-up rejects it (`ambiguous_manifest`): waiting for it to resolve left a
            // folder copied in place (`cp -r`) with two manifests in the inbox forever, unreported (issue 27).
            if folder.openWriters.isEmpty, InboxRules.manifest(inFolder: inbox + "/" + name) != .none {
                next.emitted = true
                folders[name] = next
                emit(.folder, name: name, trigger: folder.trigger)
            } else {
                logger.debug("inbox watcher: folder not ready (no manifest yet, or a file mid-write)", metadata: ["folder": "\(name)"])
                folders[name] = next
            }
        }
    }

    func emit(_ kind: Arrival.Kind, name: String, trigger: Arrival.Trigger, identity: Identity? = nil) {
        let path = inbox + "/" + name
        emitted[name] = identity ?? Identity(path: path)
        logger.debug("inbox watcher: arrival", metadata: ["name": "\(name)", "kind": "\(kind.rawValue)", "trigger": "\(trigger.rawValue)"])
        continuation.yield(Arrival(kind: kind, name: name, path: path, trigger: trigger))
    }
}
