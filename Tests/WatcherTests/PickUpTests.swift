import Foundation
import Intake
import Journal
import Testing
import Watcher

/// Watcher + pick-up + journal together, on real files.
@Suite struct PickUpTests {
    func intake(_ box: Sandbox, maxAttempts: Int = 3) throws -> (PickUp, SQLiteJournal) {
        let layout = StateLayout(inbox: box.inbox, state: box.state)
        try layout.prepare()
        let journal = try SQLiteJournal(path: layout.journal, maxAttempts: maxAttempts)
        return (PickUp(store: journal, layout: layout), journal)
    }

    @Test func twoHundredFilesFromSeveralWritersBecomeTwoHundredJobs() async throws {
        let box = Sandbox()
        let (pickUp, journal) = try intake(box)
        let watcher = try InboxWatcher(inbox: box.inbox, options: fastSettle)
        let outcomes = Items<PickUpOutcome>()
        let consumer = Task { await pickUp.consume(watcher.arrivals) { outcomes.append($0) } }

        await onThread {
            DispatchQueue.concurrentPerform(iterations: 4) { writer in
                for n in 0..<50 {
                    let name = "w\(writer)-\(n).yaml"
                    // Half are renamed in, half written in place (close-after-write + settle).
                    if n % 2 == 0 { box.drop(name, "title: \(name)\n") } else { box.write(box.inbox + "/" + name, "title: \(name)\n") }
                }
            }
        }
        // Generous: the assertion is exactly-once, not speed (DaemonBench measures that); the full suite shares 2 cores.
        let deadline = ContinuousClock.now + .seconds(180)
        while outcomes.all.count < 200 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        try await Task.sleep(for: .seconds(1))  // anything extra would show up now

        let queued = outcomes.all.compactMap { if case .queued(let j) = $0 { j } else { nil } }
        #expect(outcomes.all.count == 200)
        #expect(queued.count == 200)
        #expect(Set(queued.map(\.sourceName)).count == 200)
        #expect(try await journal.jobs(JobFilter(states: [.queued])).count == 200)
        #expect(try await journal.jobs(JobFilter()).count == 200)
        #expect(box.list(box.inbox).isEmpty)
        #expect(box.list(box.state + "/jobs").count == 200)
        for job in queued.prefix(5) {
            let text = try String(contentsOfFile: try #require(job.manifestPath), encoding: .utf8)
            #expect(text == "title: \(job.sourceName)\n")
        }
        watcher.stop()
        await consumer.value
    }

    @Test func aFolderIsMovedWholeIntoItsJobFolder() async throws {
        let box = Sandbox()
        let (pickUp, journal) = try intake(box)
        let staging = box.inbox + "/.promo.tmp"
        box.mkdir(staging + "/images")
        box.write(staging + "/promo.yaml")
        box.write(staging + "/images/a.png", "png")
        #expect(rename(staging, box.inbox + "/promo") == 0)

        let outcome = try await pickUp.take(Arrival(kind: .folder, name: "promo", path: box.inbox + "/promo", trigger: .movedIn))
        guard case .queued(let job) = outcome else { Issue.record("expected queued, got \(outcome)"); return }
        #expect(job.name == "promo" && job.sourceKind == .folder)
        let folder = box.state + "/jobs/" + job.id.rawValue
        #expect(job.manifestPath == folder + "/promo.yaml")
        #expect(box.list(folder) == ["images", "promo.yaml"])
        #expect(box.list(box.inbox).isEmpty)
        #expect(try await journal.job(job.id)?.state == .queued)
    }

    @Test func aFolderWithoutAManifestIsRejected() async throws {
        let box = Sandbox()
        let (pickUp, _) = try intake(box)
        box.mkdir(box.inbox + "/junk")
        box.write(box.inbox + "/junk/a.png", "png")
        let outcome = try await pickUp.take(Arrival(kind: .folder, name: "junk", path: box.inbox + "/junk", trigger: .movedIn))
        guard case .rejected(let job) = outcome else { Issue.record("expected rejected, got \(outcome)"); return }
        #expect(job.state == .rejected && job.error?.code == "no_manifest")
        #expect(box.list(box.state + "/rejected/" + job.id.rawValue) == ["a.png"])
    }

    @Test func aSecondReportOfTheSameArrivalIsNotASecondJob() async throws {
        let box = Sandbox()
        let (pickUp, journal) = try intake(box)
        box.drop("once.yaml")
        let a = Arrival(kind: .file, name: "once.yaml", path: box.inbox + "/once.yaml", trigger: .movedIn)
        let first = try await pickUp.take(a)
        let second = try await pickUp.take(a)  // already moved: gone
        guard case .queued = first else { Issue.record("expected queued"); return }
        #expect(second == .gone("once.yaml"))
        #expect(try await journal.jobs(JobFilter()).count == 1)
        // The same name dropped again later is a new job (a re-submission).
        box.drop("once.yaml")
        guard case .queued = try await pickUp.take(a) else { Issue.record("expected a second job"); return }
        #expect(try await journal.jobs(JobFilter()).count == 2)
    }

    @Test func killedAfterTheClaimTheRestartFinishesThePickUp() async throws {
        let box = Sandbox()
        let (pickUp, journal) = try intake(box)
        box.drop("crash.yaml", "title: crash\n")
        let path = box.inbox + "/crash.yaml"
        // The claim committed, then the process died before the rename.
        let key = try #require(try DedupKey.make(path: path, name: "crash.yaml"))
        let (claimed, _) = try await journal.claim(NewArrival(name: "crash", sourceName: "crash.yaml", sourcePath: path, sourceKind: .file, dedupKey: key.key))

        // Restart: recovery lists it; the start-up scan may also report the file: both end in one job.
        let report = try await journal.recover()
        #expect(report.claimed.map(\.id) == [claimed.id])
        let outcomes = try await pickUp.reconcile(report.claimed)
        guard case .queued(let job) = outcomes.first else { Issue.record("expected queued"); return }
        #expect(job.id == claimed.id)
        #expect(try await pickUp.take(Arrival(kind: .file, name: "crash.yaml", path: path, trigger: .scanned)) == .gone("crash.yaml"))
        #expect(try await journal.jobs(JobFilter()).count == 1)
        #expect(try String(contentsOfFile: try #require(job.manifestPath), encoding: .utf8) == "title: crash\n")
    }

    @Test func aScanReportingAClaimedFileFindsTheSameJob() async throws {
        let box = Sandbox()
        let (pickUp, journal) = try intake(box)
        box.drop("again.yaml")
        let path = box.inbox + "/again.yaml"
        let key = try #require(try DedupKey.make(path: path, name: "again.yaml"))
        let (claimed, _) = try await journal.claim(NewArrival(name: "again", sourceName: "again.yaml", sourcePath: path, sourceKind: .file, dedupKey: key.key))
        guard case .queued(let job) = try await pickUp.take(Arrival(kind: .file, name: "again.yaml", path: path, trigger: .scanned))
        else { Issue.record("expected queued"); return }
        #expect(job.id == claimed.id)
        #expect(try await journal.jobs(JobFilter()).count == 1)
    }

    @Test func killedAfterTheRenameTheRestartQueuesIt() async throws {
        let box = Sandbox()
        let (pickUp, journal) = try intake(box)
        box.drop("moved.yaml")
        let path = box.inbox + "/moved.yaml"
        let key = try #require(try DedupKey.make(path: path, name: "moved.yaml"))
        let (claimed, _) = try await journal.claim(NewArrival(name: "moved", sourceName: "moved.yaml", sourcePath: path, sourceKind: .file, dedupKey: key.key))
        let folder = box.state + "/jobs/" + claimed.id.rawValue
        box.mkdir(folder)
        #expect(rename(path, folder + "/moved.yaml") == 0)  // ...and then the kill

        let outcomes = try await pickUp.reconcile(try await journal.recover().claimed)
        guard case .queued(let job) = outcomes.first else { Issue.record("expected queued"); return }
        #expect(job.manifestPath == folder + "/moved.yaml")
    }

    @Test func aClaimWhoseFileVanishedFails() async throws {
        let box = Sandbox()
        let (pickUp, journal) = try intake(box)
        let (claimed, _) = try await journal.claim(NewArrival(name: "x", sourceName: "x.yaml", sourcePath: box.inbox + "/x.yaml", sourceKind: .file, dedupKey: "k"))
        #expect(try await pickUp.reconcile([claimed]) == [.gone("x.yaml")])
        #expect(try await journal.job(claimed.id)?.error?.code == "source_vanished")
    }

    @Test func aSymlinkIsRejectedNotFollowed() async throws {
        let box = Sandbox()
        let (pickUp, _) = try intake(box)
        box.write(box.root + "/outside.yaml", "secret: 1\n")
        #expect(symlink(box.root + "/outside.yaml", box.inbox + "/link.yaml") == 0)
        let outcome = try await pickUp.take(Arrival(kind: .file, name: "link.yaml", path: box.inbox + "/link.yaml", trigger: .movedIn))
        guard case .rejected(let job) = outcome else { Issue.record("expected rejected, got \(outcome)"); return }
        #expect(job.error?.code == "not_a_file")
        #expect(FileManager.default.fileExists(atPath: box.root + "/outside.yaml"))
    }

    @Test func contentHashIsSHA256() throws {
        // FIPS 180-2 test vectors, through the dedup key of a file holding them.
        let box = Sandbox()
        box.write(box.inbox + "/abc.txt", "abc")
        box.write(box.inbox + "/empty.txt", "")
        let long = String(repeating: "a", count: 1000)
        box.write(box.inbox + "/long.txt", long)
        #expect(try DedupKey.make(path: box.inbox + "/abc.txt", name: "abc.txt")!.key
            .hasPrefix("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad/"))
        #expect(try DedupKey.make(path: box.inbox + "/empty.txt", name: "empty.txt")!.key
            .hasPrefix("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855/"))
        #expect(try DedupKey.make(path: box.inbox + "/long.txt", name: "long.txt")!.key
            .hasPrefix("sha256:41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3/"))
    }
}
