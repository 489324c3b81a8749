import ArgumentParser
import Daemon
import Dispatch
import Engines
import Foundation
import Spawn
import Logging
import Manifest
import Pipeline
import Synchronization

/// `prostudio worker --spec JSON`: runs one job for the daemon in a child process and reports typed messages
/// (`WorkerMessage`, one JSON line each, Docs/contract.md) on stdout; everything else it prints goes to stderr. It
/// writes no sidecar and no journal: the supervisor journals these messages and writes the sidecar from the journal.
/// SIGTERM stops it at the next checkpoint. `--serve` makes it a warm worker (WorkerServe.swift): job after job.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "Run one job for the daemon (internal: the daemon starts it).", shouldDisplay: false)

    @Option(help: "The job, as the daemon describes it (JSON); with --serve, the settings every job shares.")
    var spec: String

    @Flag(help: "Run job after job: one spec (JSON) per line on stdin, `idle` reported after each; EOF or `exit` ends it.")
    var serve = false

    func run() async throws {
        let spec: WorkerSpec
        do { spec = try JSONDecoder().decode(WorkerSpec.self, from: Data(self.spec.utf8)) } catch {
            exitWith("prostudio worker: bad --spec: \(error)", code: 1)
        }
        // Messages keep the real stdout; fd 1 then points at stderr, so a stray print cannot corrupt the stream.
        let messageFD = dup(STDOUT_FILENO)
        let channel = MessageChannel(fd: messageFD)
        dup2(STDERR_FILENO, STDOUT_FILENO)
        // A worker never outlives its supervisor: when the supervisor dies (kill -9 included) the pipe's reading end
        // closes, poll reports an error on ours, and the worker exits as soon as this thread runs. (A restarting
        // supervisor also stops any worker the last one left, before it sweeps: see `StaleWorkers`.)
        let watchTID = Atomic<Int32>(0)
        let watchStarted = DispatchSemaphore(value: 0)
        let orphanWatch = Thread {
            // Its thread id ("PID/task/TID"; gettid is not imported).
            let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self")) ?? ""
            watchTID.store(Int32(me.split(separator: "/").last ?? "") ?? 0, ordering: .relaxed)
            watchStarted.signal()
            var p = pollfd(fd: messageFD, events: 0, revents: 0)
            while true {
                let rc = poll(&p, 1, -1)
                if rc < 0 && errno == EINTR { continue }
                if rc != 0 { _exit(70) }
            }
        }
        orphanWatch.name = "prostudio.worker-orphan-watch"
        orphanWatch.start()
        watchStarted.wait()
        // A render takes every core it can; a lower priority (`limits.worker_nice`) keeps the supervisor beside it
        // (pick-up, the journal, the HTTP API and its /metrics) answering at once. Alone, the worker still gets every
        // core. The orphan watch keeps its priority: on busy cores it still exits at once when the supervisor dies.
        if let nice = spec.nice, nice > 0 {
            // Relative to the supervisor's own (a unit's Nice= included); lowering is all an unprivileged process may do.
            errno = 0
            let base = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
            Self.renice(min(19, (errno == 0 ? base : 0) + nice), except: watchTID.load(ordering: .relaxed))
        }
        if let limit = spec.memoryLimitBytes {
            var rl = rlimit(rlim_cur: rlim_t(limit), rlim_max: rlim_t(limit))
            if setrlimit(Int32(RLIMIT_AS.rawValue), &rl) != 0 { exitWith("prostudio worker: setrlimit: \(String(cString: strerror(errno)))", code: 1) }
        }
        let level = Logger.Level(rawValue: spec.logLevel) ?? .notice
        LoggingSystem.bootstrap { label in daemonLogHandler(label: label, level: level) }  // control characters escaped
        var logger = Logger(label: "prostudio.worker")
        logger.logLevel = level

        let stop = StopFlag()
        let signals = SignalTrap([SIGTERM, SIGINT]) { _ in stop.set() }
        defer { signals.cancel() }

        if serve {
            await WorkerServe.loop(template: spec, channel: channel, stop: stop, logger: logger)
        } else {
            let models = spec.models.map { URL(fileURLWithPath: $0) }
            let engines = ModelEngines.engineSet(models: models, cache: URL(fileURLWithPath: spec.cache), device: spec.device)
            await Self.runJob(spec, engines: engines, channel: channel, stop: stop, logger: logger)
        }
    }

    /// One job, start to end: its messages, then `done` or `failed`. (`engines`: a warm worker's are built on its kept
    /// model manager.)
    static func runJob(_ spec: WorkerSpec, engines: EngineSet, channel: MessageChannel, stop: StopFlag, logger: Logger) async {
        var defaults: ManifestDefaults?
        if let config = spec.config, let text = try? String(contentsOfFile: config, encoding: .utf8) {
            defaults = try? ManifestDefaults.fromConfig(yaml: text, file: config)
        }
        let models = spec.models.map { URL(fileURLWithPath: $0) }
        var options = PipelineOptions(
            outbox: URL(fileURLWithPath: spec.outbox), cache: URL(fileURLWithPath: spec.cache), models: models, defaults: defaults,
            cacheObserver: { event in
                switch event {
                case .stored(let name, let stage, let bytes): channel.send(.cacheStored(name: name, stage: stage, bytes: bytes))
                case .used(let name): channel.send(.cacheUsed(name: name))
                }
            },
            reporter: { channel.send($0) })
        options.work = spec.work.map { URL(fileURLWithPath: $0) }
        // The library engine keeps its indexes under the daemon's cache (state/cache/library/), beside the stage cache.
        let pipeline = Pipeline(options: options, engines: engines, logger: logger)
        let final: WorkerMessage
        do {
            _ = try await pipeline.run(
                manifestPath: spec.manifestPath, jobID: spec.jobID, name: spec.name, displayName: spec.displayName,
                progress: { channel.send(.progress(stage: $0.stage.rawValue, fraction: $0.fraction, overall: $0.overall, finished: $0.finished)) },
                isCancelled: { stop.isSet })
            final = .done
        } catch {
            final = .failed(error)
        }
        // The cache shrinks back to cache.max_gb after each job, least recently used entries first.
        let removed = StageCache(root: URL(fileURLWithPath: spec.cache)).prune(maxBytes: spec.cacheMaxBytes)
        if !removed.isEmpty { channel.send(.cacheRemoved(names: removed)) }
        channel.send(final)
    }

    /// Lowers every thread of this process but `keep` to `nice`. Linux keeps the nice value per thread:
    /// `setpriority(PRIO_PROCESS, 0, n)` lowers the calling thread alone, and a new thread takes its creator's, so
    /// each one is set; threads started later inherit it. A second pass catches one started during the first.
    static func renice(_ nice: Int32, except keep: Int32) {
        for _ in 0..<2 {
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? [] {
                guard let tid = Int32(entry), tid != keep else { continue }
                _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(tid), nice)
            }
        }
    }
}

/// SIGTERM/SIGINT seen: the job stops at its next checkpoint (and a warm worker exits after it).
final class StopFlag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .relaxed) }
    var isSet: Bool { value.load(ordering: .relaxed) }
}

/// Whole lines to the supervisor, one writer at a time (progress comes from the pipeline's thread, cache events
/// from wherever the cache is written).
final class MessageChannel: Sendable {
    private let fd: Mutex<Int32>
    init(fd: Int32) { self.fd = Mutex(fd) }

    func send(_ message: WorkerMessage) {
        let line = message.line()
        fd.withLock { fd in
            line.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                    if n < 0 { if errno == EINTR { continue }; return }
                    offset += n
                }
            }
        }
    }
}
