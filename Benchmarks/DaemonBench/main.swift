// DaemonBench: pick-up latency and throughput of watcher + journal, and the idle cost of a watching daemon.
//
//   swift run -c release --scratch-path .build-daemon DaemonBench [--dir DIR] [--settle-ms 500] [--count 1000]
//   DaemonBench --intake-check [--count 300]: the cost of the supervisor's manifest + asset header check per job
//
// Latency is "file in place (rename returned, or close returned) -> job journaled as queued" (claim committed,
// file moved to state/jobs/ID, queued committed). Not a test: it prints figures and exits 0.
import Foundation
import Intake
import Journal
import Manifest
import Synchronization
import Watcher

@main
struct DaemonBench {
    static func main() async throws {
        let args = CommandLine.arguments
        func value(_ flag: String, _ fallback: String) -> String {
            guard let i = args.firstIndex(of: flag), i + 1 < args.count else { return fallback }
            return args[i + 1]
        }
        if args.contains("--intake-check") {
            try IntakeCheckBench.run(count: Int(value("--count", "300"))!)
            return
        }
        let base = value("--dir", NSTemporaryDirectory())
        let settleMs = Int(value("--settle-ms", "500"))!
        let count = Int(value("--count", "1000"))!
        let root = base + "/prostudio-bench-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }

        let layout = StateLayout(inbox: root + "/inbox", state: root + "/state")
        try layout.prepare()
        let journal = try SQLiteJournal(path: layout.journal)
        let pickUp = PickUp(store: journal, layout: layout)
        let watcher = try InboxWatcher(inbox: layout.inbox, options: .init(settle: .milliseconds(settleMs)))
        let done = Done()
        let consumer = Task { await pickUp.consume(watcher.arrivals) { if case .queued(let job) = $0 { done.mark(job.sourceName) } } }

        print("DaemonBench: \(root) (settle \(settleMs) ms, \(ProcessInfo.processInfo.activeProcessorCount) cores)")

        // 1. Idle: a watching daemon with an empty inbox.
        let idle = await measureIdle(seconds: 10)
        print(String(format: "idle 10 s:            RSS %.1f MB, CPU %.3f s (%.2f%%)", idle.rssMB, idle.cpuSeconds, idle.cpuSeconds / 10 * 100))

        // 2. Latency, renamed in (how `prostudio submit` and careful producers deliver), one every 5 ms.
        let renamed = await dropSpaced(count: count, prefix: "r", gapMicros: 5_000, inPlace: false, inbox: layout.inbox, done: done)
        report("latency, renamed in   ", renamed)

        // 3. Latency, written in place (close-after-write, then the settle check), one every 5 ms.
        let written = await dropSpaced(count: min(count, 200), prefix: "w", gapMicros: 5_000, inPlace: true, inbox: layout.inbox, done: done)
        report("latency, written+close", written)

        // 4. Throughput: `count` manifests dropped at once by 4 writers.
        for inPlace in [false, true] {
            let prefix = inPlace ? "bw" : "br"
            let start = ContinuousClock.now
            await onThread {
                DispatchQueue.concurrentPerform(iterations: 4) { w in
                    for n in stride(from: w, to: count, by: 4) { drop(layout.inbox, "\(prefix)\(n).yaml", inPlace: inPlace) }
                }
            }
            let written = ContinuousClock.now
            let names = (0..<count).map { "\(prefix)\($0).yaml" }
            while !done.all(names) { try await Task.sleep(for: .milliseconds(5)) }
            let end = ContinuousClock.now
            print(String(format: "burst %d %@: written in %.2f s, all journaled %.2f s after the first write",
                         count, inPlace ? "written+close" : "renamed in   ", seconds(written - start), seconds(end - start)))
        }

        let jobs = try await journal.jobs(JobFilter(states: [.queued])).count
        let after = await measureIdle(seconds: 10)
        print(String(format: "idle 10 s after load:  RSS %.1f MB, CPU %.3f s; %d jobs queued in the journal", after.rssMB, after.cpuSeconds, jobs))
        watcher.stop()
        await consumer.value
    }

    static func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

