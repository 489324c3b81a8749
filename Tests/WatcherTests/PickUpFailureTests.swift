import Contract
import Foundation
import Intake
import Journal
import Synchronization
import Testing
import TestSupport
import Watcher

/// Issue 23: pick-ups that fail (the process has no file descriptor left) or crash the process reading a manifest.
@Suite struct PickUpFailureTests {
    /// A pick-up that fails for a reason not the arrival's own is retried until it works, and meanwhile says so
    /// (`health.failing`, which /readyz reads); the arrival is then taken, not lost.
    @Test func aFailingPickUpIsRetriedAndReportedUntilItWorks() async throws {
        let box = Sandbox()
        let layout = StateLayout(inbox: box.inbox, state: box.state)
        try layout.prepare()
        let journal = try SQLiteJournal(path: layout.journal)
        // Failing until the test has seen the failure reported (a fixed count of failures could be over before a
        // loaded machine lets the test look), then working.
        let failing = Atomic(true)
        let pickUp = PickUp(store: journal, layout: layout, validate: { path, _ in
            if failing.load(ordering: .relaxed) { throw IntakeError.syscall("open", path: path, errno: EMFILE) }
            return nil
        })
        let seen = Items<Bool>()
        let (arrivals, feed) = AsyncStream<Arrival>.makeStream()
        let consumer = Task {
            await pickUp.consume(arrivals, backoff: Backoff(first: .milliseconds(100), cap: .seconds(10)), onOutcome: { if case .queued = $0 { seen.append(true) } })
        }
        box.drop("later.yaml")
        feed.yield(Arrival(kind: .file, name: "later.yaml", path: box.inbox + "/later.yaml", trigger: .movedIn))
        #expect(try await eventually { pickUp.health.failing != nil })
        #expect(pickUp.health.failing?.contains("Too many open files") == true)
        #expect(seen.all.isEmpty)
        failing.store(false, ordering: .relaxed)
        #expect(try await eventually { seen.all.count == 1 })
        #expect(pickUp.health.failing == nil)
        #expect(try await journal.jobs(JobFilter(states: [.queued])).count == 1)
        feed.finish()
        await consumer.value
    }

    /// A claimed job whose pick-up was begun twice and never finished (the process died reading it each time) is not
    /// read again: it is rejected `intake_crash`, its files kept in state/rejected/ID. Once is not enough (a kill -9).
    @Test func aPickUpBegunTwiceWithoutFinishingIsQuarantined() async throws {
        let box = Sandbox()
        let layout = StateLayout(inbox: box.inbox, state: box.state)
        try layout.prepare()
        let journal = try SQLiteJournal(path: layout.journal)
        let reads = Mutex(0)
        let pickUp = PickUp(store: journal, layout: layout, validate: { _, _ in reads.withLock { $0 += 1 }; return nil })
        box.drop("poison.yaml")
        let key = try #require(try DedupKey.make(path: box.inbox + "/poison.yaml", name: "poison.yaml"))
        let (job, _) = try await journal.claim(NewArrival(name: "poison", sourceName: "poison.yaml", sourcePath: box.inbox + "/poison.yaml",
                                                          sourceKind: .file, dedupKey: key.key))
        // Two starts that died while reading it: each counted its read first, and never uncounted it.
        _ = try await journal.countPickUp(job.id, by: 1)
        let counted = try await journal.countPickUp(job.id, by: 1)
        #expect(counted.attempts == 2 && counted.state == .claimed)
        let outcomes = try await pickUp.reconcile(try await journal.recover().claimed)
        guard case .rejected(let rejected)? = outcomes.first else { Issue.record("not rejected: \(outcomes)"); return }
        #expect(rejected.error?.code == "intake_crash")
        #expect(rejected.error?.message.contains(layout.rejectedFolder(job.id)) == true)
        #expect(reads.withLock { $0 } == 0)
        #expect(box.list(layout.rejectedFolder(job.id)) == ["poison.yaml"])

        // One interrupted try is retried, and the count goes when the job leaves `claimed`.
        box.drop("once.yaml")
        let onceKey = try #require(try DedupKey.make(path: box.inbox + "/once.yaml", name: "once.yaml"))
        let (once, _) = try await journal.claim(NewArrival(name: "once", sourceName: "once.yaml", sourcePath: box.inbox + "/once.yaml",
                                                           sourceKind: .file, dedupKey: onceKey.key))
        _ = try await journal.countPickUp(once.id, by: 1)
        let again = try await pickUp.reconcile(try await journal.recover().claimed)
        guard case .queued(let queued)? = again.first else { Issue.record("not queued: \(again)"); return }
        #expect(queued.attempts == 0)
    }
}

/// The one retry policy (pick-up, a job's end in the journal, webhooks): doubling from the first wait, capped.
struct BackoffTests {
    @Test func doublesFromTheFirstWaitUpToTheCap() {
        let b = Backoff(first: .milliseconds(500), cap: .seconds(3))
        #expect((1...6).map { b.delay(afterFailures: $0) } == [.milliseconds(500), .seconds(1), .seconds(2), .seconds(3), .seconds(3), .seconds(3)])
        #expect(Backoff(first: .seconds(5), cap: .seconds(600)).delay(afterFailures: 40) == .seconds(600))
    }
}
