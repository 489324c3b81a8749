import Foundation
import Journal
import Testing

/// The conformance suite, part 3: webhook deliveries, listings and their pages, deletion marks.
@Suite struct DeliveryConformance {
    func attempt(_ id: Int64, _ n: Int, status: Int?, error: String? = nil) -> DeliveryAttempt {
        DeliveryAttempt(deliveryID: id, attempt: n, at: Date(), seconds: 0.25, status: status, error: error)
    }

    @Test(arguments: StoreFactory.all) func aDeliveryIsRetriedUntilDelivered(_ factory: StoreFactory) async throws {
        let opened = try await factory.make()
        defer { opened.close() }
        let store = opened.store
        let job = try await store.job(in: .done, 1)
        let id = try await store.enqueueDelivery(job: job.id, event: "done", url: "http://hooks.test/a", body: #"{"state":"done"}"#,
                                                 signature: "sha256=ab", maxAttempts: 3)
        let fresh = try #require(try await store.delivery(id: id))
        #expect(fresh.jobID == job.id && fresh.event == "done" && fresh.url == "http://hooks.test/a")
        #expect(fresh.body == #"{"state":"done"}"# && fresh.signature == "sha256=ab")
        #expect(fresh.state == .pending && fresh.attempts == 0 && fresh.maxAttempts == 3)
        #expect(try await store.pendingDeliveries(limit: 10).map(\.id) == [id])

        let retryAt = Date(timeIntervalSinceNow: 30)
        let retrying = try await store.recordDeliveryAttempt(attempt(id, 1, status: 500), delivered: false, retryAt: retryAt)
        #expect(retrying.state == .pending && retrying.attempts == 1)
        #expect(abs(retrying.nextAt.timeIntervalSince(retryAt)) < 0.001)
        #expect(try await store.pendingDeliveries(limit: 10).first.map { abs($0.nextAt.timeIntervalSince(retryAt)) < 0.001 } == true)

        let delivered = try await store.recordDeliveryAttempt(attempt(id, 2, status: 204), delivered: true, retryAt: nil)
        #expect(delivered.state == .delivered && delivered.attempts == 2)
        #expect(try await store.delivery(id: id)?.state == .delivered)
        #expect(try await store.pendingDeliveries(limit: 10).isEmpty)
        let attempts = try await store.deliveryAttempts(of: id)
        #expect(attempts.map(\.attempt) == [1, 2] && attempts.map(\.status) == [500, 204] && attempts.allSatisfy { $0.seconds == 0.25 })
        let messages = try await store.events(of: job.id).map(\.message)
        #expect(messages.contains { $0.contains("failed (HTTP 500); retrying") })
        #expect(messages.contains { $0.contains("delivered to http://hooks.test/a (HTTP 204, attempt 2)") })
    }

    @Test(arguments: StoreFactory.all) func aDeliveryIsGivenUpWhenItsAttemptsAreSpentOrNoRetryIsAsked(_ factory: StoreFactory) async throws {
        let opened = try await factory.make()
        defer { opened.close() }
        let store = opened.store
        let job = try await store.job(in: .failed, 1)
        let spent = try await store.enqueueDelivery(job: job.id, event: "failed", url: "http://a", body: "{}", signature: "s", maxAttempts: 2)
        let final = try await store.enqueueDelivery(job: job.id, event: "failed", url: "http://b", body: "{}", signature: "s", maxAttempts: 5)
        #expect(try await store.recordDeliveryAttempt(attempt(spent, 1, status: nil, error: "connection refused"), delivered: false,
                                                      retryAt: Date()).state == .pending)
        let givenUp = try await store.recordDeliveryAttempt(attempt(spent, 2, status: 503), delivered: false, retryAt: Date())
        #expect(givenUp.state == .failed && givenUp.attempts == 2)
        let refused = try await store.recordDeliveryAttempt(attempt(final, 1, status: 410), delivered: false, retryAt: nil)
        #expect(refused.state == .failed && refused.attempts == 1)
        #expect(try await store.pendingDeliveries(limit: 10).isEmpty)
        #expect(try await store.deliveryAttempts(of: spent).first?.error == "connection refused")
        #expect(try await store.deliveries(of: job.id).map(\.id) == [spent, final])
        #expect(try await store.events(of: job.id).map(\.message).filter { $0.contains("given up") }.count == 2)
        await #expect(throws: (any Error).self) {
            try await store.recordDeliveryAttempt(attempt(999_999, 1, status: 200), delivered: true, retryAt: nil)
        }
        #expect(try await store.delivery(id: 999_999) == nil)
    }

    /// Pending deliveries come soonest due first, at most `limit`, and outlive a restart.
    @Test(arguments: StoreFactory.all) func pendingDeliveriesAreDueFirstAndSurviveARestart(_ factory: StoreFactory) async throws {
        let opened = try await factory.make()
        defer { opened.close() }
        let store = opened.store
        let job = try await store.job(in: .done, 1)
        var ids: [Int64] = []
        for n in 0..<4 {
            ids.append(try await store.enqueueDelivery(job: job.id, event: "done", url: "http://h/\(n)", body: "{}", signature: "s", maxAttempts: 3))
        }
        // Push the first two back: the later one (ids[0]) due last.
        try await store.recordDeliveryAttempt(attempt(ids[0], 1, status: 500), delivered: false, retryAt: Date(timeIntervalSinceNow: 120))
        try await store.recordDeliveryAttempt(attempt(ids[1], 1, status: 500), delivered: false, retryAt: Date(timeIntervalSinceNow: 60))
        let restarted = try await opened.reopen()
        #expect(try await restarted.pendingDeliveries(limit: 10).map(\.id) == [ids[2], ids[3], ids[1], ids[0]])
        #expect(try await restarted.pendingDeliveries(limit: 2).map(\.id) == [ids[2], ids[3]])
        #expect(try await restarted.pendingDeliveries(limit: 10).map(\.url) == ["http://h/2", "http://h/3", "http://h/1", "http://h/0"])
    }
}

