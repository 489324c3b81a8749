import Daemon
import Foundation
import Journal
import Logging
import Pipeline
import Synchronization
import Testing

/// Log records, collected from any thread.
final class LogCapture: Sendable {
    private let records = Mutex<[(level: Logger.Level, message: String, job: String?)]>([])
    func append(_ r: (level: Logger.Level, message: String, job: String?)) { records.withLock { $0.append(r) } }
    var all: [(level: Logger.Level, message: String, job: String?)] { records.withLock { $0 } }
    func logger() -> Logger { Logger(label: "test") { _ in CapturingHandler(capture: self) } }
}

struct CapturingHandler: LogHandler {
    let capture: LogCapture
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        capture.append((event.level, event.message.description, (merged["job"] ?? merged["job_id"]).map { "\($0)" }))
    }
}

/// Whether a job is mid-way: running, in a stage before compose. The journal may show a stage only briefly on a
/// loaded machine (its writes queue behind each other), so tests wait for any of these rather than one.
func isEarly(_ job: Job) -> Bool { job.state == .running && ["speech", "visuals", "music"].contains(job.stage ?? "") }

/// A job long enough to be caught mid-way and stopped before it ends, even on a loaded machine.
let slowManifest = longerManifest + (0..<6).map { n in """

      - narration: Scene \(n + 5) repeats itself at some length, so that speech and compose both have seconds of work, which a stop request must interrupt.
    """ }.joined()

/// A job long enough to be caught mid-way.
let longerManifest = tinyManifest + """

      - narration: A third scene with a longer sentence, so that the music and the compose stages have more to do.
      - narration: And a fourth one, for good measure, which the shutdown test interrupts somewhere in the middle.
    """

@Suite(.serialized) struct StageRunTests {
    /// F8: stage runs were closed only when the job ended. The seed column was always NULL.
    @Test func eachStageRunClosesWhenItsStageEndsAndTheSeedIsJournaled() async throws {
        let f = Folders()
        let daemon = Daemon(config: f.config)
        let running = Task { try await daemon.run(handleSignals: false) }
        f.drop("stages.yaml", longerManifest)
        let order = Stage.allCases.map(\.rawValue)
        var checked = false
        let deadline = ContinuousClock.now + .seconds(120)
        while !checked && ContinuousClock.now < deadline {
            if FileManager.default.fileExists(atPath: f.journal), let client = try? JournalClient(path: f.journal),
               let job = try await client.jobs(JobFilter(states: [.running])).first,
               let stage = job.stage, let index = order.firstIndex(of: stage), index >= 2 {
                // The job was read first: every stage before the one it was in had ended by then.
                let earlier = try await client.stageRuns(of: job.id).filter { order.firstIndex(of: $0.stage)! < index }
                #expect(earlier.count == index)
                #expect(earlier.allSatisfy { $0.outcome == .ok && $0.seconds != nil })
                checked = true
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(checked)
        let done = try #require(try await waitFor(f) { $0.name == "stages" && $0.state.isFinal })
        #expect(done.state == .done)
        #expect(done.seed == 3)
        let runs = try await JournalClient(path: f.journal).stageRuns(of: done.id)
        #expect(runs.map(\.stage) == order)
        #expect(runs.allSatisfy { $0.outcome == .ok && $0.engine != nil && $0.peakMemoryBytes != nil })
        daemon.shutdown()
        try await running.value
    }

    /// A SIGTERM checkpoint or a cancel is not a failure: it was logged at error level as "job failed".
    @Test func aCheckpointAtShutdownIsNotLoggedAsAFailure() async throws {
        let f = Folders()
        var config = f.config
        config.logLevel = .info
        let capture = LogCapture()
        let daemon = Daemon(config: config, logger: capture.logger())
        let running = Task { try await daemon.run(handleSignals: false) }
        f.drop("stopped.yaml", slowManifest)
        let job = try #require(try await waitFor(f, isEarly))
        daemon.shutdown()
        try await running.value
        let parked = try #require(try await JournalClient(path: f.journal).job(job.id))
        #expect(parked.state == .queued)
        #expect(!capture.all.contains { $0.level >= .error }, "\(capture.all.filter { $0.level >= .notice })")
        #expect(!capture.all.contains { $0.message.contains("failed") })
        #expect(capture.all.contains { $0.level == .info && $0.message.contains("checkpoint") })
    }
}
