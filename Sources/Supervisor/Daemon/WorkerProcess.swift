import Contract
import Failures
import Foundation
import Spawn
import Synchronization

/// What `prostudio worker` is asked to run: one job, start to end.
public struct WorkerSpec: Codable, Sendable, Equatable {
    public var jobID: String
    public var name: String
    public var manifestPath: String
    public var displayName: String?
    public var outbox: String
    public var cache: String
    public var models: String?
    /// The daemon's config file, whose `defaults:` apply to manifests.
    public var config: String?
    /// RLIMIT_AS for the worker (bytes); nil for no limit.
    public var memoryLimitBytes: Int64?
    /// After the job the worker prunes the stage cache to this size (least recently used first).
    public var cacheMaxBytes: Int64
    public var logLevel: String
    /// Which GPU the worker's models use and how much of it (`device:` in the config); nil for the defaults.
    public var device: DeviceSettings?
    /// How much nicer than the supervisor the worker runs (`limits.worker_nice`); nil or 0: the same.
    public var nice: Int32?
    /// Where the job's work folder goes (the partial MP4 and the mix while compose writes them): `STATE/work`, so a
    /// render never fills the outbox half-way; nil: the outbox (an older daemon's spec).
    public var work: String?
    /// A warm worker's model manager budget (`workers.max_host_mb` on the CPU, `max_gpu_mb` on CUDA): how many
    /// components it may keep loaded together. nil (a one-job worker): one at a time.
    public var modelBudgetBytes: Int64?
    /// The same when the models run on CUDA (`workers.max_gpu_mb`).
    public var modelBudgetGPUBytes: Int64?

    public init(jobID: String, name: String, manifestPath: String, displayName: String?, outbox: String, cache: String,
                models: String?, config: String?, memoryLimitBytes: Int64?, cacheMaxBytes: Int64, logLevel: String,
                device: DeviceSettings? = nil, nice: Int32? = nil, work: String? = nil) {
        self.jobID = jobID; self.name = name; self.manifestPath = manifestPath; self.displayName = displayName
        self.outbox = outbox; self.cache = cache; self.models = models; self.config = config
        self.memoryLimitBytes = memoryLimitBytes; self.cacheMaxBytes = cacheMaxBytes; self.logLevel = logLevel
        self.device = device; self.nice = nice; self.work = work
    }
}

/// How a worker process ended.
public enum WorkerExit: Sendable, Equatable {
    case exited(Int32)
    case signaled(Int32)

    public var description: String {
        switch self {
        case .exited(let code): "exited with status \(code)"
        case .signaled(let sig): "was killed by signal \(sig) (\(Self.signalName(sig)))"
        }
    }

    static func signalName(_ sig: Int32) -> String {
        switch sig {
        case SIGKILL: "SIGKILL; out of memory or killed"
        case SIGSEGV: "SIGSEGV"
        case SIGABRT: "SIGABRT"
        case SIGBUS: "SIGBUS"
        case SIGILL: "SIGILL"
        case SIGFPE: "SIGFPE"
        case SIGTERM: "SIGTERM"
        case SIGTRAP: "SIGTRAP"
        default: String(cString: strsignal(sig))
        }
    }
}

/// One `prostudio worker` child process. Its stdout is read on a thread of its own, line by line, until EOF, so a
/// full pipe can never block it; then the child is reaped. `terminate` sends SIGTERM, then SIGKILL after a grace
/// period; a reaped child is never signalled (its PID may have been reused).
final class WorkerProcess: Sendable {
    let pid: pid_t
    /// The writing end of the child's stdin (a warm worker's job specs); nil when the child got none.
    private let input: InputPipe
    /// True once reaped; guards every kill so that a recycled PID is never hit.
    private let reaped = ReapedFlag()

    final class ReapedFlag: Sendable {
        private let value = Mutex(false)
        /// Reaps `pid` (which has exited: see `waitid(WNOWAIT)` in the reader) and marks it, under the lock.
        func reap(_ pid: pid_t) -> Int32 {
            value.withLock { reaped in
                let status = Spawner.rawWait(pid)
                reaped = true
                return status
            }
        }
        /// Runs `body` only while the child is not reaped, holding the lock so reaping waits for it.
        func ifAlive(_ body: () -> Void) { value.withLock { if !$0 { body() } } }
    }

