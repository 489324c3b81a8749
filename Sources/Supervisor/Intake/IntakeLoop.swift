import Checksum
import Contract
import Foundation
import Journal
import Logging
import Synchronization
import Watcher

/// The intake as a loop over the watcher's arrivals, retrying a pick-up that fails until the cause is gone.
extension PickUp {
    /// Takes arrivals one at a time until the stream ends; `onOutcome` sees each result. A pick-up that fails (the
    /// journal or the disk is full, F10) is retried with backoff, after finishing any pick-up left half-way
    /// (`claimed`), so that freeing the space is enough: no restart needed. Only `shouldStop` ends the retries
    /// (the entry then stays in the inbox, or `claimed`, and the next start reconciles it).
    /// Logged once when it starts failing (error) and once when it works again (notice), whatever the number of retries
    /// between: with no file descriptor left (EMFILE) or an unreadable inbox (EACCES) it used to log nothing and drop
    /// the arrival until a restart.
    public func consume(_ arrivals: AsyncStream<Arrival>, backoff: Backoff = Backoff(first: .milliseconds(500), cap: .seconds(10)),
                        onOutcome: @Sendable (PickUpOutcome) async -> Void = { _ in },
                        shouldStop: @escaping @Sendable () -> Bool = { false }) async {
        for await arrival in arrivals {
            var failures = 0
            while true {
                do {
                    // First finish any pick-up a failure left half-way (`claimed`): when the move into state/jobs/ID
                    // happened before the journal failed, the arrival is no longer in the inbox and `take` finds it gone.
                    if failures > 0 {
                        for outcome in try await reconcile(try await store.jobs(JobFilter(states: [.claimed])), level: .debug) {
                            await onOutcome(outcome)
                        }
                    }
                    await onOutcome(try await take(arrival))
                    if let was = health.recovered() {
                        logger.notice("pick-up works again", metadata: ["name": "\(arrival.name)", "was": "\(was)"])
                    }
                    break
                } catch {
                    if shouldStop() {
                        logger.error("pick-up failed; the next start takes it", metadata: ["name": "\(arrival.name)", "error": "\(error)"])
                        break
                    }
                    if case IntakeError.syscall(_, _, let e) = error, e == EMFILE || e == ENFILE { health.releaseReserve() }
                    if health.failed("\(error)") {
                        logger.error("pick-up failing; retrying with backoff until it works (logged once)",
                                     metadata: ["name": "\(arrival.name)", "error": "\(error)"])
                    }
                    failures += 1
                    let delay = backoff.delay(afterFailures: failures)
                    logger.debug("pick-up still failing", metadata: ["name": "\(arrival.name)", "error": "\(error)", "in": "\(delay)"])
                    try? await Task.sleep(for: delay)
                }
            }
        }
    }
}

/// Whether pick-up is failing, and why (the first error of the run of failures). Also holds a few file descriptors in
/// reserve, given back when pick-up meets EMFILE/ENFILE: libdispatch traps (SIGILL in `_dispatch_workq_monitor_pools`)
/// when it cannot open /proc while the process has none left, and the retry needs a few too. Taken again on recovery.
public final class PickUpHealth: Sendable {
    private let state = Mutex<String?>(nil)
    private let reserve = Mutex<[Int32]>([])
    public init() { takeReserve() }
    deinit { releaseReserve() }

    func releaseReserve() { for fd in reserve.withLock({ r in defer { r = [] }; return r }) { close(fd) } }

    private func takeReserve() {
        reserve.withLock { r in
            while r.count < 8 {
                let fd = open("/dev/null", O_RDONLY | O_CLOEXEC)
                if fd < 0 { break }
                r.append(fd)
            }
        }
    }
    /// Nil while pick-up works.
    public var failing: String? { state.withLock { $0 } }
    /// Records a failure; true for the first of a run (the one to log).
    func failed(_ reason: String) -> Bool { state.withLock { s in defer { s = s ?? reason }; return s == nil } }
    /// Clears the failure; returns it when there was one (to log the recovery).
    func recovered() -> String? {
        let was = state.withLock { s in defer { s = nil }; return s }
        if was != nil { takeReserve() }
        return was
    }
}
