import Contract
import Daemon
import Foundation
import HTTPTypes
import Hummingbird
import Journal
import Prometheus
import Synchronization

/// `/metrics` in Prometheus text format. Job counts, queue depth, stage durations and peak memory, worker restarts
/// and pick-up latency come from the journal at scrape time (the daemon journals them anyway, so the supervisor's
/// hot path has nothing added); API requests are counted as they are served.
final class APIMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    private let cursor = Mutex((run: Int64(-1), event: Int64(-1), job: ""))
    private let pickup: DurationHistogram
    private let restarts: Counter
    static let stageBuckets: [Duration] = [.milliseconds(100), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10),
                                           .seconds(30), .seconds(60), .seconds(120), .seconds(300), .seconds(600), .seconds(1800)]
    static let requestBuckets: [Duration] = [.microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
                                             .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1)]

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        pickup = registry.makeDurationHistogram(
            name: "prostudio_pickup_latency_seconds",
            buckets: [.milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
                      .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5)],
            help: "From arrival (a file's last write in the inbox, or the API request) to the job journaled queued")
        restarts = registry.makeCounter(name: "prostudio_worker_restarts_total", help: "Workers that died without reporting (crash, OOM kill); their job is retried under the loop guard")
    }

    func pickedUp(after: Duration) { pickup.record(after) }

    func request(route: String, method: String, status: Int, duration: Duration) {
        registry.makeCounter(name: "prostudio_api_requests_total", labels: [("route", route), ("method", method), ("status", "\(status)")],
                             help: "HTTP API requests by route, method and status").increment()
        registry.makeDurationHistogram(name: "prostudio_api_request_duration_seconds", labels: [("route", route), ("method", method)],
                                       buckets: Self.requestBuckets, help: "HTTP API request durations").record(duration)
    }

    /// From the journal's report of the job (the typed stage records), not from its sidecar.
    private func recordModels(_ job: Job) {
        for (stage, record) in job.report.stages {
            for model in record.models ?? [] {
                let labels = [("stage", stage), ("pack", model.pack), ("component", model.component), ("device", model.device)]
                if model.loads > 0 {
                    registry.makeCounter(name: "prostudio_model_loads_total", labels: labels, help: "Model component loads").increment(by: Int64(model.loads))
                }
                registry.makeDurationHistogram(name: "prostudio_model_load_seconds", labels: labels, buckets: Self.stageBuckets,
                                               help: "Time to load a model component (per job)").record(.milliseconds(Int64(model.load_seconds * 1000)))
                registry.makeGauge(name: "prostudio_model_peak_memory_bytes", labels: labels,
                                   help: "Peak memory of a model component in its last run (device memory on a GPU)").set(Double(model.peak_memory_bytes))
            }
        }
    }

    private func recordQuality(_ job: Job) {
        guard let quality = job.report.details.quality else { return }
        registry.makeCounter(name: "prostudio_quality_gate_total", labels: [("status", quality.status)],
                             help: "Videos the quality gate checked before publishing, by outcome (passed, failed, flagged)").increment()
        for check in quality.checks {
            registry.makeCounter(name: "prostudio_quality_checks_total", labels: [("check", check.name), ("result", check.passed ? "passed" : "failed")],
                                 help: "Quality gate checks by check and result").increment()
        }
        registry.makeDurationHistogram(name: "prostudio_quality_gate_seconds", buckets: Self.stageBuckets,
                                       help: "Time the quality gate took per video").record(.milliseconds(Int64(quality.seconds * 1000)))
    }

    func scrape(_ live: DaemonLive, outbox: String) async throws -> Response {
        let (afterRun, afterEvent, afterJob) = cursor.withLock { ($0.run, $0.event, $0.job) }
        let snapshot = try await live.journal.metricsSnapshot(afterRun: max(afterRun, 0), afterEvent: max(afterEvent, 0), jobsAfter: afterJob)
        // Inbox files: the dedup key holds the file's mtime (see DedupKey), so claim time minus it is the pick-up latency.
        // (Jobs posted over the API are timed as they are answered; folders carry no mtime in their key.)
        if !afterJob.isEmpty {
            for job in snapshot.newJobs where job.sourceKind == .file {
                guard let last = job.dedupKey.split(separator: "/").last, let mtime = last.split(separator: ":").last.flatMap({ Int64($0) }) else { continue }
                let latency = job.createdAt.timeIntervalSince1970 - Double(mtime) / 1e9
                if latency >= 0 && latency < 86_400 { pickup.record(.milliseconds(Int64(latency * 1000))) }
            }
        }
        for state in JobState.allCases where state != .claimed {
            let n = snapshot.byState[state.rawValue, default: 0] + (state == .queued ? snapshot.byState["claimed", default: 0] : 0)
            registry.makeGauge(name: "prostudio_jobs", labels: [("state", state.rawValue)], help: "Jobs in the journal by state").set(Double(n))
        }
        registry.makeGauge(name: "prostudio_jobs", labels: [("state", "deleted")], help: "Jobs in the journal by state")
            .set(Double(snapshot.byState["deleted", default: 0]))
        registry.makeGauge(name: "prostudio_queue_depth", help: "Jobs waiting to run (queued, or picked up and being moved)")
            .set(Double(snapshot.byState["queued", default: 0] + snapshot.byState["claimed", default: 0]))
        // Stage runs closed since the last scrape (the first scrape after a start counts the journal's history once).
        var lastRun = afterRun
        for run in snapshot.stageRuns {
            lastRun = max(lastRun, run.id)
            guard run.outcome == .ok, let seconds = run.seconds ?? run.endedAt.map({ $0.timeIntervalSince(run.startedAt) }) else { continue }
            let labels = [("stage", run.stage), ("engine", run.engine ?? "unknown"), ("cache", run.cacheHit ? "hit" : "miss")]
            registry.makeDurationHistogram(name: "prostudio_stage_duration_seconds", labels: labels, buckets: Self.stageBuckets,
                                           help: "Stage run durations by stage and engine").record(.milliseconds(Int64(seconds * 1000)))
            if let peak = run.peakMemoryBytes {
                registry.makeGauge(name: "prostudio_stage_peak_memory_bytes", labels: [("stage", run.stage), ("engine", run.engine ?? "unknown")],
                                   help: "Peak resident memory of the worker during the stage's last run").set(Double(peak))
            }
        }
        // Model loads, load seconds and peak memory per model component (GPU memory where the device is one), from
        // the journal's report of each job whose publish stage closed since the last scrape.
        // The quality gate's checks run in the publish stage: counted whether it passed or failed the job.
        for run in snapshot.stageRuns where run.stage == "publish" {
            guard let listed = try? await live.journal.listedJob(run.jobID) else { continue }
            if run.outcome == .ok { recordModels(listed.job) }
            recordQuality(listed.job)
        }
        // The daemon journals a `worker` event for each worker that died without its report (Daemon.run, JobRun.swift).
        let crashes = snapshot.workerEvents.count
        if crashes > 0 { restarts.increment(by: Int64(crashes)) }
        cursor.withLock { c in
            c.run = max(c.run, lastRun, 0)
            c.event = max(c.event, snapshot.lastEvent)
            // The first scrape only sets the job cursor: history before the start is not a latency sample.
            c.job = max(c.job, snapshot.newJobs.last?.id.rawValue ?? (c.job.isEmpty ? "0" : c.job))
        }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(8192)
        registry.emit(into: &buffer)
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
    }
}

/// Counts every request by its route pattern (not its path: ids would make a series per job) and status.
struct RequestMetrics<Context: RequestContext>: RouterMiddleware {
    let metrics: APIMetrics
    /// Called on each request (the daemon trims its memory once requests stop).
    let activity: @Sendable () -> Void

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        activity()
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            metrics.request(route: context.endpointPath ?? "unmatched", method: request.method.rawValue, status: response.status.code,
                            duration: ContinuousClock.now - start)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            metrics.request(route: context.endpointPath ?? "unmatched", method: request.method.rawValue, status: status,
                            duration: ContinuousClock.now - start)
            throw error
        }
    }
}
