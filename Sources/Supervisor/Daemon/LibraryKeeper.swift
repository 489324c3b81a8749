import Foundation
import Logging
import Synchronization
import Watcher

/// Keeps the daemon's footage libraries indexed (`library.folders` and a `library` visuals default), so a job's
/// scenes are matched without first embedding a folder that changed since the last job. Each folder is watched
/// with inotify (`TreeWatcher`); once a changed folder has been quiet for `library.settle_s`, it is re-indexed
/// between jobs by `prostudio library index DIR` in a child process (the supervisor never loads libtorch), which
/// embeds only new or changed files and saves the index under the daemon's cache, where workers read it.
final class LibraryKeeper: Sendable {
    let folders: [String]
    private let settle: Duration
    private let logger: Logger
    private struct State {
        /// Folders to index at the next idle moment: every folder at start, then those that changed.
        var due: [String]
        var watchers: [TreeWatcher] = []
        /// The running index child, stopped on shutdown.
        var child: WorkerProcess?
        /// Folders whose last index failed with this message (logged once until it changes).
        var failures: [String: String] = [:]
        var stopped = false
    }
    private let state: Mutex<State>

    init(folders: [String], settle: Duration, logger: Logger) {
        self.folders = folders
        self.settle = settle
        self.logger = logger
        state = Mutex(State(due: folders))
    }

    /// Watches every folder; `changed` runs (so the job loop wakes) each time one has changed and gone quiet.
    /// A folder that cannot be watched is logged and indexed at start only.
    func watch(changed: @escaping @Sendable () -> Void) -> [Task<Void, Never>] {
        folders.compactMap { folder in
            let watcher: TreeWatcher
            do { watcher = try TreeWatcher(folder: folder, settle: settle, logger: logger) } catch {
                logger.warning("cannot watch a library folder; it is indexed at start only", metadata: ["folder": "\(folder)", "error": "\(error)"])
                return nil
            }
            state.withLock { $0.watchers.append(watcher) }
            return Task { [self] in
                for await _ in watcher.rings {
                    state.withLock { if !$0.due.contains(folder) { $0.due.append(folder) } }
                    changed()
                }
            }
        }
    }

    func stop() {
        let (watchers, child) = state.withLock { s in
            s.stopped = true
            return (s.watchers, s.child)
        }
        for w in watchers { w.stop() }
        child?.terminate(grace: .seconds(2))
    }

    /// Indexes the folders that are due, one child at a time; returns when all are done (or on shutdown).
    func indexDue(executable: String?, cache: String, models: String?, shouldStop: @escaping @Sendable () -> Bool) async {
        guard let executable else { return }
        while !shouldStop() {
            guard let folder = state.withLock({ $0.due.isEmpty ? nil : $0.due.removeFirst() }) else { return }
            var arguments = ["library", "index", folder, "--cache", cache]
            if let models { arguments += ["--models", models] }
            let start = ContinuousClock.now
            let (exit, errors) = await run(executable, arguments)
            guard let exit else { return }  // stopped
            let seconds = (ContinuousClock.now - start).components.seconds
            if exit == .exited(0) {
                state.withLock { _ = $0.failures.removeValue(forKey: folder) }
                logger.info("library indexed", metadata: ["folder": "\(folder)", "seconds": "\(seconds)"])
            } else {
                // The index command names the problem (missing pack, missing folder); say it once, not per change.
                let why = errors.isEmpty ? exit.description : errors
                let isNew = state.withLock { s -> Bool in
                    defer { s.failures[folder] = why }
                    return s.failures[folder] != why
                }
                if isNew { logger.warning("cannot index a library folder", metadata: ["folder": "\(folder)", "error": "\(why)"]) }
            }
        }
    }

    /// Runs one index child; nil when the keeper is stopped (before or during the run). stderr is kept (its last
    /// lines name the failure); stdout, the item list, is read and dropped by the worker reader.
    private func run(_ executable: String, _ arguments: [String]) async -> (WorkerExit?, String) {
        let errPath = NSTemporaryDirectory() + "prostudio-library-\(getpid())-\(UUID().uuidString).err"
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<(WorkerExit?, String), Never>) in
            let started: WorkerProcess?
            do {
                started = try WorkerProcess(executable: executable, arguments: arguments, stderrPath: errPath, onMessage: { _ in }) { exit in
                    let text = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
                    try? FileManager.default.removeItem(atPath: errPath)
                    let lines = text.split(separator: "\n").filter { !$0.contains("warning:") }.suffix(3).joined(separator: "; ")
                    continuation.resume(returning: (exit, lines))
                }
            } catch {
                continuation.resume(returning: (.exited(127), "\(error)"))
                return
            }
            let stopNow = state.withLock { s -> Bool in
                s.child = started
                return s.stopped
            }
            if stopNow { started?.terminate(grace: .seconds(2)) }
        }
        let stopped = state.withLock { s in
            s.child = nil
            return s.stopped
        }
        return stopped ? (nil, result.1) : result
    }
}
