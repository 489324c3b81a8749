import Foundation
import Journal
import Synchronization

// The wake-up latency of an idle daemon on the PostgreSQL journal (issue 31): one store LISTENs as the daemon does,
// a second store (another daemon, or the API's pick-up elsewhere) claims and queues a job; the time from just before
// the queuing commit to the listener's callback is the wake-up. The reference in the same run is one committed write
// on the same server (a claim alone), so the figure reads as "how many commits' worth of delay" whatever the machine.
//   swift run JournalBench [URL] [N]   (URL defaults to $PROSTUDIO_TEST_POSTGRES_URL; scripts/test-postgres start)
//   swift run JournalBench claims [URL] [N] [HOSTS]   (Claims.swift: N queued jobs taken by HOSTS daemons under leases)
var args = CommandLine.arguments
if args.count > 1, args[1] == "claims" {
    args.remove(at: 1)
    guard let url = args.count > 1 ? args[1] : ProcessInfo.processInfo.environment["PROSTUDIO_TEST_POSTGRES_URL"] else {
        FileHandle.standardError.write(Data("JournalBench: give a postgres:// URL or set PROSTUDIO_TEST_POSTGRES_URL\n".utf8))
        exit(2)
    }
    do {
        try await runClaims(base: url, n: args.count > 2 ? Int(args[2]) ?? 10_000 : 10_000, hosts: args.count > 3 ? Int(args[3]) ?? 3 : 3)
        exit(0)
    } catch {
        FileHandle.standardError.write(Data("JournalBench: \(error)\n".utf8))
        exit(1)
    }
}
guard let base = args.count > 1 ? args[1] : ProcessInfo.processInfo.environment["PROSTUDIO_TEST_POSTGRES_URL"] else {
    FileHandle.standardError.write(Data("JournalBench: give a postgres:// URL or set PROSTUDIO_TEST_POSTGRES_URL\n".utf8))
    exit(2)
}
let n = args.count > 2 ? Int(args[2]) ?? 200 : 200
let schema = "bench_\(getpid())"
let location = PostgresLocation(url: base + (base.contains("?") ? "&" : "?") + "schema=\(schema)", pool: 2)

/// (wake-up µs, one claim's commit µs) for `n` jobs.
func measure(_ location: PostgresLocation, _ n: Int) async throws -> (wake: [Double], commit: [Double]) {
    let idle = try await PostgresJournal.open(location)
    let writer = try await PostgresJournal.open(location)
    let woken = AsyncStream<ContinuousClock.Instant>.makeStream()
    let listener = Task { await idle.listen { isRequest in if !isRequest { woken.continuation.yield(.now) } } }
    try await Task.sleep(for: .milliseconds(300))  // the LISTEN is in place
    var wakes = woken.stream.makeAsyncIterator()

    var wake: [Double] = []
    var commit: [Double] = []
    for i in 0..<n {
        let t0 = ContinuousClock.now
        let claimed = try await writer.claim(NewArrival(name: "b\(i)", sourceName: "b\(i).yaml", sourcePath: "/inbox/b\(i).yaml",
                                                        sourceKind: .file, dedupKey: "bench-\(i)")).job
        commit.append((ContinuousClock.now - t0) / .microseconds(1))
        let t1 = ContinuousClock.now
        _ = try await writer.markQueued(claimed.id, manifestPath: "/m\(i).yaml")
        guard let at = await wakes.next() else { break }
        wake.append((at - t1) / .microseconds(1))
    }
    listener.cancel()
    try? await idle.dropSchemaForTests()
    idle.close(); writer.close()

    return (wake, commit)
}

let wake: [Double], commit: [Double]
do { (wake, commit) = try await measure(location, n) } catch {
    FileHandle.standardError.write(Data("JournalBench: \(error)\n".utf8))
    exit(1)
}
func pct(_ xs: [Double], _ p: Double) -> Double { let s = xs.sorted(); return s[min(s.count - 1, Int(Double(s.count) * p))] }
print(String(format: "wake-up after queue (NOTIFY): median %.0f us, p95 %.0f us, max %.0f us (n=%d)",
             pct(wake, 0.5), pct(wake, 0.95), wake.max() ?? 0, wake.count))
print(String(format: "reference, one committed claim: median %.0f us, p95 %.0f us", pct(commit, 0.5), pct(commit, 0.95)))
print(String(format: "ratio wake/claim (median): %.2f", pct(wake, 0.5) / pct(commit, 0.5)))
