import Foundation
import Journal

/// Between jobs: leftovers swept, and the CLI's and API's requests (cancel, retry, pause, priority) applied from the
/// journal, where they wait until the supervisor takes them.
extension Daemon {
    /// Leftover temp files and work folders (F1, F2); no job of this daemon runs while it does.
    func sweep(_ journal: any JobStore) async {
        let report = await Sweeper.sweep(outbox: config.outbox, cache: layout.cache, work: layout.work) { id in
            guard let job = try? await journal.job(JobID(id)) else { return nil }
            return job.state == .running
        }
        if !report.isEmpty {
            logger.info("swept leftovers", metadata: ["temp_files": "\(report.tempFiles.count)", "work_folders": "\(report.workFolders.count)"])
        }
    }

    func applyRequests(_ journal: any JobStore) async {
        let effects: [RequestEffect]
        do { effects = try await journal.applyPendingRequests() } catch {
            logger.error("journal: cannot apply requests", metadata: ["error": "\(error)"])
            return
        }
        for effect in effects {
            switch effect {
            case .requeued(let id):
                await refreshSidecar(journal, id, expecting: .queued)
                logger.notice("job requeued on request", metadata: ["job": "\(id)"])
                wakeup.yield()
            case .cancelled(let id):
                await refreshSidecar(journal, id, expecting: nil)
                logger.notice("job cancelled on request", metadata: ["job": "\(id)"])
            case .stopRunning(let id):
                control.cancel(id)
                logger.notice("stopping the running job on request", metadata: ["job": "\(id)"])
            case .ignored(let id, let reason):
                logger.notice("request ignored", metadata: ["job": "\(id?.rawValue ?? "-")", "reason": "\(reason)"])
            case .queuePaused(let paused):
                logger.notice(paused ? "queue paused on request" : "queue resumed on request")
                if !paused { wakeup.yield() }
            case .reprioritised(let id, let priority):
                logger.notice("job priority changed on request", metadata: ["job": "\(id)", "priority": "\(priority)"])
                wakeup.yield()
            }
        }
    }
}
