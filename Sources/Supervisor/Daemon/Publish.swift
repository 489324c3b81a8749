import Contract
import Foundation
import Intake
import Journal

/// Sidecars, from one place: every one the supervisor writes is `Job.sidecar`, the projection of the job's journal
/// row, written after the row changed (Docs/contract.md, "Publish order"). Nothing here reads a sidecar to learn what
/// happened; `Sidecar.owner` and `SidecarFile.mark` only ask whose `NAME.json` is there now and in which state.
extension Daemon {
    /// What pick-up did, in the outbox: a sidecar from pick-up on.
    func publish(_ outcome: PickUpOutcome, _ journal: any JobStore) async {
        switch outcome {
        case .rejected(let job):
            let body = await publishSidecar(job, journal: journal)
            await notifyEnded(job, body: body)
        case .queued, .duplicate, .gone: break  // the queued sidecar was written before the job could start
        }
    }

    /// The sidecar of job `id` as the journal has it now; `expecting`: only while the job is in that state (the runner
    /// may have started it since, and then its own updates write the sidecar). nil: any state, and a job that ended
    /// gets its webhook.
    func refreshSidecar(_ journal: any JobStore, _ id: JobID, expecting: JobState?) async {
        guard let job = try? await journal.job(id) else { return }
        if let expecting, job.state != expecting { return }
        let body = await publishSidecar(job, journal: journal)
        if expecting == nil { await notifyEnded(job, body: body) }
    }

    /// Writes `job`'s sidecar where the same-NAME rule puts it; returns the bytes written. A job that ended without outputs
    /// (rejected, failed, cancelled) never takes `NAME.json` from the latest done job of that NAME whose video is still in
    /// the outbox (the sidecar is what describes that video): that job's sidecar is put back (this job's `queued` and
    /// `running` ones were written over it) and this job's goes to `STATE/NAME.json` in the outbox instead.
    @discardableResult
    func publishSidecar(_ job: Job, journal: any JobStore) async -> Data? {
        guard [.failed, .cancelled, .rejected].contains(job.state),
              let owner = try? await journal.jobs(JobFilter(states: [.done], limit: 1, name: job.name)).first,
              owner.id != job.id, let video = owner.outputs["video"],
              FileManager.default.fileExists(atPath: config.outbox + "/" + video) else {
            return writeSidecar(job)
        }
        if Sidecar.owner(SidecarFile.url(outbox: config.outbox, name: job.name)) != owner.id.rawValue {
            writeSidecar(owner)
        }
        let state = job.state.rawValue
        logger.notice("sidecar written beside a done job of the same name", metadata: [
            "job": "\(job.id)", "done_job": "\(owner.id)", "sidecar": "\(state)/\(job.name).json"])
        return writeSidecar(job, to: SidecarFile.asideURL(outbox: config.outbox, name: job.name, state: state))
    }

    /// The projection of `job`'s row, written atomically (`NAME.json` unless `url`).
    @discardableResult
    func writeSidecar(_ job: Job, to url: URL? = nil) -> Data? {
        do { return try SidecarFile.write(job, outbox: config.outbox, to: url) } catch {
            logger.warning("cannot write sidecar", metadata: ["job": "\(job.id)", "error": "\(error)"])
            return nil
        }
    }

    /// A kill -9 between a job's end in the journal and its sidecar leaves the sidecar a step behind. Only the last
    /// jobs to end can be in that window (one job runs at a time), so at start-up the newest job of each recent NAME has
    /// its sidecar written again when the file on disk is not its projection.
    func republishUnwritten(_ journal: any JobStore) async {
        guard let recent = try? await journal.jobs(JobFilter(limit: 20)) else { return }
        var seen = Set<String>()
        for job in recent where seen.insert(job.name).inserted && job.state.isFinal {
            let main = SidecarFile.url(outbox: config.outbox, name: job.name)
            let aside = SidecarFile.asideURL(outbox: config.outbox, name: job.name, state: job.state.rawValue)
            let mark = SidecarFile.Mark(job_id: job.id.rawValue, state: job.sidecarState.rawValue)
            if [main, aside].contains(where: { SidecarFile.mark($0) == mark }) { continue }
            await publishSidecar(job, journal: journal)
        }
    }

    /// A job that ended failed or rejected: its webhook carries its sidecar (`body`, as written; else projected again).
    func notifyEnded(_ job: Job, body: Data?) async {
        guard job.state == .failed || job.state == .rejected, let body = body ?? (try? job.sidecar.encoded()) else { return }
        await webhooks.jobEnded(job, event: job.state.rawValue, body: body)
    }
}
