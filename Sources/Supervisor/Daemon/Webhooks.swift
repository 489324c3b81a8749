import Checksum
import Contract
import Foundation
import Intake
import Journal
import Logging
import Manifest
import Spawn
import Synchronization
import Watcher
import Yams

/// Where a job's webhook goes and the key that signs it: the manifest's `notify:`, else the config's.
public struct NotifySettings: Sendable, Equatable {
    public var url: String
    public var secret: String
    public init(url: String, secret: String) { self.url = url; self.secret = secret }

    /// Why `url` cannot be a webhook address, or nil.
    public static func problem(url: String) -> String? {
        guard let u = URL(string: url), let scheme = u.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
            return "expected an http:// or https:// URL"
        }
        guard let host = u.host, !host.isEmpty else { return "expected a URL with a host" }
        return nil
    }

    /// The `notify:` of a manifest file (YAML or JSON), read without validating the rest: a rejected manifest's
    /// sender is told too. Nil when it has none or it cannot be read.
    static func fromManifest(path: String) -> NotifySettings? {
        let ext = (path as NSString).pathExtension.lowercased()
        // compose, not load: the node tree only. Yams.load builds Foundation values (dates through ICU), several MB
        // resident in the supervisor after the first job; most manifests have no notify at all.
        // Sized first: a manifest past the loader's limit is rejected unread, and must not be read whole here (a 1 GB
        // sparse big.yaml took the supervisor to 2 GB through this read, issue 23).
        var st = stat()
        guard ["yaml", "yml", "json"].contains(ext), stat(path, &st) == 0, Int(st.st_size) <= ManifestLimits.fileBytes,
              let text = try? String(contentsOfFile: path, encoding: .utf8), text.contains("notify"),
              let top = try? Yams.compose(yaml: text), let notify = top["notify"],
              let url = notify["url"]?.string, let secret = notify["secret"]?.string,
              !secret.isEmpty, problem(url: url) == nil else { return nil }
        return NotifySettings(url: url, secret: secret)
    }
}

/// Webhooks: when a job ends done, failed or rejected, its sidecar is POSTed to the job's `notify.url` (else the
/// config's), signed `X-ProStudio-Signature: sha256=HMAC-SHA256(secret, body)`. Each message is journaled first
/// (`deliveries`), then sent by a loop of its own, so the job loop never waits on a receiver; a failed attempt
/// (no response, 5xx, 408, 429) is retried with doubling delays up to `notifyMaxAttempts`, and every attempt is
/// journaled (`delivery_attempts`). Pending messages survive a restart: the next start sends them.
///
/// Each attempt runs in a short-lived `prostudio-notify` child (beside `prostudio`), which drives libcurl: the HTTP
/// client and its TLS stack stay out of the supervisor. A child per attempt costs milliseconds, nothing beside a job's
/// minutes. Attempts run side by side, bounded (`maxInFlight`, one per receiver); see Docs/webhooks.md.
final class Webhooks: Sendable {
    let config: DaemonConfig
    let layout: StateLayout
    let logger: Logger
    private let journal = Mutex<(any JobStore)?>(nil)
    private let wakeups: AsyncStream<Void>
    private let wakeup: AsyncStream<Void>.Continuation

