import Daemon
import Foundation
import GRDB
import Journal
import Pipeline
import Testing

/// F10: after `database or disk is full`, freeing the space let new jobs run but one job stayed `running`, one
/// `claimed`, and three manifests stayed in the inbox until a restart. Here the journal is made unwritable for a
/// while by another process's exclusive lock (the daemon's writes fail with SQLITE_BUSY after their 10 s wait,
/// the same error path as a full disk), then released: everything must finish without a restart.
@Suite(.serialized) struct JournalOutageTests {
    @Test func pickUpAndJobEndsAreRetriedUntilTheJournalTakesWritesAgain() async throws {
        let f = Folders()
        let daemon = Daemon(config: f.config)
        let running = Task { try await daemon.run(handleSignals: false) }
        // Fully up (its start-up writes done, the inbox watched) once a first job went through.
        f.drop("probe.yaml", tinyManifest)
        _ = try #require(try await waitFor(f) { $0.name == "probe" && $0.state.isFinal })

        // 1. Pick-up while the journal refuses writes.
        var config = Configuration()
        config.allowsUnsafeTransactions = true  // this connection holds a transaction open on purpose
        let blocker = try DatabaseQueue(path: f.journal, configuration: config)
        try await blocker.writeWithoutTransaction { db in try db.execute(sql: "BEGIN EXCLUSIVE") }
        f.drop("during1.yaml", tinyManifest)
        f.drop("during2.yaml", tinyManifest)
        try await Task.sleep(for: .seconds(12))  // the claims time out (10 s) and are being retried
        #expect(try FileManager.default.contentsOfDirectory(atPath: f.root + "/inbox").count == 2)
        try await blocker.writeWithoutTransaction { db in try db.execute(sql: "ROLLBACK") }
        for name in ["during1", "during2"] {
            let job = try #require(try await waitFor(f) { $0.name == name && $0.state.isFinal })
            #expect(job.state == .done)
        }

        // 2. A job whose end cannot be journaled at first.
        f.drop("ending.yaml", longerManifest)
        _ = try #require(try await waitFor(f) { $0.name == "ending" && $0.state == .running && $0.stage == "music" })
        try await blocker.writeWithoutTransaction { db in try db.execute(sql: "BEGIN EXCLUSIVE") }
        try await Task.sleep(for: .seconds(12))
        try await blocker.writeWithoutTransaction { db in try db.execute(sql: "ROLLBACK") }
        let ended = try #require(try await waitFor(f) { $0.name == "ending" && $0.state.isFinal })
        #expect(ended.state == .done)
        #expect(try await sidecarOnce(f, "ending", .done).state == .done)

        // Nothing duplicated, nothing left behind, no restart.
        let all = try await JournalClient(path: f.journal).jobs(JobFilter())
        #expect(all.count == 4 && all.allSatisfy { $0.state == .done })
        #expect(try FileManager.default.contentsOfDirectory(atPath: f.root + "/inbox").isEmpty)
        daemon.shutdown()
        try await running.value
    }
}
