import Daemon
import Foundation
import Journal
import Testing
import TestSupport

/// `prostudio daemon` as systemd runs it: a real process.
@Suite(.serialized) struct ProcessTests {
    func start(_ f: Folders, stderr: Pipe? = nil) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: prostudioBinary)
        p.arguments = ["daemon", "--inbox", f.root + "/inbox", "--outbox", f.root + "/outbox", "--state", f.root + "/state"]
        p.standardError = stderr ?? FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        return p
    }

    /// F9 at the process level: the second daemon exits 1 naming the PID that holds the state folder. Also: the
    /// supervisor process is the small `prostudio-daemon` (same PID, exec'd) and maps neither libav nor libtorch.
    @Test func aSecondDaemonExitsOneNamingTheFirstAndTheSupervisorMapsNoLibav() async throws {
        let f = Folders()
        let first = try start(f)
        #expect(try await eventually { StateLock.holder(state: f.root + "/state") == first.processIdentifier })
        #expect(try await eventually { FileManager.default.fileExists(atPath: f.journal) })
        let exe = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(first.processIdentifier)/exe")
        #expect(exe.hasSuffix("/prostudio-daemon"))
        let maps = try String(contentsOfFile: "/proc/\(first.processIdentifier)/maps", encoding: .utf8)
        #expect(!maps.contains("libavcodec") && !maps.contains("libtorch") && !maps.contains("libespeak"))

        let err = Pipe()
        let second = try start(f, stderr: err)
        second.waitUntilExit()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(second.terminationStatus == 1)
        #expect(message.contains("pid \(first.processIdentifier)"))

        // A job still runs (in a worker started from `prostudio`), then SIGTERM stops the daemon cleanly.
        f.drop("viaprocess.yaml", tinyManifest)
        let done = try #require(try await waitFor(f) { $0.name == "viaprocess" && $0.state.isFinal })
        #expect(done.state == .done)
        first.terminate()
        first.waitUntilExit()
        #expect(first.terminationStatus == 0)
    }
}

extension ProcessTests {
    /// kill -9 of the supervisor: its worker goes too (it would otherwise keep writing the job's files while a
    /// restarted daemon runs the same job again), and the restart finishes the job once.
    @Test func aWorkerDiesWithItsSupervisorAndTheRestartFinishesTheJob() async throws {
        let f = Folders()
        let first = try start(f)
        #expect(try await eventually { StateLock.holder(state: f.root + "/state") == first.processIdentifier })
        #expect(try await eventually { FileManager.default.fileExists(atPath: f.journal) })
        f.drop("orphan.yaml", slowManifest)
        let job = try #require(try await waitFor(f, isEarly))
        let worker = try #require(childPIDs(of: first.processIdentifier).first)
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        #expect(try await eventually(timeout: .seconds(5)) { !isRunning(worker) })

        let second = try start(f)
        let end = try #require(try await waitFor(f) { $0.id == job.id && $0.state.isFinal })
        #expect(end.state == .done && end.attempts == 2)
        #expect(try await JournalClient(path: f.journal).jobs(JobFilter()).count == 1)
        second.terminate()
        second.waitUntilExit()
    }
}

func childPIDs(of parent: pid_t) -> [pid_t] {
    ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry -> pid_t? in
        guard let pid = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
        return fields.count > 1 && pid_t(fields[1]) == parent ? pid : nil
    }
}

/// Alive and not a zombie.
func isRunning(_ pid: pid_t) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return false }
    return stat[stat.index(close, offsetBy: 2)] != "Z"
}

extension ProcessTests {
    /// SIGTERM through the service group: pick-up stops, the running job's worker stops at a checkpoint, the job is
    /// queued again without counting the attempt, and the daemon exits 0.
    @Test func sigtermCheckpointsTheRunningJobAndExitsZero() async throws {
        let f = Folders()
        let daemon = try start(f)
        #expect(try await eventually { StateLock.liveHolder(state: f.root + "/state") == daemon.processIdentifier })
        f.drop("sigterm.yaml", slowManifest)
        let job = try #require(try await waitFor(f, isEarly))
        let started = ContinuousClock.now
        daemon.terminate()
        daemon.waitUntilExit()
        #expect(daemon.terminationStatus == 0)
        #expect(ContinuousClock.now - started < .seconds(10))  // not the SIGKILL grace: the worker stopped by itself
        #expect(childPIDs(of: daemon.processIdentifier).isEmpty)
        let parked = try #require(try await JournalClient(path: f.journal).job(job.id))
        #expect(parked.state == .queued && parked.attempts == 0)
    }
}
