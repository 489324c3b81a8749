import Contract
import Daemon
import Intake
import Watcher
import Foundation
import Journal
import Pipeline
import Testing
import TestSupport

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

        #expect(FileManager.default.createFile(atPath: f.journal, contents: Data()))
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
        let published = try await sidecarOnce(f, "kept", .done)
        daemon.shutdown()
        try await running.value

        // Lost again after it ran: the rebuilt row keeps what the done sidecar reported, so the sidecar projected from
        // it (when a later job of the NAME puts it back) still has its stages, engines, seed and outputs.
        remove(f.journal)
        #expect(try await JournalGuard.repair(config: f.config).restored.map(\.1) == [.done])
        let again = try #require(try await JournalClient(path: f.journal).job(id)).sidecar
        #expect(again.state == .done && again.stages == published.stages && again.engines == published.engines)
        #expect(again.seed == published.seed && again.outputs == published.outputs && again.title == published.title)
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

/// F1, F2: `.NAME.json.PID.tmp` files and `.prostudio-work-ID/` folders stayed after kill -9, cancel while down,
/// attempts_exhausted.
@Suite(.serialized) struct LeftoverTests {
    @Test func tempFilesAndWorkFoldersOfDeadWritersAreSweptAtStart() async throws {
        let f = Folders()
        let layout = StateLayout(inbox: f.root + "/inbox", state: f.root + "/state")
        try layout.prepare()
        // A job the journal knows and that is not running (its pick-up was interrupted and its entry is gone).
        let known: JobID
        do {
            let journal = try SQLiteJournal(path: layout.journal)
            known = try await journal.claim(NewArrival(name: "gone", sourceName: "gone.yaml", sourcePath: f.root + "/inbox/gone.yaml",
                                                       sourceKind: .file, dedupKey: "k-gone")).job.id
        }
        let dead: Int32 = 2_000_000_000  // above any pid_max: no such process
        let outbox = f.root + "/outbox"
        let fm = FileManager.default
        #expect(fm.createFile(atPath: outbox + "/.tiny.json.\(dead).tmp", contents: Data("{".utf8)))
        #expect(fm.createFile(atPath: outbox + "/.live.json.1.tmp", contents: Data("{".utf8)))  // pid 1 is alive
        try fm.createDirectory(atPath: outbox + "/.prostudio-work-\(known)", withIntermediateDirectories: true)
        #expect(fm.createFile(atPath: outbox + "/.prostudio-work-\(known)/video.mp4", contents: Data(count: 1000)))
        try fm.createDirectory(atPath: outbox + "/.prostudio-work-someone-elses-render", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: layout.cache + "/speech", withIntermediateDirectories: true)
        #expect(fm.createFile(atPath: layout.cache + "/speech/.abc.wav.\(dead).tmp", contents: Data(count: 10)))

        let daemon = Daemon(config: f.config)
        let running = Task { try await daemon.run(handleSignals: false) }
        // One sweep removes all three (outbox first, then the cache): wait for the last.
        #expect(try await eventually {
            !fm.fileExists(atPath: outbox + "/.prostudio-work-\(known)") && !fm.fileExists(atPath: outbox + "/.tiny.json.\(dead).tmp")
                && !fm.fileExists(atPath: layout.cache + "/speech/.abc.wav.\(dead).tmp")
        })
        // What belongs to a live process or to another program stays.
        #expect(fm.fileExists(atPath: outbox + "/.live.json.1.tmp"))
        #expect(fm.fileExists(atPath: outbox + "/.prostudio-work-someone-elses-render"))
        daemon.shutdown()
        try await running.value
    }

    @Test func aCompletedJobLeavesNoTempOrWorkFiles() async throws {
        let f = Folders()
        let daemon = Daemon(config: f.config)
        let running = Task { try await daemon.run(handleSignals: false) }
        f.drop("clean.yaml", tinyManifest)
        _ = try #require(try await waitFor(f) { $0.name == "clean" && $0.state.isFinal })
        try await Task.sleep(for: .milliseconds(300))
        let hidden = try FileManager.default.contentsOfDirectory(atPath: f.root + "/outbox").filter { $0.hasPrefix(".") }
        #expect(hidden.isEmpty)
        daemon.shutdown()
        try await running.value
    }
}

/// F3: a manifest named with 250 characters ended `done` with no sidecar (the temp name passed 255 bytes).
@Suite(.serialized) struct LongNameTests {
    @Test func aNameTooLongForItsOutputsIsRejectedWithASidecar() async throws {
        let f = Folders()
        let daemon = Daemon(config: f.config)
        let running = Task { try await daemon.run(handleSignals: false) }
        let long = String(repeating: "n", count: 250)
        // Written in place: a temp name beside it would itself be too long.
        try Data(tinyManifest.utf8).write(to: URL(fileURLWithPath: f.root + "/inbox/" + long + ".yaml"))
        let job = try #require(try await waitFor(f) { $0.sourceName == long + ".yaml" && $0.state.isFinal })
        #expect(job.state == .rejected)
        #expect(job.error?.code == "name_too_long")
        #expect(job.error?.message.contains("250 bytes") == true)
        #expect(job.name.utf8.count <= 200 && job.name.hasPrefix("nnnn"))
        let sidecar = try await sidecarOnce(f, job.name, .rejected)
        #expect(sidecar.state == .rejected && sidecar.error?.code == "name_too_long")
        // A name at the limit is fine (validated, rendered).
        let fits = String(repeating: "m", count: 200)
        try Data(tinyManifest.utf8).write(to: URL(fileURLWithPath: f.root + "/inbox/" + fits + ".yaml"))
        let ok = try #require(try await waitFor(f) { $0.name == fits && $0.state.isFinal })
        #expect(ok.state == .done)
        #expect(FileManager.default.fileExists(atPath: f.root + "/outbox/" + fits + ".json"))
        daemon.shutdown()
        try await running.value
    }
}

/// The contract's one timestamp is formatted by hand (no ICU): the same text as ISO 8601 with milliseconds.
@Test func theContractTimestampIsISO8601WithMilliseconds() {
    let iso = ISO8601DateFormatter()
    iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    for t in [0.0, 1_790_000_000.917, 1_790_000_000.005, 1_790_000_059.999, 951_782_400.5] {
        let d = Date(timeIntervalSince1970: t)
        #expect(Timestamp.format(d) == iso.string(from: d))
    }
}

/// `jobs` showed `running 34%` after the daemon died: the CLI asks /proc/locks whether a daemon holds the state.
@Suite(.serialized) struct LiveHolderTests {
    @Test func theLockHolderIsSeenWithoutTakingTheLock() async throws {
        let f = Folders()
        #expect(StateLock.liveHolder(state: f.root + "/state") == nil)
        let daemon = Daemon(config: f.config)
        let running = Task { try await daemon.run(handleSignals: false) }
        #expect(try await eventually { StateLock.liveHolder(state: f.root + "/state") == getpid() })
        daemon.shutdown()
        try await running.value
        #expect(StateLock.liveHolder(state: f.root + "/state") == nil)
        // The file is still there, naming the last holder; only the live lock counts.
        #expect(StateLock.holder(state: f.root + "/state") == getpid())
    }
}
