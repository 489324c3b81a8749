@testable import Daemon
import Foundation
import Testing
import TestSupport

/// After a kill -9 of the supervisor (fault suite: "kill -9 supervisor: partial 1"): a temp file whose writer is a
/// zombie or a reused PID is swept, and a restarted supervisor stops the workers the killed one left running.
@Suite(.serialized) struct OrphanTests {
    /// Starts `argv` and returns its PID, unreaped.
    func spawn(_ argv: [String]) throws -> pid_t {
        var pid: pid_t = 0
        var cArgs = argv.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        let rc = posix_spawn(&pid, argv[0], nil, nil, &cArgs, environ)
        guard rc == 0 else { throw CocoaError(.executableLoad) }
        return pid
    }

    @Test func aZombieWriterIsGone() async throws {
        let pid = try spawn(["/bin/true"])
        defer { var status: Int32 = 0; waitpid(pid, &status, 0) }
        #expect(try await eventually(timeout: .seconds(10)) { ProcessStat(pid: pid)?.isZombie == true })
        #expect(kill(pid, 0) == 0)  // all the sweep went by before: a zombie looked like a live writer
        #expect(Sweeper.isOrphan(pid: pid, modified: Date()))
    }

    @Test func aLiveWriterIsKeptAndAReusedPIDIsNot() throws {
        let pid = try spawn(["/bin/sleep", "30"])
        defer { kill(pid, SIGKILL); var status: Int32 = 0; waitpid(pid, &status, 0) }
        #expect(!Sweeper.isOrphan(pid: pid, modified: Date()))
        // A file last written an hour before this process started was written by an earlier owner of the PID.
        #expect(Sweeper.isOrphan(pid: pid, modified: Date(timeIntervalSinceNow: -3600)))
        #expect(!Sweeper.isOrphan(pid: getpid(), modified: nil))
    }

    /// A worker whose supervisor is gone and that did not notice (here its stdout is not the supervisor's pipe) is
    /// found by its spec's cache folder and stopped; a worker of another state folder is left alone.
    @Test func staleWorkersOfThisStateFolderAreStopped() async throws {
        let mine = Folders(), other = Folders()
        func launch(_ f: Folders) throws {
            // Long enough (a minute of 720p) to be found running however slow the machine; it is killed at the end.
            let long = "output: {height: 720, fps: 30}\nscenes:\n" + (1...30).map { "  - narration: Scene \($0) keeps this worker busy, sentence after sentence.\n" }.joined()
            try long.write(toFile: f.root + "/job.yaml", atomically: true, encoding: .utf8)
            let spec = WorkerSpec(jobID: "stale", name: "stale", manifestPath: f.root + "/job.yaml", displayName: nil,
                                  outbox: f.root + "/outbox", cache: f.root + "/state/cache", models: nil, config: nil,
                                  memoryLimitBytes: nil, cacheMaxBytes: 1 << 30, logLevel: "error")
            let json = String(decoding: try JSONEncoder().encode(spec), as: UTF8.self)
            // Through a shell that exits at once: the worker is orphaned, as after a kill -9 of its supervisor.
            // (Not Foundation's Process: its waitUntilExit waited for the worker too, which inherited its fds.)
            let sh = try spawn(["/bin/sh", "-c", "\"$0\" worker --spec \"$1\" >/dev/null 2>&1 </dev/null &", prostudioBinary, json])
            var status: Int32 = 0
            waitpid(sh, &status, 0)
        }
        try launch(mine)
        try launch(other)
        #expect(try await eventually(timeout: .seconds(10)) { StaleWorkers.find(cache: mine.root + "/state/cache").count == 1 })
        let theirs = StaleWorkers.find(cache: other.root + "/state/cache")
        #expect(theirs.count == 1)
        defer { for pid in theirs { kill(pid, SIGKILL) } }

        let stopped = await StaleWorkers.stop(cache: mine.root + "/state/cache")
        #expect(stopped.count == 1)
        for pid in stopped { #expect(ProcessStat(pid: pid).map(\.isZombie) ?? true) }
        #expect(StaleWorkers.find(cache: mine.root + "/state/cache").isEmpty)
        #expect(StaleWorkers.find(cache: other.root + "/state/cache") == theirs)
    }
}
