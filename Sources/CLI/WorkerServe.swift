import Contract
import Failures
import Daemon
import Foundation
import Logging
import TorchRuntime

/// `prostudio worker --spec TEMPLATE --serve`: a warm worker. It reads one job spec per line on stdin and runs each as
/// the one-job worker would, keeping one thing between jobs: its model manager, so models stay loaded (within
/// `modelBudgetBytes`). After each job it sends `idle` with the packs it holds. EOF on stdin (the supervisor gone or
/// retiring it) or an `exit` line ends it; so does a SIGTERM, once the job it stopped has reported.
enum WorkerServe {
    static func loop(template: WorkerSpec, channel: MessageChannel, stop: StopFlag, logger: Logger) async {
        let models = template.models.map { URL(fileURLWithPath: $0) }
        // The budget of the memory the models will sit in: the GPU's when there is one, else the host's.
        let onGPU = Device.preferred(index: template.device?.index ?? 0).isCUDA
        let budget = onGPU ? template.modelBudgetGPUBytes : template.modelBudgetBytes
        let manager = ModelEngines.modelManager(models: models, device: template.device, budgetBytes: budget)
        let baseline = JobIsolation.capture()
        while let line = await nextLine() {
            if line == "exit" { break }
            if line.isEmpty { continue }
            guard let spec = try? JSONDecoder().decode(WorkerSpec.self, from: Data(line.utf8)) else {
                channel.send(.failed(JobFailure(code: "worker.protocol", message: "prostudio worker --serve: a line on stdin is not a job spec "
                                                + "(expected one WorkerSpec as JSON): \(line.prefix(200))")))
                channel.send(.idle(await idleReport(manager)))
                continue
            }
            // Records left by an earlier job (one that failed between a use and its stage's end) are not this job's.
            _ = await manager.drainRecords()
            let scratch = JobIsolation.begin(spec)
            // Engines are built anew per job (their in-memory state, such as a library's index, re-read from disk);
            // only the manager, and so the loaded models, carries over.
            let engines = ModelEngines.engineSet(models: models, cache: URL(fileURLWithPath: spec.cache), device: spec.device, manager: manager)
            await WorkerCommand.runJob(spec, engines: engines, channel: channel, stop: stop, logger: logger)
            JobIsolation.end(spec, scratch: scratch, baseline: baseline)
            // Stopped (cancel, timeout, shutdown): the job has said so; the worker goes too, as a one-job worker would.
            if stop.isSet { break }
            channel.send(.idle(await idleReport(manager)))
        }
    }

    static func idleReport(_ manager: ModelManager) async -> WorkerIdle {
        let packs = Set(await manager.residentKeys.map(\.pack)).sorted()
        let device = await manager.device
        return WorkerIdle(packs: packs, hostBytes: TorchRuntime.processRSSBytes,
                          gpuBytes: device.isCUDA ? TorchRuntime.memory(on: device).reservedBytes : nil)
    }

    /// The next line on stdin, read on a thread of its own (a blocking read must not hold a cooperative thread); nil
    /// at EOF.
    static func nextLine() async -> String? {
        await withCheckedContinuation { (c: CheckedContinuation<String?, Never>) in
            let reader = Thread { c.resume(returning: readLine(strippingNewline: true)) }
            reader.name = "prostudio.worker-stdin"
            reader.start()
        }
    }
}

/// What a warm worker resets between jobs so nothing of one is seen by the next (Docs/warm-workers.md):
/// - temporary files: each job gets its own TMPDIR inside its work folder, removed with the folder after the job;
/// - the work folder `.prostudio-work-ID` itself (the pipeline removes it; a job that failed half-way may not have);
/// - the environment: variables set, changed or removed during a job are put back as they were at start;
/// - the working directory and the file-creation mask.
/// Not carried either, by construction: the stage cache is opened per job (`JobRun`), engines are built per job, the
/// seed is resolved per job from its manifest (or drawn fresh), and the model manager's records are drained before
/// each job. Loaded models are what carries over, on purpose.
enum JobIsolation {
    struct Baseline {
        let environment: [String: String]
        let directory: String
        let umask: mode_t
    }

    static func capture() -> Baseline {
        let mask = umask(0o022)
        umask(mask)
        return Baseline(environment: ProcessInfo.processInfo.environment, directory: FileManager.default.currentDirectoryPath, umask: mask)
    }

    static func work(_ spec: WorkerSpec) -> URL {
        URL(fileURLWithPath: spec.work ?? spec.outbox).appendingPathComponent(".prostudio-work-\(spec.jobID)")
    }

    /// The job's own TMPDIR (made now; the sweeper removes it with the work folder should the worker die).
    static func begin(_ spec: WorkerSpec) -> URL {
        let scratch = work(spec).appendingPathComponent("tmp")
        try? FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        setenv("TMPDIR", scratch.path, 1)
        return scratch
    }

    static func end(_ spec: WorkerSpec, scratch: URL, baseline: Baseline) {
        try? FileManager.default.removeItem(at: scratch)
        try? FileManager.default.removeItem(at: work(spec))
        let now = ProcessInfo.processInfo.environment
        for key in now.keys where baseline.environment[key] == nil { unsetenv(key) }
        for (key, value) in baseline.environment where now[key] != value { setenv(key, value, 1) }
        _ = FileManager.default.changeCurrentDirectoryPath(baseline.directory)
        umask(baseline.umask)
    }
}