    init(config: DaemonConfig, layout: StateLayout, logger: Logger) {
        self.config = config; self.layout = layout; self.logger = logger
        (wakeups, wakeup) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// The job ended (`event`: done, failed, rejected) and `body` is its sidecar as written: journal a message for
    /// its receiver, if it has one (one insert: the job loop waits for that, never for the receiver).
    func jobEnded(_ job: Job, event: String, body: Data) async {
        guard let target = target(for: job), let journal = journal.withLock({ $0 }) else { return }
        let signature = "sha256=" + HMACSHA256.hex(key: Data(target.secret.utf8), message: body)
        do {
            try await journal.enqueueDelivery(job: job.id, event: event, url: target.url, body: String(decoding: body, as: UTF8.self),
                                              signature: signature, maxAttempts: config.notifyMaxAttempts)
            wakeup.yield()
        } catch {
            logger.error("journal: cannot queue the webhook", metadata: ["job": "\(job.id)", "error": "\(error)"])
        }
    }

    private func target(for job: Job) -> NotifySettings? {
        // A job rejected at pick-up was never queued, so it has no manifest path: its manifest is in state/rejected/ID.
        let rejectedManifest: String? = job.manifestPath != nil ? nil : {
            let folder = layout.rejectedFolder(job.id)
            if job.sourceKind == .file { return folder + "/" + job.sourceName }
            if case .found(let name) = InboxRules.manifest(inFolder: folder) { return folder + "/" + name }
            return nil
        }()
        if let path = rejectedManifest, FileManager.default.fileExists(atPath: path) {
            return NotifySettings.fromManifest(path: path) ?? config.notify
        }
        if let path = job.manifestPath {
            // A rejected job's folder moved from state/jobs/ID to state/rejected/ID.
            let jobs = layout.jobFolder(job.id), rejected = layout.rejectedFolder(job.id)
            let moved = path.hasPrefix(jobs + "/") ? rejected + path.dropFirst(jobs.count) : path
            for candidate in [path, moved] where FileManager.default.fileExists(atPath: candidate) {
                if let own = NotifySettings.fromManifest(path: candidate) { return own }
                break
            }
        }
        return config.notify
    }

    /// The journal messages go to: set before the first job can end.
    func attach(_ journal: any JobStore) { self.journal.withLock { $0 = journal } }

    /// At most this many attempts at once, and one per receiver (scheme, host and port): a receiver that is slow or
    /// hangs holds its own messages back, not anyone else's, and no receiver gets more than one connection from us.
    static let maxInFlight = 4
    /// Delivery id -> receiver, for attempts under way.
    private let inFlight = Mutex<[Int64: String]>([:])

    /// Sends what is due until `stop()`: pending messages of an earlier run first.
    func run(journal: any JobStore) async {
        var wakes = wakeups.makeAsyncIterator()
        // Discarding: a daemon sends messages for weeks; finished attempts must not pile up in the group.
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled {
                let pending: [DeliveryHead]
                do { pending = try await journal.pendingDeliveries(limit: 1000) } catch {
                    if Task.isCancelled { return }  // the daemon is stopping
                    logger.error("journal: cannot read webhooks", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: .seconds(5))
                    continue
                }
                let now = Date()
                var busy = inFlight.withLock { $0 }
                var nextDue: Date?
                for head in pending where busy[head.id] == nil {
                    if head.nextAt > now { nextDue = nextDue.map { min($0, head.nextAt) } ?? head.nextAt; break }
                    let receiver = Self.receiver(head.url)
                    // Full, or its receiver has an attempt under way: the end of an attempt wakes this loop.
                    guard busy.count < Self.maxInFlight, !busy.values.contains(receiver) else { continue }
                    busy[head.id] = receiver
                    inFlight.withLock { $0[head.id] = receiver }
                    group.addTask {
                        await self.send(head.id, journal: journal)
                        self.inFlight.withLock { $0[head.id] = nil }
                        self.wakeup.yield()
                    }
                }
                // Asleep until a message is queued, an attempt ends, or the next retry is due.
                let timer = nextDue.map { due in
                    Task { [wakeup] in
                        try? await Task.sleep(for: .milliseconds(Int64(max(due.timeIntervalSinceNow, 0.01) * 1000)))
                        if !Task.isCancelled { wakeup.yield() }
                    }
                }
                let stopped = await wakes.next() == nil
                timer?.cancel()
                if stopped { return }
            }
        }
    }

    func stop() { wakeup.finish() }

    /// The receiver a URL names, for the one-attempt-per-receiver rule: scheme, host and port.
    static func receiver(_ url: String) -> String {
        guard let u = URLComponents(string: url) else { return url }
        let scheme = u.scheme?.lowercased() ?? ""
        return "\(scheme)://\(u.host?.lowercased() ?? ""):\(u.port ?? (scheme == "https" ? 443 : 80))"
    }

