import Foundation
import Journal

// `JournalBench claims [URL] [N] [HOSTS]` (issue 31 item 6): N queued jobs, HOSTS stores (one per daemon host, each its
// own pool) taking them under leases at once until the queue is empty; the latency of each take, p50/p99, against one
// committed claim on the same server in the same run. Then what the API and the CLI read with N jobs in the journal:
// `GET /v1/jobs` paged 100 at a time (listedJobs with a cursor) and `prostudio jobs list` (every job at once).

func percentile(_ xs: [Double], _ p: Double) -> Double {
    let s = xs.sorted()
    return s.isEmpty ? 0 : s[min(s.count - 1, Int(Double(s.count) * p))]
}

func microseconds(_ d: Duration) -> Double { d / .microseconds(1) }

func runClaims(base: String, n: Int, hosts: Int) async throws {
    let schema = "bench_claims_\(getpid())"
    let location = PostgresLocation(url: base + (base.contains("?") ? "&" : "?") + "schema=\(schema)", pool: 4)
    let loader = try await PostgresJournal.open(location)
    defer { loader.close() }

    // Queue N jobs, 8 at a time (each is a claim and a markQueued, two commits); the claims' own times are the reference.
    let loadStart = ContinuousClock.now
    let commits = try await withThrowingTaskGroup(of: [Double].self) { group in
        for lane in 0..<8 {
            group.addTask {
                var times: [Double] = []
                for i in stride(from: lane, to: n, by: 8) {
                    let t0 = ContinuousClock.now
                    let job = try await loader.claim(NewArrival(name: "j\(i)", sourceName: "j\(i).yaml", sourcePath: "/inbox/j\(i).yaml",
                                                                sourceKind: .file, dedupKey: "claims-\(i)")).job
                    times.append(microseconds(ContinuousClock.now - t0))
                    _ = try await loader.markQueued(job.id, manifestPath: "/m\(i).yaml")
                }
                return times
            }
        }
        return try await group.reduce(into: [Double]()) { $0 += $1 }
    }
    let loadSeconds = (ContinuousClock.now - loadStart) / .seconds(1)

    // The API's pages and the CLI's full list, with N jobs in the journal.
    var pages: [Double] = []
    var cursor: JobID?
    var listed = 0
    repeat {
        let t0 = ContinuousClock.now
        let page = try await loader.listedJobs(states: nil, deleted: false, before: cursor, limit: 100)
        pages.append(microseconds(ContinuousClock.now - t0))
        listed += page.count
        cursor = page.count == 100 ? page.last?.job.id : nil
    } while cursor != nil
    let t0 = ContinuousClock.now
    let all = try await loader.jobs(JobFilter())
    let fullList = microseconds(ContinuousClock.now - t0)

    // HOSTS daemons take every job under a lease, all at once.
    let stores = try await (0..<hosts).asyncMap { _ in try await PostgresJournal.open(location) }
    let takeStart = ContinuousClock.now
    let takes = try await withThrowingTaskGroup(of: (host: Int, times: [Double]).self) { group in
        for (h, store) in stores.enumerated() {
            group.addTask {
                var times: [Double] = []
                while true {
                    let t0 = ContinuousClock.now
                    guard try await store.takeNext(host: "host\(h)", worker: "w", seconds: 60) != nil else { break }
                    times.append(microseconds(ContinuousClock.now - t0))
                }
                return (h, times)
            }
        }
        return try await group.reduce(into: [(host: Int, times: [Double])]()) { $0.append($1) }
    }
    let takeSeconds = (ContinuousClock.now - takeStart) / .seconds(1)
    let allTakes = takes.flatMap(\.times)
    let running = try await loader.jobs(JobFilter(states: [.running])).count
    try? await loader.dropSchemaForTests()
    for store in stores { store.close() }

    print("queued \(n) jobs in \(String(format: "%.1f", loadSeconds)) s (8 writers)")
    print(String(format: "reference, one committed claim: p50 %.2f ms, p99 %.2f ms", percentile(commits, 0.5) / 1000, percentile(commits, 0.99) / 1000))
    print(String(format: "GET /v1/jobs pages of 100 (%d pages, %d jobs): p50 %.2f ms, p99 %.2f ms", pages.count, listed,
                 percentile(pages, 0.5) / 1000, percentile(pages, 0.99) / 1000))
    print(String(format: "prostudio jobs list (all %d jobs): %.0f ms", all.count, fullList / 1000))
    print(String(format: "%d hosts took %d jobs under leases in %.1f s (%.0f takes/s): take p50 %.2f ms, p99 %.2f ms; ratio p50 take/claim %.2f",
                 hosts, allTakes.count, takeSeconds, Double(allTakes.count) / takeSeconds,
                 percentile(allTakes, 0.5) / 1000, percentile(allTakes, 0.99) / 1000, percentile(allTakes, 0.5) / percentile(commits, 0.5)))
    print("per host: " + takes.sorted { $0.host < $1.host }.map { "host\($0.host) \($0.times.count)" }.joined(separator: ", "))
    print("every job taken exactly once: \(allTakes.count == n && running == n ? "yes" : "NO (\(allTakes.count) takes, \(running) running)")")
}

extension Sequence {
    func asyncMap<T>(_ body: (Element) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        for x in self { out.append(try await body(x)) }
        return out
    }
}
