import Foundation
import Journal
import Testing
import TestSupport

/// Leases on the PostgreSQL journal (issue 31 item 2): a take holds a lease, heartbeats extend it, a rescuer requeues
/// jobs whose lease expired under the loop guard, and the attempt number fences every later write of the old holder.
@Suite(.enabled(if: postgresTestURL.enabled, "needs PROSTUDIO_TEST_POSTGRES_URL (scripts/test-postgres start)"))
struct PostgresLeaseTests {
    func open(maxAttempts: Int = 3) async throws -> (PostgresJournal, PostgresJournal) {
        let location = PostgresLocation(url: try postgresTestURLWithFreshSchema(), pool: 2)
        return (try await PostgresJournal.open(location, maxAttempts: maxAttempts), try await PostgresJournal.open(location, maxAttempts: maxAttempts))
    }
    func cleanup(_ a: PostgresJournal, _ b: PostgresJournal) { Task.detached { try? await a.dropSchemaForTests(); a.close(); b.close() } }

    @Test func aTakeHoldsALeaseThatHeartbeatsExtend() async throws {
        let (a, b) = try await open()
        defer { cleanup(a, b) }
        let queued = try await a.queued(1)
        let (job, lease) = try #require(try await a.takeNext(host: "h1", worker: "w1", seconds: 30))
        #expect(job.id == queued.id && job.state == .running && lease.attempt == 1 && lease.host == "h1" && lease.worker == "w1")
        #expect(lease.expiresAt > Date().addingTimeInterval(20) && lease.expiresAt < Date().addingTimeInterval(40))
        #expect(try await b.takeNext(host: "h2", worker: "w1", seconds: 30) == nil)
        let later = try await a.heartbeat(lease, seconds: 120)
        #expect(later.expiresAt > lease.expiresAt.addingTimeInterval(60) && later.attempt == 1)
        #expect(try await b.rescueExpired().isEmpty)
        let done = try await a.finish(later, outputs: ["video": "j.mp4"])
        #expect(done.state == .done && done.outputs == ["video": "j.mp4"])
    }

    /// The holder stops (SIGSTOP, a lost network) past its lease: another host rescues and runs the job; the old holder's
    /// heartbeat, stage record, finish and fail are all refused, and the journal keeps the new holder's result.
    @Test func aStaleHolderIsFencedAfterARescue() async throws {
        let (a, b) = try await open()
        defer { cleanup(a, b) }
        let queued = try await a.queued(1)
        let (_, stale) = try #require(try await a.takeNext(host: "h1", worker: "w1", seconds: 0.05))
        _ = try await a.beginStage(stale, stage: "speech", engine: "espeak")
        try await Task.sleep(for: .milliseconds(300))
        await #expect(throws: LeaseLost.self) { try await a.heartbeat(stale, seconds: 30) }  // expired, not yet rescued
        #expect(try await b.rescueExpired() == [queued.id])
        let requeued = try #require(try await b.job(queued.id))
        #expect(requeued.state == .queued && requeued.attempts == 1)
        #expect(try await b.stageRuns(of: queued.id).map(\.outcome) == [.interrupted])
        #expect(try await b.events(of: queued.id).last?.message.contains("lease of h1/w1 for attempt 1 expired; requeued") == true)

        let (_, fresh) = try #require(try await b.takeNext(host: "h2", worker: "w9", seconds: 30))
        #expect(fresh.attempt == 2)
        for write in [
            { try await a.heartbeat(stale, seconds: 30) as Any },
            { try await a.beginStage(stale, stage: "visuals", engine: nil) as Any },
            { try await a.finish(stale, outputs: ["video": "stale.mp4"]) as Any },
            { try await a.fail(stale, error: JobError(code: "x", message: "y"), retryable: true) as Any },
        ] {
            do { _ = try await write(); Issue.record("a stale holder's write went through") } catch let lost as LeaseLost {
                #expect(lost.lease == stale && lost.attempt == 2 && "\(lost)".contains("attempt 1 is lost"), "\(lost)")
            }
        }
        let done = try await b.finish(fresh, outputs: ["video": "fresh.mp4"])
        #expect(done.outputs == ["video": "fresh.mp4"] && done.attempts == 2)
        await #expect(throws: LeaseLost.self) { try await a.finish(stale, outputs: ["video": "stale.mp4"]) }
        #expect(try await a.job(queued.id)?.outputs == ["video": "fresh.mp4"])
    }

    @Test func rescuesCountTowardsTheLoopGuard() async throws {
        let (a, b) = try await open(maxAttempts: 2)
        defer { cleanup(a, b) }
        let queued = try await a.queued(1)
        for round in 1...2 {
            let (_, lease) = try #require(try await a.takeNext(host: "h1", worker: "w\(round)", seconds: 0.02))
            #expect(lease.attempt == round)
            try await Task.sleep(for: .milliseconds(150))
            #expect(try await b.rescueExpired() == [queued.id])
        }
        let failed = try #require(try await a.job(queued.id))
        #expect(failed.state == .failed && failed.error?.code == "attempts_exhausted" && failed.attempts == 2)
    }

    /// Rescuers on every host at once: each expired job is rescued exactly once.
    @Test func concurrentRescuersRescueEachJobOnce() async throws {
        let (a, b) = try await open()
        defer { cleanup(a, b) }
        for n in 0..<12 { _ = try await a.queued(n) }
        while try await a.takeNext(host: "h1", worker: "w", seconds: 0.02) != nil {}
        try await Task.sleep(for: .milliseconds(150))
        let rescued = try await withThrowingTaskGroup(of: [JobID].self) { group in
            for store in [a, b, a, b] { group.addTask { try await store.rescueExpired() } }
            return try await group.reduce(into: [JobID]()) { $0 += $1 }
        }
        #expect(rescued.count == 12 && Set(rescued).count == 12)
        #expect(try await a.jobs(JobFilter(states: [.queued])).count == 12)
    }

    /// A start without a lease (the single-host daemon's `startNext`) never looks expired to a rescuer.
    @Test func anUnleasedStartIsNotRescued() async throws {
        let (a, b) = try await open()
        defer { cleanup(a, b) }
        let queued = try await a.queued(1)
        _ = try #require(try await a.takeNext(host: "h1", worker: "w", seconds: 0.02))
        _ = try await a.suspend(queued.id)
        _ = try #require(try await a.startNext())
        try await Task.sleep(for: .milliseconds(150))
        #expect(try await b.rescueExpired().isEmpty)
    }
}
