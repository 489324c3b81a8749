import Foundation

/// Runs a helper process to completion: writes its standard input, collects its standard output and error, and
/// returns them with its exit status. One `poll` loop serves all three pipes, so a child that writes megabytes to
/// both outputs before (or while) reading its input can never block on a full pipe while this side waits on another
/// (the classic deadlock of reading stdout to EOF, then stderr). Standard input is written with
/// MSG_NOSIGNAL: a child that exits without reading it gives EPIPE here, not a SIGPIPE that would kill the caller.
public enum ChildProcess {
    public struct Output: Sendable {
        /// The exit status, or 128 + the signal number for a child killed by a signal (as a shell reports it).
        public var status: Int32
        public var stdout: Data
        public var stderr: Data
        /// The child outlived `timeout` and was killed (SIGKILL).
        public var timedOut = false
    }

    public struct Failure: Error, CustomStringConvertible {
        public var executable: String
        public var call: String
        public var errno: Int32
        public var description: String { "cannot run \(executable): \(call): \(String(cString: strerror(errno)))" }
    }

    /// `timeout`: past it the child is killed (SIGKILL) and what it wrote so far is returned, with `timedOut` set.
    public static func run(_ executable: String, arguments: [String] = [], input: Data = Data(), timeout: Duration? = nil) throws(Failure) -> Output {
        func fail(_ call: String, _ e: Int32 = errno) -> Failure { Failure(executable: executable, call: call, errno: e) }
        // Socket pairs, created close-on-exec in one call: a helper spawned meanwhile by another thread cannot inherit
        // an end (it would hold our EOF back until it exits).
        var stdinPair: [Int32] = [-1, -1], outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1]
        let kind = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        guard socketpair(AF_UNIX, kind, 0, &stdinPair) == 0 else { throw fail("socketpair") }
        guard socketpair(AF_UNIX, kind, 0, &outPipe) == 0 else { let e = errno; closeAll(stdinPair); throw fail("socketpair", e) }
        guard socketpair(AF_UNIX, kind, 0, &errPipe) == 0 else { let e = errno; closeAll(stdinPair + outPipe); throw fail("socketpair", e) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdinPair[1], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        // The child starts with default signal handling and nothing blocked, whatever its parent ignores.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for sig in [SIGPIPE, SIGTERM, SIGINT] { sigaddset(&defaults, sig) }
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
        closeAll([stdinPair[1], outPipe[1], errPipe[1]])
        guard rc == 0 else { closeAll([stdinPair[0], outPipe[0], errPipe[0]]); throw fail("posix_spawn", rc) }

        var toWrite = input[...]
        var stdinFD: Int32 = stdinPair[0]
        var out = Data(), err = Data()
        var open: [Int32: Bool] = [outPipe[0]: true, errPipe[0]: true]
        if toWrite.isEmpty { shutdown(stdinFD, Int32(SHUT_WR)); close(stdinFD); stdinFD = -1 }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        let deadline = timeout.map { ContinuousClock.now + $0 }
        var timedOut = false
        while open.values.contains(true) || stdinFD >= 0 {
            var wait: Int32 = -1
            if let deadline, !timedOut {
                let left = ContinuousClock.now.duration(to: deadline)
                if left <= .zero {
                    // Killed, its pipes close and the loop drains them to EOF.
                    kill(pid, SIGKILL); timedOut = true
                    if stdinFD >= 0 { close(stdinFD); stdinFD = -1 }
                    continue
                }
                wait = Int32(min(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1, 60_000))
            }
            var fds: [pollfd] = []
            if stdinFD >= 0 { fds.append(pollfd(fd: stdinFD, events: Int16(POLLOUT), revents: 0)) }
            for fd in [outPipe[0], errPipe[0]] where open[fd] == true { fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0)) }
            let n = poll(&fds, nfds_t(fds.count), wait)
            if n < 0 { if errno == EINTR { continue }; break }
            for p in fds where p.revents != 0 {
                if p.fd == stdinFD {
                    // Never blocks: a full socket buffer takes what fits (MSG_DONTWAIT), the rest on the next turn.
                    let sent = toWrite.withUnsafeBytes { send(stdinFD, $0.baseAddress, min($0.count, 64 * 1024), Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
                    if sent > 0 { toWrite = toWrite.dropFirst(sent) }
                    if (sent < 0 && errno != EAGAIN && errno != EINTR) || toWrite.isEmpty {
                        // Done, or the child stopped reading (EPIPE): it sees EOF; what it wrote is still collected.
                        close(stdinFD); stdinFD = -1
                    }
                } else {
                    let got = buffer.withUnsafeMutableBytes { read(p.fd, $0.baseAddress, $0.count) }
                    if got > 0 {
                        if p.fd == outPipe[0] { out.append(contentsOf: buffer[0..<got]) } else { err.append(contentsOf: buffer[0..<got]) }
                    } else if got == 0 || (errno != EINTR && errno != EAGAIN) {
                        open[p.fd] = false
                    }
                }
            }
        }
        if stdinFD >= 0 { close(stdinFD) }
        closeAll([outPipe[0], errPipe[0]])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        // WIFSIGNALED / WEXITSTATUS by hand (the macros are not imported).
        let signal = status & 0x7F
        return Output(status: signal != 0 ? 128 + signal : (status >> 8) & 0xFF, stdout: out, stderr: err, timedOut: timedOut)
    }

    private static func closeAll(_ fds: [Int32]) { for fd in fds where fd >= 0 { close(fd) } }
}