    private func send(_ id: Int64, journal: any JobStore) async {
        let d: Delivery
        do {
            guard let found = try await journal.delivery(id: id), found.state == .pending else { return }
            d = found
        } catch {
            logger.error("journal: cannot read a webhook", metadata: ["delivery": "\(id)", "error": "\(error)"])
            try? await Task.sleep(for: .seconds(1))  // not at once again: the loop would spin on it
            return
        }
        let attempt = d.attempts + 1
        let started = Date()
        guard let worker = config.worker else {
            logger.error("webhook: no prostudio executable beside which to find prostudio-notify (DaemonConfig.worker)", metadata: ["job": "\(d.jobID)"])
            try? await Task.sleep(for: .seconds(5))
            return
        }
        let executable = (worker as NSString).deletingLastPathComponent + "/prostudio-notify"
        // A URL the job brought may reach public addresses only; the operator's own (notify.url) may be private.
        let publicOnly = !config.notifyAllowPrivate && d.url != config.notify?.url
        let answer = await NotifyChild.post(executable: executable, delivery: d, attempt: attempt, timeout: config.notifyTimeout, publicOnly: publicOnly)
        let status = answer.status, error = answer.error
        let seconds = Date().timeIntervalSince(started)
        let delivered = status.map { (200..<300).contains($0) } ?? false
        // Sending it again changes nothing: the address is refused, the receiver redirects (3xx: not followed), or
        // it refused the message itself (400, 401, 404, ...).
        let permanent = answer.refused == true || status.map { (300..<500).contains($0) && $0 != 408 && $0 != 429 } ?? false
        let delay = Backoff(first: config.notifyBackoff, cap: .seconds(600)).delay(afterFailures: attempt)
        let retryAt = delivered || permanent ? nil : Date().addingTimeInterval(Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18)
        let record = DeliveryAttempt(deliveryID: d.id, attempt: attempt, at: started, seconds: seconds, status: status, error: error)
        var meta: Logger.Metadata = ["job": "\(d.jobID)", "event": "\(d.event)", "url": "\(d.url)", "attempt": "\(attempt)",
                                     "status": "\(status.map(String.init) ?? "-")"]
        if let error { meta["error"] = "\(error)" }
        do {
            // Detached: a stopping daemon cancels this loop, and the attempt that was made must still be recorded.
            let after = try await Task.detached { try await journal.recordDeliveryAttempt(record, delivered: delivered, retryAt: retryAt) }.value
            switch after.state {
            case .delivered: logger.info("webhook delivered", metadata: meta)
            case .pending: logger.notice("webhook attempt failed; retrying", metadata: meta.merging(["in_s": "\(delay)"]) { $1 })
            case .failed: logger.warning("webhook given up", metadata: meta)
            }
        } catch {
            logger.error("journal: cannot record a webhook attempt", metadata: meta.merging(["journal": "\(error)"]) { $1 })
            try? await Task.sleep(for: .seconds(1))
        }
    }
}

/// One attempt in a `prostudio-notify` child: the body on its stdin, one JSON line back on its stdout
/// (`{"status": 200}` or `{"error": "...", "refused": true}`). The child bounds the attempt (`timeout`, the whole of it)
/// and dies with the daemon (PR_SET_PDEATHSIG); a child still running 5 s past `timeout` is killed here.
enum NotifyChild {
    struct Answer: Decodable { var status: Int?; var error: String?; var refused: Bool? }

    static func post(executable: String, delivery d: Delivery, attempt: Int, timeout: Duration, publicOnly: Bool) async -> Answer {
        await withCheckedContinuation { (continuation: CheckedContinuation<Answer, Never>) in
            // Its own thread, blocked in poll and waitpid for the attempt: the child's PR_SET_PDEATHSIG follows this
            // thread, which outlives the child.
            let thread = Thread {
                continuation.resume(returning: run(executable: executable, delivery: d, attempt: attempt, timeout: timeout, publicOnly: publicOnly))
            }
            thread.name = "prostudio.notify-\(d.id)"
            thread.start()
        }
    }

    private static func run(executable: String, delivery d: Delivery, attempt: Int, timeout: Duration, publicOnly: Bool) -> Answer {
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        let arguments = ["--url", d.url, "--signature", d.signature, "--event", d.event,
                         "--delivery", "\(d.id)", "--attempt", "\(attempt)", "--agent", "prostudio/\(ProStudioVersion.current)",
                         "--timeout", "\(seconds)", "--parent", "\(getpid())"] + (publicOnly ? ["--public-only"] : [])
        let output: ChildProcess.Output
        do { output = try ChildProcess.run(executable, arguments: arguments, input: Data(d.body.utf8), timeout: timeout + .seconds(5)) } catch {
            return Answer(error: "\(error)")
        }
        if output.timedOut { return Answer(error: "the notify process ran past \(seconds) s and was killed") }
        if let answer = try? JSONDecoder().decode(Answer.self, from: output.stdout) { return answer }
        let said = String(decoding: output.stderr, as: UTF8.self).split(separator: "\n").last.map { ": \($0)" } ?? ""
        return Answer(error: output.status > 128 ? "the notify process was killed by signal \(output.status - 128)\(said)"
                                                 : "the notify process exited \(output.status) without an answer\(said)")
    }
}