    enum Failure: Error, CustomStringConvertible {
        case spawn(String, Int32)
        var description: String {
            switch self { case .spawn(let path, let e): "cannot start the worker \(path): \(String(cString: strerror(e)))" }
        }
    }

    /// Starts `executable worker --spec JSON`; `onMessage` sees each message (on the reader thread), `onExit` the end.
    convenience init(executable: String, spec: WorkerSpec, onMessage: @escaping @Sendable (WorkerMessage) -> Void,
                     onExit: @escaping @Sendable (WorkerExit) -> Void) throws {
        let specJSON = String(decoding: try JSONEncoder().encode(spec), as: UTF8.self)
        try self.init(executable: executable, arguments: ["worker", "--spec", specJSON], onMessage: onMessage, onExit: onExit)
    }

    /// Starts `executable arguments...` (other child commands, such as `library index`, reuse the same care).
    /// `stderrPath`: a file for the child's stderr (else it shares the daemon's).
    /// `withInput`: give the child a pipe on stdin (`send`, `closeInput`); else it inherits the daemon's.
    init(executable: String, arguments: [String], stderrPath: String? = nil, withInput: Bool = false,
         onMessage: @escaping @Sendable (WorkerMessage) -> Void, onExit: @escaping @Sendable (WorkerExit) -> Void) throws {
        let started: Spawner.Started
        do {
            started = try Spawner.start(executable, arguments: arguments, stdin: withInput ? .pipe : .inherit, stdout: .pipe,
                                        stderr: stderrPath.map { .file($0) } ?? .inherit)
        } catch { throw Failure.spawn(executable, error.errno) }
        let pid = started.pid
        // Non-nil: stdout was asked for as `.pipe`.
        let readFD = started.stdout!
        self.pid = pid
        self.input = InputPipe(started.stdin)
        let input = self.input
        let childPID = pid

        let reaped = self.reaped
        let thread = Thread {
            var pending = Data()
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(readFD, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                pending.append(contentsOf: buffer[0..<n])
                while let newline = pending.firstIndex(of: 0x0A) {
                    let line = pending[pending.startIndex..<newline]
                    pending = Data(pending[(newline + 1)...])
                    if let message = try? WorkerMessage.decode(line: line) { onMessage(message) }
                }
            }
            close(readFD)
            // Wait for the exit without reaping (a zombie keeps its PID, so a kill meanwhile is still safe), then
            // reap under the flag's lock.
            var info = siginfo_t()
            while waitid(P_PID, id_t(childPID), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR {}
            let raw = reaped.reap(childPID)
            input.close()
            // WIFSIGNALED / WEXITSTATUS by hand (the macros are not imported).
            let signal = raw & 0x7F
            onExit(signal != 0 && signal != 0x7F ? .signaled(signal) : .exited((raw >> 8) & 0xFF))
        }
        thread.name = "prostudio.worker-\(childPID)"
        thread.start()
    }

    /// Writes one whole line to the child's stdin. False when it cannot (no pipe, closed, the child gone: EPIPE); the
    /// reader then sees the exit.
    func send(_ line: Data) -> Bool { input.send(line) }

    /// Closes the child's stdin: a warm worker reads EOF and exits.
    func closeInput() { input.close() }

    /// The writing end of a child's stdin, closed once (by the pool, or when the child is reaped).
    final class InputPipe: Sendable {
        private let fd: Mutex<Int32?>
        init(_ fd: Int32?) { self.fd = Mutex(fd) }

        func send(_ line: Data) -> Bool {
            fd.withLock { fd in fd.map { Spawner.writeAll($0, line) } ?? false }
        }

        func close() {
            fd.withLock { fd in
                if let open = fd { _ = Glibc.close(open) }
                fd = nil
            }
        }
    }

    func signal(_ sig: Int32) {
        reaped.ifAlive { _ = kill(pid, sig) }
    }

    /// SIGTERM now (the worker stops at its next checkpoint), SIGKILL if it is still there after `grace`.
    func terminate(grace: Duration) {
        signal(SIGTERM)
        let seconds = Double(grace.components.seconds) + Double(grace.components.attoseconds) / 1e18
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [self] in signal(SIGKILL) }
    }
}