@Suite struct ListingConformance {
    @Test(arguments: StoreFactory.all) func jobsAreListedNewestFirstByStateAndName(_ factory: StoreFactory) async throws {
        let opened = try await factory.make()
        defer { opened.close() }
        let store = opened.store
        var made: [Job] = []
        for n in 0..<5 { made.append(try await store.queued(n, name: n % 2 == 0 ? "even" : "odd")) }
        _ = try await store.startNext()
        let all = try await store.jobs(JobFilter())
        #expect(all.map(\.id) == made.reversed().map(\.id))
        #expect(try await store.jobs(JobFilter(states: [.running])).map(\.id) == [made[0].id])
        #expect(try await store.jobs(JobFilter(states: [.queued], limit: 2)).map(\.id) == [made[4].id, made[3].id])
        #expect(try await store.jobs(JobFilter(states: [.queued, .running])).count == 5)
        #expect(try await store.jobs(JobFilter(states: [.done])).isEmpty)
        #expect(try await store.jobs(JobFilter(name: "odd")).map(\.id) == [made[3].id, made[1].id])
        #expect(try await store.jobs(JobFilter(limit: 0)).isEmpty)
    }

    /// Pages by cursor: every job once, newest id first, whatever the page size; filters hold across pages.
    @Test(arguments: StoreFactory.all) func pagesCoverEveryJobOnce(_ factory: StoreFactory) async throws {
        let opened = try await factory.make()
        defer { opened.close() }
        let store = opened.store
        var made: [JobID] = []
        for n in 0..<7 { made.append(try await store.job(in: n < 5 ? .done : .claimed, n).id) }
        for size in [1, 3, 7, 10] {
            var pages: [[ListedJob]] = []
            var cursor: JobID?
            repeat {
                let page = try await store.listedJobs(states: nil, deleted: false, before: cursor, limit: size)
                pages.append(page)
                cursor = page.last?.job.id
            } while pages.last?.count == size
            #expect(pages.flatMap { $0 }.map(\.job.id) == made.sorted(by: >), "page size \(size)")
            #expect(pages.dropLast().allSatisfy { $0.count == size } && pages.last!.count < size)
        }
        // Ids made in the same millisecond sort by their random part: compare with the ids' own order, not creation's.
        let claimed = made[5...].sorted(by: >)
        let claimedPage = try await store.listedJobs(states: [.claimed], deleted: false, before: nil, limit: 1)
        #expect(claimedPage.map(\.job.id) == [claimed[0]] && claimedPage.first?.apiState == "queued")
        let next = try await store.listedJobs(states: [.claimed], deleted: false, before: claimed[0], limit: 5)
        #expect(next.map(\.job.id) == [claimed[1]])
        #expect(try await store.listedJobs(states: nil, deleted: false, before: nil, limit: 0).isEmpty)
    }

    @Test(arguments: StoreFactory.all) func deletedJobsLeaveTheListingButKeepTheirRow(_ factory: StoreFactory) async throws {
        let opened = try await factory.make()
        defer { opened.close() }
        let store = opened.store
        let done = try await store.job(in: .done, 1)
        let running = try await store.job(in: .running, 2)
        let kept = try await store.job(in: .failed, 3)
        do {
            try await store.markDeleted(running.id)
            Issue.record("a running job was marked deleted")
        } catch { #expect(isRefusal(error, running.id, from: .running, to: .running), "\(error)") }
        await #expect(throws: JournalError.self) { try await store.markDeleted(JobID.generate()) }

        let deleted = try await store.markDeleted(done.id)
        let when = try #require(deleted.deletedAt)
        #expect(deleted.apiState == "deleted" && deleted.job.state == .done)
        try await Task.sleep(for: .milliseconds(20))
        // A second mark keeps the first time (as stored: within a millisecond of what the first mark returned).
        let again = try #require(try await store.markDeleted(done.id).deletedAt)
        #expect(abs(again.timeIntervalSince(when)) < 0.001)
        #expect(try await store.listedJob(done.id)?.deletedAt == again)
        #expect(try await store.listedJob(running.id)?.deletedAt == nil)
        #expect(try await store.listedJob(JobID.generate()) == nil)

        let listed = try await store.listedJobs(states: nil, deleted: false, before: nil, limit: 10).map(\.job.id)
        #expect(listed == [kept.id, running.id].sorted(by: >))
        #expect(try await store.listedJobs(states: nil, deleted: true, before: nil, limit: 10).map(\.job.id) == [done.id])
        #expect(try await store.job(done.id)?.state == .done)  // the row and its history stay
        #expect(try await store.events(of: done.id).last?.kind == "deleted")
    }
}
