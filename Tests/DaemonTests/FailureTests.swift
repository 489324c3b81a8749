import Daemon
import Intake
import Watcher
import Foundation
import Journal
import Pipeline
import Testing

/// Waits until `condition` holds (polling), or fails after `timeout`.
func eventually(timeout: Duration = .seconds(30), _ condition: () throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try condition() { return true }
        try await Task.sleep(for: .milliseconds(50))
    }
    return false
}

/// The failures found by the fault-injection run of issue 12, each reproduced.
@Suite(.serialized) struct FailureTests {
    /// F9: a second daemon on the same state folder started, reported ready and ran every job twice.
    @Test func aSecondDaemonOnTheSameStateRefusesNamingTheHolder() async throws {
        let f = Folders()
        let first = Daemon(config: f.config)
        let running = Task { try await first.run(handleSignals: false) }
        #expect(try await eventually { StateLock.holder(state: f.root + "/state") == getpid() })
        // Wait for readiness too, so that the second one meets a daemon that is fully up.
        #expect(try await eventually { FileManager.default.fileExists(atPath: f.journal) })

        let second = Daemon(config: f.config)
        await #expect(throws: DaemonError.alreadyRunning(lockFile: f.root + "/state/daemon.lock", pid: getpid())) {
            try await second.run(handleSignals: false)
        }
        let message = DaemonError.alreadyRunning(lockFile: "L", pid: 42).description
        #expect(message.contains("pid 42") && message.contains("L"))

        first.shutdown()
        try await running.value
        // The lock goes with its holder: a new daemon starts.
        let third = Daemon(config: f.config)
        let again = Task { try await third.run(handleSignals: false) }
        #expect(try await eventually { StateLock.holder(state: f.root + "/state") == getpid() })
        try await Task.sleep(for: .milliseconds(200))
        third.shutdown()
        try await again.value
    }
}

/// F12: a lost, emptied or damaged journal next to job folders.
@Suite(.serialized) struct JournalLossTests {
    /// Journals one queued job the way pick-up does (no daemon): its folder sits in `state/jobs/ID`.
    func queuedJob(_ f: Folders) async throws -> JobID {
        let layout = StateLayout(inbox: f.root + "/inbox", state: f.root + "/state")
        try layout.prepare()
        let journal = try SQLiteJournal(path: layout.journal)
        f.drop("kept.yaml", tinyManifest)
        let pickUp = PickUp(store: journal, layout: layout)
        guard case .queued(let job) = try await pickUp.take(Arrival(kind: .file, name: "kept.yaml", path: f.root + "/inbox/kept.yaml",
                                                                    trigger: .movedIn)) else {
            Issue.record("not queued"); throw CancellationError()
        }
        return job.id
    }

    func remove(_ journal: String) { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: journal + s) } }

    @Test func aDeletedOrEmptiedJournalRefusesToStartAndRepairPutsTheJobsBack() async throws {
        let f = Folders()
        let id = try await queuedJob(f)
        remove(f.journal)
        await #expect(throws: DaemonError.journalMissing(journal: f.journal, jobFolders: 1)) {
            try await Daemon(config: f.config).run(handleSignals: false)
        }
        #expect(DaemonError.journalMissing(journal: f.journal, jobFolders: 1).description.contains("prostudio doctor --repair"))
        // Nothing was created in its place.
        #expect(!FileManager.default.fileExists(atPath: f.journal) || JournalGuardProbe.size(f.journal) == 0)

        FileManager.default.createFile(atPath: f.journal, contents: Data())
        await #expect(throws: DaemonError.journalMissing(journal: f.journal, jobFolders: 1)) {
            try await Daemon(config: f.config).run(handleSignals: false)
        }

        let report = try await JournalGuard.repair(config: f.config)
        #expect(report.restored.map(\.0) == [id] && report.restored.map(\.1) == [.queued])
        let restored = try #require(try await JournalClient(path: f.journal).job(id))
        #expect(restored.state == .queued && restored.name == "kept")
        #expect(restored.manifestPath == f.root + "/state/jobs/\(id)/kept.yaml")
        // Repair twice: nothing more to do.
        #expect(try await JournalGuard.repair(config: f.config).kept == 1)

        // Now the daemon starts and runs the job it would have forgotten.
        let daemon = Daemon(config: f.config)
        let running = Task { try await daemon.run(handleSignals: false) }
        let done = try #require(try await waitFor(f) { $0.id == id && $0.state.isFinal })
        #expect(done.state == .done)
        daemon.shutdown()
        try await running.value
    }

    @Test func aJournalReplacedByAnEmptyOneIsRefusedToo() async throws {
        let f = Folders()
        _ = try await queuedJob(f)
        remove(f.journal)
        _ = try SQLiteJournal(path: f.journal)  // a fresh, valid, empty journal
        await #expect(throws: DaemonError.self) { try await Daemon(config: f.config).run(handleSignals: false) }
    }

    @Test func aDamagedJournalIsDetectedAtStart() async throws {
        let f = Folders()
        do {
            let layout = StateLayout(inbox: f.root + "/inbox", state: f.root + "/state")
            try layout.prepare()
            let journal = try SQLiteJournal(path: layout.journal)
            for n in 0..<300 {
                _ = try await journal.claim(NewArrival(name: "n\(n)", sourceName: "n\(n).yaml", sourcePath: "/x/n\(n).yaml",
                                                       sourceKind: .file, dedupKey: "k\(n)" + String(repeating: "x", count: 200)))
            }
            try await journal.checkpoint()
        }
        // Overwrite pages past the header (the file still opens; its b-trees are garbage).
        let handle = try #require(FileHandle(forUpdatingAtPath: f.journal))
        let size = try handle.seekToEnd()
        #expect(size > 16 * 4096)
        try handle.seek(toOffset: 8 * 4096)
        try handle.write(contentsOf: Data(repeating: 0xA5, count: 6 * 4096))
        try handle.close()
        for s in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: f.journal + s) }

        let error = await #expect(throws: DaemonError.self) { try await Daemon(config: f.config).run(handleSignals: false) }
        guard case .journalCorrupt = error else { Issue.record("expected journalCorrupt, got \(String(describing: error))"); return }
        #expect("\(error!)".contains("doctor --repair"))
    }
}

enum JournalGuardProbe {
    static func size(_ path: String) -> Int64 {
        var st = stat()
        return stat(path, &st) == 0 ? Int64(st.st_size) : -1
    }
}