    static func report(_ label: String, _ latencies: [Double]) {
        let sorted = latencies.sorted()
        func p(_ q: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))] * 1000 }
        print(String(format: "%@ n=%d: p50 %.1f ms, p99 %.1f ms, max %.1f ms", label, sorted.count, p(0.5), p(0.99), (sorted.last ?? 0) * 1000))
    }

    /// Drops `count` manifests one at a time, `gapMicros` apart; returns each one's latency in seconds.
    static func dropSpaced(count: Int, prefix: String, gapMicros: UInt32, inPlace: Bool, inbox: String, done: Done) async -> [Double] {
        let placed = Times()
        await onThread {
            for n in 0..<count {
                let name = "\(prefix)\(n).yaml"
                drop(inbox, name, inPlace: inPlace)
                placed.set(name, .now)
                usleep(gapMicros)
            }
        }
        let names = (0..<count).map { "\(prefix)\($0).yaml" }
        while !done.all(names) { try? await Task.sleep(for: .milliseconds(5)) }
        return names.map { seconds(done.time($0)! - placed.get($0)!) }
    }

    static func drop(_ inbox: String, _ name: String, inPlace: Bool) {
        let text = "title: \(name)\nscenes:\n  - text: Hello from the benchmark.\n"
        let target = inbox + "/" + name
        let path = inPlace ? target : inbox + "/." + name + ".tmp"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        _ = text.withCString { write(fd, $0, strlen($0)) }
        close(fd)
        if !inPlace { rename(path, target) }
    }

    struct Idle { var rssMB: Double; var cpuSeconds: Double }

    static func measureIdle(seconds: Int) async -> Idle {
        func cpu() -> Double {
            var u = rusage()
            getrusage(RUSAGE_SELF.rawValue, &u)
            return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
        }
        let before = cpu()
        try? await Task.sleep(for: .seconds(seconds))
        let used = cpu() - before
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let rssKB = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
            .flatMap { Double($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
        return Idle(rssMB: rssKB / 1024, cpuSeconds: used)
    }

    static func onThread(_ body: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in Thread { body(); c.resume() }.start() }
    }
}

/// When each job was journaled as queued, by source name.
final class Done: Sendable {
    private let times = Mutex<[String: ContinuousClock.Instant]>([:])
    func mark(_ name: String) { times.withLock { $0[name] = .now } }
    func time(_ name: String) -> ContinuousClock.Instant? { times.withLock { $0[name] } }
    func all(_ names: [String]) -> Bool { times.withLock { t in names.allSatisfy { t[$0] != nil } } }
}

final class Times: Sendable {
    private let times = Mutex<[String: ContinuousClock.Instant]>([:])
    func set(_ name: String, _ t: ContinuousClock.Instant) { times.withLock { $0[name] = t } }
    func get(_ name: String) -> ContinuousClock.Instant? { times.withLock { $0[name] } }
}


/// `DaemonBench --intake-check [--count N]`: what the supervisor's validate closure costs per job, the manifest loader
/// alone and with the asset header check, on a job folder of 10 photos (1920x1080 JPEG), a clip (MP4, index after
/// the media data) and a music file (MP3), made once with the ffmpeg CLI. The files stay in the page cache, as
/// they are just after a producer wrote them into the inbox.
enum IntakeCheckBench {
    static func run(count: Int) throws {
        let dir = NSTemporaryDirectory() + "prostudio-intake-bench-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try ffmpeg(dir + "/photo0.jpg", ["-f", "lavfi", "-i", "testsrc2=s=1920x1080", "-frames:v", "1"])
        for i in 1..<10 { try FileManager.default.copyItem(atPath: dir + "/photo0.jpg", toPath: dir + "/photo\(i).jpg") }
        try ffmpeg(dir + "/clip.mp4", ["-f", "lavfi", "-i", "testsrc2=s=1280x720:d=5", "-f", "lavfi", "-i", "sine=d=5", "-pix_fmt", "yuv420p", "-shortest"])
        try ffmpeg(dir + "/song.mp3", ["-f", "lavfi", "-i", "sine=d=30", "-metadata", "title=Bed"])
        var yaml = "music: {file: song.mp3}\nscenes:\n"
        for i in 0..<10 { yaml += "  - {narration: Scene \(i)., image: photo\(i).jpg}\n" }
        yaml += "  - {narration: The clip., video: clip.mp4}\n"
        try yaml.write(toFile: dir + "/manifest.yaml", atomically: true, encoding: .utf8)

        var loadOnly: [Double] = [], withHeaders: [Double] = [], headersOnly: [Double] = []
        for _ in 0..<count {
            let t0 = ContinuousClock.now
            let m = try ManifestLoader.load(path: dir)
            let t1 = ContinuousClock.now
            let problems = AssetHeaderCheck.problems(in: m, file: dir)
            let t2 = ContinuousClock.now
            precondition(problems.isEmpty, "\(problems)")
            loadOnly.append(DaemonBench.seconds(t1 - t0)); headersOnly.append(DaemonBench.seconds(t2 - t1)); withHeaders.append(DaemonBench.seconds(t2 - t0))
        }
        print("intake check per job (10 JPEG + 1 MP4 + 1 MP3), \(ProcessInfo.processInfo.activeProcessorCount) cores:")
        DaemonBench.report("  loader alone          ", loadOnly)
        DaemonBench.report("  asset headers alone   ", headersOnly)
        DaemonBench.report("  loader + headers      ", withHeaders)
    }

    static func ffmpeg(_ path: String, _ args: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
        p.arguments = ["-loglevel", "error", "-nostdin", "-y"] + args + [path]
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
    }
}
