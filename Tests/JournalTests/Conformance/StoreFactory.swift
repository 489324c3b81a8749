import Foundation
import Synchronization
import Journal
import Testing
import TestSupport

/// How the conformance suite gets a store to test: a fresh, empty one with a given loop guard, and the same data
/// opened again by a second store (what a daemon restart does). The suite is written against `JobStore` alone; a
/// new kind of store (PostgreSQL, issue 31) passes the same suite by adding its factory to `all`.
struct StoreFactory: Sendable, CustomTestStringConvertible {
    let name: String
    let make: @Sendable (_ maxAttempts: Int, _ queue: QueuePolicy) async throws -> OpenedStore

    var testDescription: String { name }

    /// PostgreSQL runs when its URL is set, and always under CI=true, where a missing one fails every test with the reason.
    static let all: [StoreFactory] = [.sqliteFile] + (postgresTestURL.enabled ? [.postgres] : [])

    /// The daemon's journal: a real SQLite file (WAL) in a fresh temp folder.
    static let sqliteFile = StoreFactory(name: "SQLite file") { maxAttempts, queue in
        let dir = TempDir("prostudio-store")
        let path = dir.path + "/journal.sqlite3"
        return OpenedStore(store: try SQLiteJournal(path: path, maxAttempts: maxAttempts, queue: queue),
                           reopen: { try SQLiteJournal(path: path, maxAttempts: maxAttempts, queue: queue) },
                           close: { try? FileManager.default.removeItem(at: dir.url) })
    }
}

extension StoreFactory {
    /// PostgreSQL, each test in a schema of its own (tests run in parallel on one server and never see each other's
    /// rows); `close` drops the schema and closes every store opened on it.
    static let postgres = StoreFactory(name: "PostgreSQL") { maxAttempts, queue in
        let location = PostgresLocation(url: try postgresTestURLWithFreshSchema(), pool: 2)
        let first = try await PostgresJournal.open(location, maxAttempts: maxAttempts, queue: queue)
        let opened = Mutex<[PostgresJournal]>([first])
        return OpenedStore(store: first, reopen: {
            let again = try await PostgresJournal.open(location, maxAttempts: maxAttempts, queue: queue)
            opened.withLock { $0.append(again) }
            return again
        }, close: {
            let stores = opened.withLock { $0 }
            Task.detached {
                try? await first.dropSchemaForTests()
                stores.forEach { $0.close() }
            }
        })
    }
}

/// A store under test, how to open its data again, and how to remove that data. A test holds it to its end:
/// `let opened = try await factory.make(); defer { opened.close() }` (the data lives until `close`).
final class OpenedStore: Sendable {
    let store: any JobStore
    private let opener: @Sendable () async throws -> any JobStore
    private let closer: @Sendable () -> Void

    init(store: any JobStore, reopen: @escaping @Sendable () async throws -> any JobStore, close: @escaping @Sendable () -> Void) {
        self.store = store; self.opener = reopen; self.closer = close
    }

    /// A second store on the same data, as the next daemon opens it after a crash or a stop.
    func reopen() async throws -> any JobStore { try await opener() }

    /// Removes the store's data (the temp folder; a PostgreSQL schema).
    func close() { closer() }
}

extension StoreFactory {
    func make() async throws -> OpenedStore { try await make(3, .default) }
    func make(_ maxAttempts: Int) async throws -> OpenedStore { try await make(maxAttempts, .default) }
    func make(queue: QueuePolicy) async throws -> OpenedStore { try await make(3, queue) }
}

/// The n-th test arrival (its own dedup key).
func arrival(_ n: Int, key: String? = nil, name: String? = nil) -> NewArrival {
    NewArrival(name: name ?? "job\(n)", sourceName: "job\(n).yaml", sourcePath: "/inbox/job\(n).yaml", sourceKind: .file,
               dedupKey: key ?? "key-\(n)")
}

extension JobStore {
    /// claim + queue, as pick-up does.
    func queued(_ n: Int, name: String? = nil, order: QueueOrder = QueueOrder()) async throws -> Job {
        let (job, _) = try await claim(arrival(n, name: name))
        return try await markQueued(job.id, manifestPath: "/state/jobs/\(job.id)/job\(n).yaml", order: order)
    }

    /// A new job brought to `state` through the store's own operations.
    func job(in state: JobState, _ n: Int) async throws -> Job {
        let claimed = try await claim(arrival(n)).job
        switch state {
        case .claimed: return claimed
        case .rejected: return try await reject(claimed.id, error: JobError(code: "bad", message: "bad manifest"))
        default: break
        }
        let queued = try await markQueued(claimed.id, manifestPath: "/m\(n).yaml")
        switch state {
        case .queued: return queued
        case .cancelled: return try await cancel(queued.id)
        default: break
        }
        let running = try await start(queued.id)
        switch state {
        case .running: return running
        case .done: return try await finish(running.id, outputs: ["video": "job\(n).mp4"])
        case .failed: return try await fail(running.id, error: JobError(code: "boom", message: "it broke"), retryable: false)
        default: fatalError("unreachable: \(state)")
        }
    }
}

/// Whether `error` is the journal's refusal of exactly this move.
func isRefusal(_ error: any Error, _ id: JobID, from: JobState, to: JobState) -> Bool {
    guard case JournalError.invalidTransition(let eid, let efrom, let eto) = error else { return false }
    return eid == id && efrom == from && eto == to
}
