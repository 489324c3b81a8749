import Contract
import Foundation
import Logging
import Synchronization

/// How a job given to a warm worker ended, seen from the supervisor.
enum WarmEnd: Sendable, Equatable {
    /// The worker sent its final message, then `idle`: it is alive and waits for the next job.
    case idle
    /// The process ended. `heard`: whether it had sent anything for this job (if not, the job never began in it: a
    /// worker killed between two jobs).
    case exited(WorkerExit, heard: Bool)
}

/// One `prostudio worker --spec TEMPLATE --serve` child: it runs the job specs written to its stdin one after the
/// other, keeping its model manager (and so its loaded models) between them. Its messages go to the job it runs now;
/// `idle` and the process's end close that job.
final class WarmWorker: Sendable {
    private struct State {
        var sink: AsyncStream<WorkerMessage>.Continuation?
        var waiter: CheckedContinuation<WarmEnd, Never>?
        var heard = false
        var exit: WorkerExit?
        var idle = WorkerIdle(packs: [], hostBytes: 0, gpuBytes: nil)
        var jobs = 0
        var idleSince = ContinuousClock.now
    }
    private let box: Box
    let pid: pid_t
    private let process: WorkerProcess

    /// The process's callbacks need the state before the process exists.
    private final class Box: Sendable {
        let state = Mutex(State())
    }

    init(executable: String, template: WorkerSpec) throws {
        let box = Box()
        let templateJSON = String(decoding: try JSONEncoder().encode(template), as: UTF8.self)
        process = try WorkerProcess(executable: executable, arguments: ["worker", "--spec", templateJSON, "--serve"], withInput: true,
                                    onMessage: { message in Self.received(message, box) },
                                    onExit: { exit in Self.ended(exit, box) })
        self.box = box
        pid = process.pid
    }

    private static func received(_ message: WorkerMessage, _ box: Box) {
        let (sink, waiter): (AsyncStream<WorkerMessage>.Continuation?, CheckedContinuation<WarmEnd, Never>?) = box.state.withLock { s in
            if case .idle(let idle) = message {
                s.idle = idle
                s.idleSince = .now
                defer { s.sink = nil; s.waiter = nil }
                return (nil, s.waiter)
            }
            s.heard = true
            return (s.sink, nil)
        }
        sink?.yield(message)
        waiter?.resume(returning: .idle)
    }

    private static func ended(_ exit: WorkerExit, _ box: Box) {
        let (waiter, heard) = box.state.withLock { s in
            s.exit = exit
            defer { s.sink = nil; s.waiter = nil }
            return (s.waiter, s.heard)
        }
        waiter?.resume(returning: .exited(exit, heard: heard))
    }

    var isAlive: Bool { box.state.withLock { $0.exit == nil } }
    var idleReport: WorkerIdle { box.state.withLock { $0.idle } }
    var idleSince: ContinuousClock.Instant { box.state.withLock { $0.idleSince } }
    var jobsRun: Int { box.state.withLock { $0.jobs } }

    /// Gives the worker `spec` and waits until it is idle again or gone. Its messages for the job go to `messages`.
    func run(_ spec: WorkerSpec, messages: AsyncStream<WorkerMessage>.Continuation) async -> WarmEnd {
        let line = (try? JSONEncoder().encode(spec)).map { $0 + Data([0x0A]) } ?? Data()
        return await withCheckedContinuation { (waiter: CheckedContinuation<WarmEnd, Never>) in
            let gone: WorkerExit? = box.state.withLock { s in
                if let exit = s.exit { return exit }
                s.sink = messages; s.waiter = waiter; s.heard = false; s.jobs += 1
                return nil
            }
            if let gone { waiter.resume(returning: .exited(gone, heard: false)); return }
            // A failed write means the child is gone or going: its reader thread resumes the waiter with the exit.
            _ = process.send(line)
        }
    }

    /// Asks the running job to stop (SIGTERM; SIGKILL after `grace`): the worker exits after it.
    func terminate(grace: Duration) { process.terminate(grace: grace) }

    /// Ends an idle worker: EOF on its stdin, then SIGKILL should it not be gone after `grace`.
    func retire(grace: Duration) {
        process.closeInput()
        let seconds = Double(grace.components.seconds) + Double(grace.components.attoseconds) / 1e18
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [process] in process.signal(SIGKILL) }
    }
}

