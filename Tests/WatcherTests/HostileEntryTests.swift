import Checksum
import Foundation
import Intake
import Journal
import Testing
import Watcher

/// Inbox entries the fault-injection run of issue 12 found ignored (F4) and an inbox that went away (F11).
@Suite struct HostileEntryTests {
    func intake(_ box: Sandbox) throws -> (PickUp, SQLiteJournal) {
        let layout = StateLayout(inbox: box.inbox, state: box.state)
        try layout.prepare()
        let journal = try SQLiteJournal(path: layout.journal)
        return (PickUp(store: journal, layout: layout), journal)
    }

    /// F4: a hard link made in the inbox was not taken until a restart; symlinks and FIFOs got no rejection.
    @Test func hardLinksAreTakenSymlinksAndFifosRejected() async throws {
        let box = Sandbox()
        let (pickUp, journal) = try intake(box)
        let watcher = try InboxWatcher(inbox: box.inbox, options: fastSettle)
        let outcomes = Items<PickUpOutcome>()
        let consumer = Task { await pickUp.consume(watcher.arrivals) { outcomes.append($0) } }

        // The original lives outside the inbox, on the same filesystem.
        box.write(box.root + "/original.yaml", "title: linked\n")
        #expect(link(box.root + "/original.yaml", box.inbox + "/linked.yaml") == 0)
        #expect(symlink("/etc/passwd", box.inbox + "/evil.yaml") == 0)
        #expect(mkfifo(box.inbox + "/pipe.yaml", 0o644) == 0)

        // The deadline is generous on purpose: in the full parallel suite on 2 loaded cores this process's cooperative
        // pool (where pick-up runs) can be held by other suites for many seconds; 20 s was once not enough. Waiting
        // longer asserts nothing less: exactly these three outcomes, and none more once they are in.
        let deadline = ContinuousClock.now + .seconds(120)
        while outcomes.all.count < 3 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        try await Task.sleep(for: .milliseconds(500))  // a duplicate report would show up here
        let all = outcomes.all
        #expect(all.count == 3, "\(all)")
        let queued = all.compactMap { if case .queued(let j) = $0 { j } else { nil } }
        let rejected = all.compactMap { if case .rejected(let j) = $0 { j } else { nil } }
        #expect(queued.map(\.sourceName) == ["linked.yaml"])
        #expect(Set(rejected.map(\.sourceName)) == ["evil.yaml", "pipe.yaml"])
        #expect(rejected.allSatisfy { $0.error?.code == "not_a_file" })
        #expect(try await journal.jobs(JobFilter()).count == 3)
        #expect(box.list(box.inbox).isEmpty)
        // The link target was never followed: /etc/passwd is still where it was, and only the link moved.
        #expect(FileManager.default.fileExists(atPath: "/etc/passwd"))
        watcher.stop()
        await consumer.value
    }

    /// Symlinks and FIFOs already in the inbox at start are rejected too (the start-up scan used to skip them).
    @Test func specialEntriesFoundAtStartAreRejected() async throws {
        let box = Sandbox()
        let (pickUp, _) = try intake(box)
        #expect(symlink("/etc/hostname", box.inbox + "/old-link.yaml") == 0)
        #expect(mkfifo(box.inbox + "/old-pipe.json", 0o644) == 0)
        let watcher = try InboxWatcher(inbox: box.inbox, options: fastSettle)
        let outcomes = Items<PickUpOutcome>()
        let consumer = Task { await pickUp.consume(watcher.arrivals) { outcomes.append($0) } }
        let deadline = ContinuousClock.now + .seconds(120)  // generous, as above
        while outcomes.all.count < 2 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        let rejected = outcomes.all.compactMap { if case .rejected(let j) = $0 { j } else { nil } }
        #expect(Set(rejected.map(\.sourceName)) == ["old-link.yaml", "old-pipe.json"])
        watcher.stop()
        await consumer.value
    }

    /// F11: after `rm -rf inbox; mkdir inbox` new manifests were never taken.
    @Test func aRemovedInboxIsRecreatedAndWatchedAgain() async throws {
        let box = Sandbox()
        let watcher = try InboxWatcher(inbox: box.inbox, options: fastSettle)
        let arrivals = Recorder(watcher.arrivals)
        box.drop("before.yaml")
        #expect(await arrivals.wait(for: 1).map(\.name) == ["before.yaml"])

        try FileManager.default.removeItem(atPath: box.inbox)
        // The watcher recreates it; a person's `mkdir` may come first or second, both are fine.
        var recreated = false
        let deadline = ContinuousClock.now + .seconds(10)
        while !recreated && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            recreated = FileManager.default.fileExists(atPath: box.inbox)
        }
        #expect(recreated)
        try? FileManager.default.createDirectory(atPath: box.inbox, withIntermediateDirectories: true)
        box.drop("after.yaml")
        box.write(box.inbox + "/written.yaml")
        let names = await arrivals.wait(for: 3).map(\.name)
        #expect(names == ["before.yaml", "after.yaml", "written.yaml"])
        watcher.stop()
    }
}

/// The dedup keys' digest (hex written by hand since the supervisor avoids String(format:)): the FIPS 180-2 vectors.
@Test func sha256HexMatchesTheStandardVectors() {
    #expect(SHA256.hex(of: Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    #expect(SHA256.hex(of: Data()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
}
