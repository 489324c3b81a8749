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

    public typealias Failure = Spawner.Failure

    /// `timeout`: past it the child is killed (SIGKILL) and what it wrote so far is returned, with `timedOut` set.
    public static func run(_ executable: String, arguments: [String] = [], input: Data = Data(), timeout: Duration? = nil) throws(Failure) -> Output {
        let child = try Spawner.start(executable, arguments: arguments, stdin: .pipe, stdout: .pipe, stderr: .pipe)
        let pid = child.pid
        // Non-nil: all three were asked for as `.pipe`.
        let outFD = child.stdout!, errFD = child.stderr!

        var toWrite = input[...]
        var stdinFD: Int32 = child.stdin!
        var out = Data(), err = Data()
        var open: [Int32: Bool] = [outFD: true, errFD: true]
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
            for fd in [outFD, errFD] where open[fd] == true { fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0)) }
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
                        if p.fd == outFD { out.append(contentsOf: buffer[0..<got]) } else { err.append(contentsOf: buffer[0..<got]) }
                    } else if got == 0 || (errno != EINTR && errno != EAGAIN) {
                        open[p.fd] = false
                    }
                }
            }
        }
        if stdinFD >= 0 { close(stdinFD) }
        close(outFD); close(errFD)
        return Output(status: Spawner.wait(pid), stdout: out, stderr: err, timedOut: timedOut)
    }
}
