import Contract
import Foundation
import Intake
import Journal
import Watcher

/// Start-up checks of the journal (F12) and the repair that `prostudio doctor --repair` runs.
///
/// A journal that is missing, empty, or holds no job while `state/jobs` and `state/rejected` hold job folders was
/// deleted or replaced: starting on it would silently forget every one of those jobs (their sidecars would say
/// `queued` forever). The daemon refuses, naming the repair, which rebuilds the rows from the folders and the
/// outbox sidecars.
public enum JournalGuard {
    /// Job folders under `state/jobs` and `state/rejected`, by id.
    static func jobFolders(_ layout: StateLayout) -> (jobs: [String], rejected: [String]) {
        func list(_ dir: String) -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
        }
        return (list(layout.jobs), list(layout.rejected))
    }

    static func isEmptyOrMissing(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) != 0 || st.st_size == 0
    }

    /// Before opening: a missing or zero-byte journal (and no WAL to recover it from) next to job folders.
    public static func checkPresent(_ layout: StateLayout) throws(DaemonError) {
        guard isEmptyOrMissing(layout.journal) && isEmptyOrMissing(layout.journal + "-wal") else { return }
        let (jobs, rejected) = jobFolders(layout)
        if jobs.count + rejected.count > 0 { throw .journalMissing(journal: layout.journal, jobFolders: jobs.count + rejected.count) }
    }

    /// After opening: integrity, and a journal with no job at all next to job folders (replaced by a fresh one).
    public static func checkOpened(_ journal: any JobStore, _ layout: StateLayout) async throws {
        let problems: [String]
        do { problems = try await journal.integrityCheck() } catch {
            throw DaemonError.journalCorrupt(journal: layout.journal, detail: "\(error)")
        }
        if problems != ["ok"] {
            throw DaemonError.journalCorrupt(journal: layout.journal, detail: problems.prefix(3).joined(separator: "; "))
        }
        let (jobs, rejected) = jobFolders(layout)
        if jobs.count + rejected.count > 0, try await journal.jobs(JobFilter(limit: 1)).isEmpty {
            throw DaemonError.journalMissing(journal: layout.journal, jobFolders: jobs.count + rejected.count)
        }
    }

    public struct RepairReport: Sendable {
        /// Journal files that failed to open or check, renamed to `NAME.broken-UNIXTIME`.
        public var movedAside: [String] = []
        /// Jobs put back, with the state they got.
        public var restored: [(JobID, JobState)] = []
        /// Job folders already in the journal.
        public var kept = 0
    }

    /// Rebuilds missing journal rows from `state/jobs/*`, `state/rejected/*` and the outbox sidecars, losing
    /// nothing: a job whose sidecar says done, failed or cancelled gets that state (and outputs, error, seed);
    /// any other becomes queued and runs again. Takes the state lock, so it never races a running daemon.
    public static func repair(config: DaemonConfig) async throws -> RepairReport {
        let layout = StateLayout(inbox: config.inbox, state: config.state)
        try FileManager.default.createDirectory(atPath: layout.state, withIntermediateDirectories: true)
        let lock = try StateLock(state: layout.state)
        defer { withExtendedLifetime(lock) {} }
        try layout.prepare()
        var report = RepairReport()

        if !isEmptyOrMissing(layout.journal) {
            var sound = false
            if let journal = try? SQLiteJournal(path: layout.journal), (try? await journal.integrityCheck()) == ["ok"] { sound = true }
            if !sound {
                let stamp = Int(Date().timeIntervalSince1970)
                for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: layout.journal + suffix) {
                    let aside = layout.journal + suffix + ".broken-\(stamp)"
                    try FileManager.default.moveItem(atPath: layout.journal + suffix, toPath: aside)
                    report.movedAside.append(aside)
                }
            }
        } else {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: layout.journal + suffix) }
        }
        let journal = try SQLiteJournal(path: layout.journal, maxAttempts: config.maxAttempts)

        // Rebuilding a lost journal is the one time the outbox's sidecars are read to learn what happened.
        var sidecars: [String: Sidecar] = [:]
        let outbox = URL(fileURLWithPath: config.outbox)
        for folder in [outbox, outbox.appendingPathComponent("rejected")] {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            where name.hasSuffix(".json") && !name.hasPrefix(".") {
                if let s = try? Sidecar.read(folder.appendingPathComponent(name)) { sidecars[s.job_id] = s }
            }
        }

        let (jobs, rejected) = jobFolders(layout)
        for (id, isRejected) in jobs.map({ ($0, false) }) + rejected.map({ ($0, true) }) {
            let folder = isRejected ? layout.rejectedFolder(JobID(id)) : layout.jobFolder(JobID(id))
            let entries = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { !$0.hasPrefix(".") }
            var manifest: String?
            if case .found(let m) = InboxRules.manifest(inFolder: folder) { manifest = m }
            // A single manifest file alone in its folder was dropped as a file; anything else was a job folder.
            let kind: SourceKind = entries.count == 1 && manifest == entries.first ? .file : .folder
            let sidecar = sidecars[id]
            let sourceName = kind == .file ? (manifest ?? id) : (sidecar?.name ?? id)
            let name = sidecar?.name ?? (kind == .file ? InboxRules.jobName(forFile: sourceName) : id)
            var state: JobState = .queued
            var error: JobError?
            var outputs: [String: String] = [:]
            if isRejected {
                state = .rejected
                error = sidecar?.error.map { JobError(code: $0.code, message: $0.message, field: $0.field, stage: $0.stage, disposition: $0.disposition) }
                    ?? JobError(code: "restored", message: "rejected before the journal was rebuilt; the reason was not kept")
            } else if manifest == nil {
                state = .failed
                error = JobError(code: "restored_without_manifest", message: "\(folder) holds no manifest")
            } else if let s = sidecar {
                switch s.state {
                case .done:
                    state = .done
                    outputs["sidecar"] = s.name + ".json"
                    if let v = s.outputs.video { outputs["video"] = v }
                    if let v = s.outputs.captions { outputs["captions"] = v }
                    if let v = s.outputs.webvtt { outputs["webvtt"] = v }
                    if let v = s.outputs.poster { outputs["poster"] = v }
                case .failed, .cancelled:
                    state = s.state == .failed ? .failed : .cancelled
                    error = s.error.map { JobError(code: $0.code, message: $0.message, field: $0.field, stage: $0.stage, disposition: $0.disposition) }
                default: state = .queued
                }
            }
            var st = stat()
            let created = stat(folder, &st) == 0 ? Date(timeIntervalSince1970: TimeInterval(st.st_mtim.tv_sec)) : Date()
            var job = RestoredJob(id: JobID(id), name: name, state: state,
                                  manifestPath: manifest.map { folder + "/" + $0 }, sourceName: sourceName,
                                  sourcePath: layout.inbox + "/" + sourceName, sourceKind: kind, createdAt: created,
                                  error: error, outputs: outputs, seed: sidecar?.seed)
            if let s = sidecar { job.report = JobReport(details: JobDetails(of: s), stages: s.stages, warnings: s.warnings) }
            if try await journal.restore(job) { report.restored.append((job.id, state)) } else { report.kept += 1 }
        }
        return report
    }
}
