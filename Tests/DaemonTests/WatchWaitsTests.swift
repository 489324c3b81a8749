import Daemon
import Foundation
import Journal
import Testing
import TestSupport

/// Issue 27: `prostudio submit x.yaml && prostudio jobs watch x` failed at once ("no job") when the daemon had not
/// picked the file up yet. `jobs watch NAME` waits for the name to appear, up to `--timeout`.
@Suite(.serialized) struct WatchWaitsTests {
    @Test func watchWaitsForANameNotYetPickedUp() async throws {
        let f = Folders()
        let daemon = Daemon(config: f.config)
        let running = Task { try await daemon.run(handleSignals: false) }
        #expect(try await eventually { FileManager.default.fileExists(atPath: f.journal) })
        async let watched = runCLI(["jobs", "watch", "later", "--state", f.root + "/state", "--timeout", "60"])
        try await Task.sleep(for: .seconds(2))  // the watch is waiting by now: nothing named later exists
        f.drop("later.yaml", tinyManifest)
        let r = try await watched
        #expect(r.status == 0, "\(r.out)\(r.err)")
        #expect(r.out.contains("done"), "\(r.out)")
        daemon.shutdown()
        try await running.value
    }

    @Test func watchGivesUpAfterItsTimeoutNamingIt() async throws {
        let f = Folders()
        _ = try SQLiteJournal(path: f.journal)
        let started = ContinuousClock.now
        let r = try await runCLI(["jobs", "watch", "never", "--state", f.root + "/state", "--timeout", "1"])
        #expect(r.status == 1)
        #expect(r.err.contains("never") && r.err.contains("1 s"), "\(r.err)")
        #expect(ContinuousClock.now - started >= .seconds(1))
    }
}