/// The warm workers of one daemon: the one that ran the last job (its models loaded) and a spare started ahead, so
/// that a claimed job is given to a process that is already up. Used by the job loop only (one job at a time); the
/// lock is for the reader threads and the idle time-out.
final class WorkerPool: Sendable {
    let settings: WorkerSettings
    private let executable: String
    /// `limits.worker_grace_s`: how long a retired worker gets before SIGKILL.
    private let grace: Duration
    private let logger: Logger
    /// Idle workers, the most recently used first.
    private let idle = Mutex<[WarmWorker]>([])
    /// Counted for tests and the bench (`workers started`).
    let started = Atomic<Int>(0)

    init(executable: String, settings: WorkerSettings, grace: Duration, logger: Logger) {
        self.executable = executable
        self.grace = grace
        self.settings = settings
        self.logger = logger
    }

    /// The packs the next job would find loaded: the warm worker's, which `take` hands out first.
    var loadedPacks: Set<String> {
        idle.withLock { workers in Set(workers.first(where: { $0.isAlive })?.idleReport.packs ?? []) }
    }

    var idleCount: Int { idle.withLock { $0.filter(\.isAlive).count } }

    /// An idle worker (the warm one first), else a new one. Dead ones (killed while idle) are dropped on the way.
    func take(template: WorkerSpec) throws -> WarmWorker {
        let found = idle.withLock { workers -> WarmWorker? in
            workers.removeAll { !$0.isAlive }
            return workers.isEmpty ? nil : workers.removeFirst()
        }
        if let found { return found }
        return try start(template)
    }

    /// Starts a spare when none waits, so the next job (or this one's retry) does not wait for a process to start.
    func ensureSpare(template: WorkerSpec) {
        guard idleCount == 0 else { return }
        do {
            let spare = try start(template)
            idle.withLock { $0.append(spare) }
            expireLater()
        } catch {
            logger.warning("cannot start a spare worker", metadata: ["error": "\(error)"])
        }
    }

    /// After a job that left the worker idle: keep it in front while it fits the budget, else let it go.
    func giveBack(_ worker: WarmWorker) {
        let report = worker.idleReport
        let over = report.host_bytes > settings.maxHostBytes || (report.gpu_bytes ?? 0) > settings.maxGPUBytes
        if over || !worker.isAlive {
            logger.info("warm worker over its budget: retired", metadata: [
                "pid": "\(worker.pid)", "host_bytes": "\(report.host_bytes)", "gpu_bytes": "\(report.gpu_bytes ?? 0)"])
            worker.retire(grace: grace)
            return
        }
        // At most two wait: the warm one and a spare.
        let extra = idle.withLock { workers -> [WarmWorker] in
            workers.insert(worker, at: 0)
            guard workers.count > 2 else { return [] }
            defer { workers.removeLast(workers.count - 2) }
            return Array(workers[2...])
        }
        for w in extra { w.retire(grace: grace) }
        expireLater()
    }

    /// A check once `idle_timeout_s` has passed from now (each idle worker's own clock decides).
    private func expireLater() {
        let timeout = settings.idleTimeout
        Task { [self] in
            try? await Task.sleep(for: timeout + .milliseconds(10))
            retireExpired()
        }
    }

    /// Workers idle for `idle_timeout_s` exit, giving their memory back.
    func retireExpired() {
        let now = ContinuousClock.now, limit = settings.idleTimeout
        let expired = idle.withLock { workers -> [WarmWorker] in
            let old = workers.filter { now - $0.idleSince >= limit }
            workers.removeAll { w in old.contains { $0 === w } }
            return old
        }
        for w in expired {
            logger.debug("warm worker idle too long: retired", metadata: ["pid": "\(w.pid)"])
            w.retire(grace: grace)
        }
    }

    /// Shutdown: every idle worker exits; waits up to `grace` for them to go.
    func stopAll() async {
        let all = idle.withLock { workers in defer { workers.removeAll() }; return workers }
        for w in all { w.retire(grace: grace) }
        let deadline = ContinuousClock.now + grace + .milliseconds(500)
        while all.contains(where: \.isAlive) && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(10)) }
    }

    private func start(_ template: WorkerSpec) throws -> WarmWorker {
        let w = try WarmWorker(executable: executable, template: template)
        started.add(1, ordering: .relaxed)
        logger.debug("warm worker started", metadata: ["pid": "\(w.pid)"])
        return w
    }
}
