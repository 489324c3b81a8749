import Foundation
import Synchronization

/// Where a composition's time goes, for Benchmarks/compose_floor.py: with `PROSTUDIO_PROFILE=1` in the environment
/// the composer times its parts (thread CPU for work, wall for waits) and prints one JSON line on stderr at the end,
/// with the CPU of every live thread by name. Off (the default) each measured part costs one Bool test.
///
/// Threads are named so libav's own threads can be told apart: a thread inherits its creator's name, so the
/// encoder's threads are those created while the calling thread is named `ps-x264`, the filter graphs' pools
/// those created under `ps-lavfi`.
enum ComposeProfile {
    static let enabled = ProcessInfo.processInfo.environment["PROSTUDIO_PROFILE"] == "1"
    private static let totals = Mutex<[String: Double]>([:])

    static func threadCPU() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    static func wall() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Runs `body`, adding its thread CPU (or its wall time, for waits) to `part`.
    @inline(__always)
    static func measure<T, E: Error>(_ part: String, wait: Bool = false, _ body: () throws(E) -> T) throws(E) -> T {
        guard enabled else { return try body() }
        let start = wait ? wall() : threadCPU()
        defer { add(part, (wait ? wall() : threadCPU()) - start) }
        return try body()
    }

    static func add(_ part: String, _ seconds: Double) {
        guard enabled else { return }
        totals.withLock { $0[part, default: 0] += seconds }
    }

    /// Names the calling thread for the time of `body` (Linux keeps 15 bytes), then gives it its old name back.
    static func named<T, E: Error>(_ name: String, _ body: () throws(E) -> T) throws(E) -> T {
        let restore = rename(name)
        defer { restore() }
        return try body()
    }

    /// Names the calling thread; the closure returned gives it its old name back.
    static func rename(_ name: String) -> () -> Void {
        guard enabled else { return {} }
        let old = threadName()
        setThreadName(name)
        return { setThreadName(old) }
    }

    // Through /proc/thread-self/comm: Glibc's module does not import pthread_setname_np (a GNU extension).
    static func setThreadName(_ name: String) {
        let fd = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let bytes = Array(name.utf8.prefix(15))
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    static func threadName() -> String {
        guard let text = try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8) else { return "" }
        return text.trimmingCharacters(in: .newlines)
    }

    static func processCPU() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    /// CPU seconds of each live thread of this process by thread id, with its name (/proc/self/task/*/stat: utime + stime).
    static func threads() -> [Int: (name: String, cpu: Double)] {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        var out: [Int: (name: String, cpu: Double)] = [:]
        for task in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? [] {
            guard let tid = Int(task), let stat = try? String(contentsOfFile: "/proc/self/task/\(task)/stat", encoding: .utf8),
                  let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")") else { continue }
            // Fields after the name: state is field 3, utime 14, stime 15.
            let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
            guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { continue }
            out[tid] = (String(stat[stat.index(after: open)..<close]), (user + system) / ticks)
        }
        return out
    }

    /// Samples the threads every 100 ms while a composition runs, so that threads which end before it does (a scene's
    /// filter pool, the encoder's helpers) are counted up to their last sample. Its own thread, `ps-profile`, is the
    /// profile's cost (reading /proc), which the benchmark takes off the composition's CPU.
    final class Sampler: Sendable {
        private let state = Mutex<(stop: Bool, before: [Int: Double], seen: [Int: (name: String, cpu: Double)])>((false, [:], [:]))
        let started = ComposeProfile.wall()
        let processStart = ComposeProfile.processCPU()

        init() {
            let now = ComposeProfile.threads()
            state.withLock { $0.before = now.mapValues { $0.cpu }; $0.seen = now }
            let thread = Thread { [self] in
                ComposeProfile.setThreadName("ps-profile")
                while true {
                    let now = ComposeProfile.threads()
                    let stop = state.withLock { s -> Bool in
                        for (tid, t) in now { s.seen[tid] = t }
                        return s.stop
                    }
                    if stop { return }
                    usleep(100_000)
                }
            }
            thread.start()
        }

        /// CPU each thread name spent since the sampler started; ends the sampling.
        func finish() -> [String: Double] {
            let now = ComposeProfile.threads()
            return state.withLock { s in
                s.stop = true
                for (tid, t) in now { s.seen[tid] = t }
                var byName: [String: Double] = [:]
                for (tid, t) in s.seen { byName[t.name, default: 0] += t.cpu - (s.before[tid] ?? 0) }
                return byName.filter { $0.value > 0.0005 }
            }
        }
    }

    /// Prints the parts, the threads and the process CPU as one JSON line, and starts afresh.
    static func report(_ sampler: Sampler) {
        guard enabled else { return }
        let parts = totals.withLock { t -> [String: Double] in defer { t = [:] }; return t }
        let record: [String: Any] = ["wall": wall() - sampler.started, "process_cpu": processCPU() - sampler.processStart,
                                     "parts": parts, "threads": sampler.finish()]
        if let data = try? JSONSerialization.data(withJSONObject: record, options: [.sortedKeys]),
           let line = String(data: data, encoding: .utf8) {
            FileHandle.standardError.write(Data("prostudio compose profile: \(line)\n".utf8))
        }
    }
}
