import Foundation

/// What /proc says about one process: enough to tell a writer that is gone (a zombie, a reused PID) from one that
/// still runs.
struct ProcessStat: Sendable {
    let pid: Int32
    /// `R`, `S`, `D`, `Z` (exited, not yet reaped), `X`, ...
    let state: Character
    let parent: Int32
    /// When it started (wall clock, to the second: the boot time is whole seconds).
    let started: Date?

    init?(pid: Int32) {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        // After "PID (COMM) ": state, ppid, ... starttime is field 22 of the line, the 20th after the name.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let state = fields[0].first, let parent = Int32(fields[1]) else { return nil }
        self.pid = pid
        self.state = state
        self.parent = parent
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        if let start = Double(fields[19]), ticks > 0, let boot = Self.bootTime {
            started = Date(timeIntervalSince1970: boot + start / ticks)
        } else {
            started = nil
        }
    }

    var isZombie: Bool { state == "Z" || state == "X" }

    /// `btime` of /proc/stat: the boot time, seconds since 1970.
    static let bootTime: Double? = {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("btime ") {
            return Double(line.dropFirst(6).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }()

    /// The process's arguments, or nil when they cannot be read (gone, or not ours to read).
    static func arguments(_ pid: Int32) -> [String]? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !data.isEmpty else { return nil }
        return data.split(separator: 0, omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) }
    }
}

/// Workers a killed supervisor left running. Each exits by itself once it sees its supervisor gone (the pipe's
/// reading end closes), but only when its watch thread next runs, and it may write a file or two before that: at
/// nice 5 on busy cores, after the restarted supervisor had swept. So a starting supervisor stops them first.
enum StaleWorkers {
    /// PIDs of `prostudio worker` processes, not children of this process, whose job writes into `cache` (the
    /// state folder's stage cache: only a supervisor of this state folder, which we now are, starts those).
    static func find(cache: String) -> [Int32] {
        let me = getpid()
        var found: [Int32] = []
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), pid != me, let stat = ProcessStat(pid: pid), stat.parent != me, !stat.isZombie,
                  let args = ProcessStat.arguments(pid), args.count >= 4, args[1] == "worker", args[2] == "--spec",
                  let spec = try? JSONDecoder().decode(WorkerSpec.self, from: Data(args[3].utf8)),
                  spec.cache == cache else { continue }
            found.append(pid)
        }
        return found
    }

    /// SIGKILLs each and waits (up to `timeout`) until it can write nothing more: gone, or a zombie (which init may
    /// take seconds to reap). Returns the PIDs stopped.
    static func stop(cache: String, timeout: Duration = .seconds(5)) async -> [Int32] {
        let pids = find(cache: cache)
        for pid in pids { kill(pid, SIGKILL) }
        let deadline = ContinuousClock.now + timeout
        while pids.contains(where: { ProcessStat(pid: $0).map { !$0.isZombie } ?? false }), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return pids
    }
}
