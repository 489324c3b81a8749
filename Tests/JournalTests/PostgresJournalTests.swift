import Foundation
import Journal
import Synchronization
import Testing
import TestSupport

/// What only the PostgreSQL journal does (issue 31): several stores (daemons) on one database, NOTIFY wake-ups, its URL.
@Suite(.enabled(if: postgresTestURL.enabled, "needs PROSTUDIO_TEST_POSTGRES_URL (scripts/test-postgres start)"))
struct PostgresJournalTests {
    /// Two stores taking jobs at once from one queue: every job started exactly once, by one or the other.
    @Test func twoStoresNeverStartTheSameJob() async throws {
        let location = PostgresLocation(url: try postgresTestURLWithFreshSchema(), pool: 3)
        let a = try await PostgresJournal.open(location)
        let b = try await PostgresJournal.open(location)
        defer { Task.detached { try? await a.dropSchemaForTests(); a.close(); b.close() } }
        for n in 0..<30 { _ = try await a.queued(n) }
        let started = try await withThrowingTaskGroup(of: [JobID].self) { group in
            for store in [a, b, a, b] {
                group.addTask {
                    var mine: [JobID] = []
                    while let job = try await store.startNext() { mine.append(job.id) }
                    return mine
                }
            }
            return try await group.reduce(into: [[JobID]]()) { $0.append($1) }
        }
        let all = started.flatMap { $0 }
        #expect(all.count == 30 && Set(all).count == 30, "\(started.map(\.count))")
        #expect(try await a.jobs(JobFilter(states: [.running])).count == 30)
    }

    /// An idle store LISTENing hears a job another store queued, and a request another process made.
    @Test func aListeningStoreHearsQueuedJobsAndRequests() async throws {
        let location = PostgresLocation(url: try postgresTestURLWithFreshSchema(), pool: 2)
        let idle = try await PostgresJournal.open(location)
        let other = try await PostgresJournal.open(location)
        defer { Task.detached { try? await idle.dropSchemaForTests(); idle.close(); other.close() } }
        let heard = Heard()
        let listener = Task { await idle.listen { isRequest in heard.withLock { $0.append(isRequest) } } }
        defer { listener.cancel() }
        /// Whether a notice of this kind arrives after the first `count` ones, within `within`.
        func hears(_ isRequest: Bool, after count: Int, within: Duration) async throws -> Bool {
            let deadline = ContinuousClock.now + within
            while ContinuousClock.now < deadline {
                if heard.withLock({ $0.dropFirst(count).contains(isRequest) }) { return true }
                try await Task.sleep(for: .milliseconds(5))
            }
            return false
        }
        // LISTEN is in place once a notice sent after it arrives: queue until one does.
        var ready = false
        for n in 0..<40 where !ready {
            _ = try await other.queued(1000 + n)
            ready = try await hears(false, after: 0, within: .milliseconds(250))
        }
        #expect(ready, "no NOTIFY arrived for a queued job")
        let before = heard.withLock { $0.count }
        let job = try await other.queued(1)
        #expect(try await hears(false, after: before, within: .seconds(5)), "queued \(job.id): not heard")
        #expect(!heard.withLock { $0.dropFirst(before).contains(true) }, "a job queued was heard as a request")
        try await other.request(.cancel, job: job.id, by: "test")
        #expect(try await hears(true, after: before, within: .seconds(5)), "request: not heard")
    }

    /// A bad URL is refused naming it and what is wrong, before any connection.
    @Test func aBadURLIsRefusedSayingWhy() async throws {
        for (url, said) in [("postgres://host/db", "names no user"), ("postgres://u@host/", "names no database"),
                            ("http://u@h/d", "postgres://"), ("postgres://u@h/d?schema=a-b", "schema=")] {
            do {
                _ = try await PostgresJournal.open(PostgresLocation(url: url))
                Issue.record("\(url) was accepted")
            } catch {
                #expect("\(error)".contains(said), "\(url): \(error)")
            }
        }
        #expect(PostgresLocation(url: "postgres://u:secret@h/d").redacted == "postgres://u:***@h/d")
    }
}

/// What a listener heard, in order (`true` for a request).
final class Heard: Sendable {
    private let notices = Mutex<[Bool]>([])
    func withLock<T>(_ body: (inout [Bool]) -> T) -> T { notices.withLock { body(&$0) } }
}
