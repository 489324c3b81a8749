import Foundation

/// Errors that stop the daemon from starting (the CLI prints them and exits 1).
public enum DaemonError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Another process holds the state folder's lock.
    case alreadyRunning(lockFile: String, pid: Int32?)
    /// The lock file could not be opened or locked for another reason.
    case lock(lockFile: String, errno: Int32)
    /// The journal is missing or empty while job folders exist: starting would silently forget those jobs.
    case journalMissing(journal: String, jobFolders: Int)
    /// `PRAGMA integrity_check` did not answer `ok`.
    case journalCorrupt(journal: String, detail: String)
    /// The inbox was removed and could not be recreated and watched again.
    case inboxLost(inbox: String)
    /// Another daemon (another state folder, or this one's state folder deleted under it) takes arrivals from this inbox.
    case inboxInUse(inbox: String, pid: Int32?)
    /// The state folder, its journal or its lock was removed or replaced under the running daemon.
    case stateLost(state: String, detail: String)

    public var description: String {
        switch self {
        case .alreadyRunning(let file, let pid):
            "another prostudio daemon (pid \(pid.map(String.init) ?? "unknown")) holds \(file); "
                + "one daemon per state folder: stop it first, or give this one another --state"
        case .lock(let file, let e):
            "cannot lock \(file): \(String(cString: strerror(e)))"
        case .journalMissing(let journal, let n):
            "the journal \(journal) is missing or empty but the state folder holds \(n) job folders; refusing to start "
                + "(it would forget them). Run `prostudio doctor --repair` to rebuild the journal from state/jobs and the outbox sidecars"
        case .inboxInUse(let inbox, let pid):
            "another prostudio daemon (pid \(pid.map(String.init) ?? "unknown")) takes arrivals from \(inbox); one daemon per inbox: "
                + "stop it first (if its state folder was deleted under it, it is stopping: start this one again once it has)"
        case .stateLost(let state, let detail):
            "\(detail) under the running daemon; stopped, so that no second daemon works on the same folders beside it. "
                + "The state folder \(state) is the daemon's lock: restart the service (a new state folder starts empty; "
                + "`prostudio doctor --repair` rebuilds the journal from the job folders and sidecars)"
        case .inboxLost(let inbox):
            "the inbox \(inbox) was removed and cannot be recreated or watched; stopped so that the service manager restarts the daemon"
        case .journalCorrupt(let journal, let detail):
            "the journal \(journal) cannot be opened or failed its integrity check (\(detail)); refusing to start. "
                + "Move it aside and run `prostudio doctor --repair` to rebuild it from state/jobs and the outbox sidecars"
        }
    }
}

/// One daemon per state folder: an exclusive `flock` on `STATE/daemon.lock`, held for the daemon's life.
/// The holder's PID is written into the file so a second daemon can name it. The kernel drops the lock when the
/// holder exits, however it exits (kill -9 included), so a stale file never blocks a restart.
public final class StateLock: Sendable {
    public let path: String
    private let fd: Int32

    /// Takes the lock or throws `DaemonError.alreadyRunning` naming the holder.
    public init(state: String) throws(DaemonError) {
        path = state + "/daemon.lock"
        // O_CLOEXEC: child processes (workers, the espeak helper) must not inherit and keep the lock.
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .lock(lockFile: path, errno: errno) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let e = errno
            let holder = Self.readPID(fd)
            close(fd)
            if e == EWOULDBLOCK { throw .alreadyRunning(lockFile: path, pid: holder) }
            throw .lock(lockFile: path, errno: e)
        }
        let text = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
        self.fd = fd
    }

    /// The PID recorded by whoever holds (or last held) the lock.
    public static func holder(state: String) -> Int32? {
        let fd = open(state + "/daemon.lock", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return readPID(fd)
    }

    /// The PID of the process holding the lock now, from /proc/locks (no lock is taken, so asking can never make a
    /// starting daemon fail); nil when no daemon runs on `state`.
    public static func liveHolder(state: String) -> Int32? { flockHolder(path: state + "/daemon.lock") }

    /// The PID holding an exclusive `flock` on `path`, from /proc/locks.
    static func flockHolder(path: String) -> Int32? {
        var st = stat()
        guard stat(path, &st) == 0,
              let text = try? String(contentsOfFile: "/proc/locks", encoding: .utf8) else { return nil }
        // "1: FLOCK  ADVISORY  WRITE 24113 fe:00:16220311 0 EOF": pid, then major:minor:inode (hex device numbers).
        let major = (st.st_dev >> 8) & 0xfff | ((st.st_dev >> 32) & ~0xfff)
        let minor = (st.st_dev & 0xff) | ((st.st_dev >> 12) & ~0xff)
        let suffix = ":\(st.st_ino)"
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count >= 6, f[1] == "FLOCK", f[3] == "WRITE", f[5].hasSuffix(suffix) else { continue }
            let dev = f[5].dropLast(suffix.count).split(separator: ":")
            guard dev.count == 2, UInt64(dev[0], radix: 16) == UInt64(major), UInt64(dev[1], radix: 16) == UInt64(minor) else { continue }
            return Int32(f[4])
        }
        return nil
    }

    private static func readPID(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = pread(fd, &buffer, buffer.count, 0)
        guard n > 0 else { return nil }
        return Int32(String(decoding: buffer[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}

/// The daemon's second lock, on the inbox folder itself: the state folder's lock file can be deleted with the folder
/// (`rm -rf state`), and a second daemon would then take the lock anew and take arrivals beside the first. Deleting the
/// state folder cannot remove this one; and the first daemon notices its state folder went and stops (see `FileBell`).
public final class InboxLock: Sendable {
    private let fd: Int32

    public init(inbox: String) throws(DaemonError) {
        let fd = open(inbox, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .lock(lockFile: inbox, errno: errno) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let e = errno
            close(fd)
            if e == EWOULDBLOCK { throw .inboxInUse(inbox: inbox, pid: StateLock.flockHolder(path: inbox)) }
            throw .lock(lockFile: inbox, errno: e)
        }
        self.fd = fd
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
