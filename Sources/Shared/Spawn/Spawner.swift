import Foundation

/// The one way ProStudio starts a child process: workers, the warm pool, `library index`, the espeak helper,
/// webhook commands, fontconfig queries and the model export scripts all come through here.
///
/// Why not swift-subprocess (1.0.2 is on the mirror): its `run` is async and owns the child until it ends, while the
/// supervisor must signal a long-lived worker from other threads and must never signal a PID that was reaped and
/// may be reused (`WorkerProcess` waits with `waitid(WNOWAIT)` and reaps under a lock); and the engines that run
/// helpers are synchronous, so an async spawner would need one more semaphore bridge. What it would have given us,
/// close-on-exec ends and a child with default signals, is the few lines below.
public enum Spawner {
    /// Where one of the child's standard streams goes.
    public enum Stream: Sendable {
        /// The parent's own.
        case inherit
        /// /dev/null.
        case null
        /// A socket whose other end the parent gets (`Started.stdin`/`stdout`/`stderr`). A socket, not a pipe, so the
        /// parent can write with MSG_NOSIGNAL: a child that exits without reading gives EPIPE, never SIGPIPE.
        case pipe
        /// A file, created or truncated (mode 0600).
        case file(String)
        /// stderr only: the same place as stdout.
        case toStdout
    }

    /// A started child: its PID and the parent's ends of the streams asked for as `.pipe` (close-on-exec).
    public struct Started: Sendable {
        public let pid: pid_t
        public let stdin: Int32?
        public let stdout: Int32?
        public let stderr: Int32?
    }

    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var executable: String
        public var call: String
        public var errno: Int32
        public init(executable: String, call: String, errno: Int32) { self.executable = executable; self.call = call; self.errno = errno }
        public var description: String { "cannot run \(executable): \(call): \(String(cString: strerror(errno)))" }
    }

    /// Signals the child starts with at their default action whatever the parent does with them (the daemon ignores
    /// SIGTERM, SIGINT, SIGHUP and SIGUSR1/2 for its dispatch sources; a caller may ignore SIGPIPE).
    static let defaulted: [Int32] = [SIGTERM, SIGINT, SIGPIPE, SIGHUP, SIGUSR1, SIGUSR2]

    /// Starts `executable` (a path; no PATH search) with `arguments`, the parent's environment, and no signal blocked.
    /// `directory`: the child's working folder (else the parent's).
    public static func start(_ executable: String, arguments: [String] = [], stdin: Stream = .inherit,
                             stdout: Stream = .inherit, stderr: Stream = .inherit, directory: String? = nil) throws(Failure) -> Started {
        func fail(_ call: String, _ e: Int32 = errno) -> Failure { Failure(executable: executable, call: call, errno: e) }
        // Socket pairs are made close-on-exec in the same call: a child spawned meanwhile by another thread cannot
        // inherit an end (a kept writing end would hide this child's EOF or exit from its reader).
        var ours: [Int32] = [], theirs: [Int32] = []
        func closeAll() { for fd in ours + theirs { close(fd) } }
        func pair() throws(Failure) -> (ours: Int32, theirs: Int32) {
            var fds: [Int32] = [-1, -1]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
                let e = errno; closeAll(); throw fail("socketpair", e)
            }
            ours.append(fds[0]); theirs.append(fds[1])
            return (fds[0], fds[1])
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var parentEnds: [Int32?] = [nil, nil, nil]
        for (fd, stream) in [(Int32(0), stdin), (1, stdout), (2, stderr)] {
            switch stream {
            case .inherit: break
            case .null: posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0)
            case .file(let path): posix_spawn_file_actions_addopen(&actions, fd, path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            case .toStdout: posix_spawn_file_actions_adddup2(&actions, 1, fd)
            case .pipe:
                let (mine, child) = try pair()
                parentEnds[Int(fd)] = mine
                posix_spawn_file_actions_adddup2(&actions, child, fd)
            }
        }
        if let directory {
            guard let addchdir = Self.addchdir else { closeAll(); throw fail("posix_spawn_file_actions_addchdir_np", ENOSYS) }
            let rc = addchdir(&actions, directory)
            guard rc == 0 else { closeAll(); throw fail("posix_spawn_file_actions_addchdir_np", rc) }
        }

        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for sig in defaulted { sigaddset(&defaults, sig) }
        posix_spawnattr_setsigdefault(&attr, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        var cArgs = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        var cEnv = ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in cEnv { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attr, &cArgs, &cEnv)
        for fd in theirs { close(fd) }
        theirs = []
        guard rc == 0 else { closeAll(); throw fail("posix_spawn", rc) }
        return Started(pid: pid, stdin: parentEnds[0], stdout: parentEnds[1], stderr: parentEnds[2])
    }

    /// glibc's (2.29+) chdir file action, looked up at run time: Swift's Glibc module does not import the `_np` names.
    private typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    nonisolated(unsafe) private static let addchdir: AddChdir? = {
        // Read-only after this initialiser (a `let` of a C function pointer), so sharing it across threads is safe.
        guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "posix_spawn_file_actions_addchdir_np") else { return nil }
        return unsafeBitCast(symbol, to: AddChdir.self)
    }()

    /// Waits for `pid` and reaps it: the exit status, or 128 + the signal for a child killed by one (as a shell says).
    public static func wait(_ pid: pid_t) -> Int32 { shellStatus(rawWait(pid)) }

    /// `waitpid`'s raw status, retried over EINTR.
    public static func rawWait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return status
    }

    /// WIFSIGNALED / WEXITSTATUS by hand (the macros are not imported): 128 + signal, or the exit code.
    public static func shellStatus(_ raw: Int32) -> Int32 {
        let signal = raw & 0x7F
        return signal != 0 && signal != 0x7F ? 128 + signal : (raw >> 8) & 0xFF
    }

    /// Writes all of `data` to a `.pipe` end; false when the child stopped reading (EPIPE, never SIGPIPE).
    public static func writeAll(_ fd: Int32, _ data: Data) -> Bool {
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if n < 0 { if errno == EINTR { continue }; return false }
                offset += n
            }
            return true
        }
    }
}
