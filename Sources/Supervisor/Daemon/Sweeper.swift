import Foundation
import Journal

/// Removes what interrupted work leaves behind (F1, F2): `.NAME.EXT.PID.tmp` files of atomic writes in the outbox
/// and the stage cache, and `.prostudio-work-ID/` folders (a partial MP4; in `STATE/work`) of jobs that are not running. Runs at
/// start (after the journal is recovered) and after every job, when no job of this daemon is running.
public enum Sweeper {
    public struct Report: Sendable, Equatable {
        public var tempFiles: [String] = []
        public var workFolders: [String] = []
        public var isEmpty: Bool { tempFiles.isEmpty && workFolders.isEmpty }
    }

    /// The PID in an `AtomicFile` temp name (`.NAME.EXT.PID.tmp`), or nil when `name` is not one.
    static func tempOwner(_ name: String) -> Int32? {
        guard name.hasPrefix("."), name.hasSuffix(".tmp") else { return nil }
        let parts = name.dropLast(4).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 3, let pid = Int32(parts[parts.count - 1]), pid > 0 else { return nil }
        return pid
    }

    /// Whether a temp file's writer is gone. This process's own temps are left alone: pick-up may be writing a
    /// sidecar at this moment, and a write of ours that fails removes its own temp. A zombie is gone (it can write
    /// nothing more): a worker orphaned by a kill -9 of its supervisor stays one until init reaps it, which some
    /// hosts do only every second or two, and `kill(pid, 0)` succeeds on it; the sweeps in that window kept its
    /// temp, and the last of them could be the last for a long while. A process started after the file was last
    /// written is not its writer either (a reused PID).
    static func isOrphan(pid: Int32, modified: Date? = nil) -> Bool {
        guard pid != getpid() else { return false }
        if kill(pid, 0) != 0 { return errno == ESRCH }
        guard let process = ProcessStat(pid: pid) else { return true }  // gone since
        if process.isZombie { return true }
        if let modified, let started = process.started, started > modified.addingTimeInterval(2) { return true }
        return false
    }

    /// `isOrphan` for the temp file at `path`.
    static func isOrphan(pid: Int32, path: String) -> Bool {
        var st = stat()
        let modified = lstat(path, &st) == 0 ? Date(timeIntervalSince1970: Double(st.st_mtim.tv_sec)) : nil
        return isOrphan(pid: pid, modified: modified)
    }

    /// `isRunning(id)` says whether the journal has that job running (its work folder is in use).
    /// `work`: the daemon's work folders' folder (`STATE/work`); work folders an older daemon left in the outbox go too.
    public static func sweep(outbox: String, cache: String, work: String? = nil, isRunning: (String) async -> Bool?) async -> Report {
        var report = Report()
        let fm = FileManager.default
        let entries = ((try? fm.contentsOfDirectory(atPath: outbox)) ?? []).map { (outbox, $0) }
            + (work.map { w in ((try? fm.contentsOfDirectory(atPath: w)) ?? []).map { (w, $0) } } ?? [])
        for (folder, name) in entries {
            let path = folder + "/" + name
            if let pid = tempOwner(name), isOrphan(pid: pid, path: path) {
                if (try? fm.removeItem(atPath: path)) != nil { report.tempFiles.append(path) }
            } else if name.hasPrefix(".prostudio-work-") {
                let id = String(name.dropFirst(".prostudio-work-".count))
                // Only folders of jobs this journal knows and that are not running: a `prostudio render -o` into
                // the same folder (an id the journal does not know) keeps its own.
                if let running = await isRunning(id), !running, (try? fm.removeItem(atPath: path)) != nil {
                    report.workFolders.append(path)
                }
            }
        }
        // Ends beside a done job of the same NAME are written in `rejected/`, `failed/`, `cancelled/` (`Daemon.publishSidecar`).
        for aside in ["rejected", "failed", "cancelled"].map({ outbox + "/" + $0 + "/" }) {
            for name in (try? fm.contentsOfDirectory(atPath: aside)) ?? [] {
                if let pid = tempOwner(name), isOrphan(pid: pid, path: aside + name), (try? fm.removeItem(atPath: aside + name)) != nil {
                    report.tempFiles.append(aside + name)
                }
            }
        }
        if let walker = fm.enumerator(atPath: cache) {
            while let rel = walker.nextObject() as? String {
                let name = (rel as NSString).lastPathComponent
                if let pid = tempOwner(name), isOrphan(pid: pid, path: cache + "/" + rel), (try? fm.removeItem(atPath: cache + "/" + rel)) != nil {
                    report.tempFiles.append(cache + "/" + rel)
                }
            }
        }
        return report
    }
}
