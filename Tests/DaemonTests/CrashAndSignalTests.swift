import Daemon
import Foundation
import Journal
import Testing
import TestSupport

/// The supervisor as a real process, against inputs and signals that used to take it down.
@Suite(.serialized) struct CrashAndSignalTests {
    static let crashMarker = "crash-the-supervisor-here"

    func start(_ f: Folders, crashOn marker: String? = nil, stderr: Pipe? = nil) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: prostudioBinary)
        p.arguments = ["daemon", "--inbox", f.root + "/inbox", "--outbox", f.root + "/outbox", "--state", f.root + "/state"]
        var env = ProcessInfo.processInfo.environment
        env["PROSTUDIO_TEST_CRASH_ON"] = marker
        p.environment = env
        p.standardError = stderr ?? FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        return p
    }

    /// Waits for `p` to exit on its own; kills it (and reports false) after `timeout` when `orKill`.
    func exits(_ p: Process, within timeout: Duration = .seconds(60), orKill: Bool = true) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while p.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        if p.isRunning && orKill { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
        return !p.isRunning
    }

    /// Issue 23 (1): a manifest that crashes the supervisor as pick-up reads it used to crash every restart too
    /// (`reconcile` read it again). Pick-up counts its tries in the journal before reading: after two crashes the next
    /// start quarantines it (`rejected intake_crash`, files kept under state/rejected/ID) and the job behind it runs.
    @Test func aManifestThatCrashesPickUpIsQuarantinedAfterTwoCrashesAndTheJobBehindItRuns() async throws {
        let f = Folders()
        f.drop("poison.yaml", tinyManifest + "\n# \(Self.crashMarker)\n")
        let first = try start(f, crashOn: Self.crashMarker)
        #expect(try await exits(first))
        #expect(first.terminationReason == .uncaughtSignal)
        f.drop("behind.yaml", tinyManifest)
        let second = try start(f, crashOn: Self.crashMarker)
        #expect(try await exits(second))
        #expect(second.terminationReason == .uncaughtSignal)

        let third = try start(f, crashOn: Self.crashMarker)
        defer { if third.isRunning { third.terminate(); third.waitUntilExit() } }
        let poison = try #require(try await waitFor(f, timeout: .seconds(60)) { $0.sourceName == "poison.yaml" && $0.state.isFinal })
        #expect(poison.state == .rejected)
        #expect(poison.error?.code == "intake_crash")
        #expect(poison.error?.message.contains("state/rejected/\(poison.id)") == true)
        #expect(FileManager.default.fileExists(atPath: f.root + "/state/rejected/\(poison.id)/poison.yaml"))
        let behind = try #require(try await waitFor(f) { $0.sourceName == "behind.yaml" && $0.state.isFinal })
        #expect(behind.state == .done && behind.attempts == 1)
        #expect(third.isRunning)
    }
}

extension CrashAndSignalTests {
    /// Issue 23 (10): SIGHUP, SIGUSR1 and SIGUSR2 used to kill the supervisor with no log line, and count an attempt
    /// against the running job. Now each is logged and ignored; the worker is not signalled and the job finishes in
    /// its first attempt.
    @Test func hupAndUsrSignalsAreLoggedAndIgnoredAndCountNoAttempt() async throws {
        let f = Folders()
        let log = Pipe()
        let daemon = try start(f, stderr: log)
        defer { if daemon.isRunning { daemon.terminate(); daemon.waitUntilExit() } }
        #expect(try await eventually { StateLock.liveHolder(state: f.root + "/state") == daemon.processIdentifier })
        f.drop("hup.yaml", slowManifest)
        let job = try #require(try await waitFor(f, isEarly))
        let worker = try #require(childPIDs(of: daemon.processIdentifier).first)
        for sig in [SIGHUP, SIGHUP, SIGHUP, SIGUSR1, SIGUSR2] {
            kill(daemon.processIdentifier, sig)
            try await Task.sleep(for: .milliseconds(300))
        }
        #expect(daemon.isRunning)
        #expect(isRunning(worker))
        let now = try #require(try await JournalClient(path: f.journal).job(job.id))
        #expect(now.state == .running && now.attempts == 1)
        let end = try #require(try await waitFor(f) { $0.id == job.id && $0.state.isFinal })
        #expect(end.state == .done && end.attempts == 1)
        daemon.terminate()
        daemon.waitUntilExit()
        let text = String(decoding: log.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(text.components(separatedBy: "signal ignored").count - 1 == 5)
        #expect(text.contains("SIGHUP") && text.contains("SIGUSR1") && text.contains("SIGUSR2"))
    }
}

extension CrashAndSignalTests {
    /// Issue 23 (6): `rm -rf state` under a running daemon used to let a second daemon start on the same folders (the
    /// lock file went with the folder), and both took arrivals. The first now stops, saying why, and holds the inbox
    /// itself locked until it has: a second one started meanwhile refuses; started after, it is the only one.
    @Test func deletingTheStateFolderStopsTheDaemonAndNoSecondOneRunsBesideIt() async throws {
        let f = Folders()
        let log = Pipe()
        let first = try start(f, stderr: log)
        defer { if first.isRunning { kill(first.processIdentifier, SIGKILL); first.waitUntilExit() } }
        #expect(try await eventually { StateLock.liveHolder(state: f.root + "/state") == first.processIdentifier })
        // Started: the inbox watcher and the state folder's bell are both in place (two inotify descriptors). Removing
        // the folder while the journal is still being opened is another failure, said as one: it cannot be opened.
        #expect(try await eventually { Self.inotifyDescriptors(first.processIdentifier) >= 2 })
        try FileManager.default.removeItem(atPath: f.root + "/state")
        let secondLog = Pipe()
        var second = try start(f, stderr: secondLog)
        #expect(try await exits(first, within: .seconds(30)))
        #expect(first.terminationStatus == 1)
        let text = String(decoding: log.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(text.contains("state folder") && text.contains("removed"))
        // Started while the first still ran, the second refused (the inbox is taken); else it is the only daemon.
        if try await exits(second, within: .seconds(5), orKill: false) {
            #expect(second.terminationStatus == 1)
            let refusal = String(decoding: secondLog.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(refusal.contains("takes arrivals from") && refusal.contains("pid \(first.processIdentifier)"))
            second = try start(f)
        }
        defer { if second.isRunning { second.terminate(); second.waitUntilExit() } }
        #expect(try await eventually { StateLock.liveHolder(state: f.root + "/state") == second.processIdentifier })
        for n in 0..<3 { f.drop("after\(n).yaml", "title: broken\nscenes: 3\n") }
        #expect(try await eventually {
            (try? FileManager.default.contentsOfDirectory(atPath: f.root + "/state/rejected").count) == 3
        })
        #expect(try await JournalClient(path: f.journal).jobs(JobFilter()).count == 3)
    }

    /// Issue 23 (10): a file named with a newline and an ESC forged a log line and wrote the ESC raw. One line now, with
    /// the characters escaped.
    @Test func aFileNameWithANewlineAndAnEscapeGivesOneEscapedLogLine() async throws {
        let f = Folders()
        let log = Pipe()
        let daemon = try start(f, stderr: log)
        #expect(try await eventually { StateLock.liveHolder(state: f.root + "/state") == daemon.processIdentifier })
        f.drop("new\nline\u{1B}[31mred.yaml", "title: broken\nscenes: 3\n")
        #expect(try await waitFor(f) { $0.state == .rejected } != nil)
        try await Task.sleep(for: .milliseconds(300))
        daemon.terminate()
        daemon.waitUntilExit()
        let text = String(decoding: log.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(!text.contains("\u{1B}"))
        let lines = text.split(separator: "\n")
        #expect(!lines.contains { $0.hasPrefix("line") })
        #expect(lines.filter { $0.contains("pick-up: rejected") && $0.contains(#"new\nline\u{1B}[31mred.yaml"#) }.count == 1)
    }
}

extension CrashAndSignalTests {
    /// How many inotify descriptors process `pid` holds (its /proc fdinfo entries with watches).
    static func inotifyDescriptors(_ pid: Int32) -> Int {
        let dir = "/proc/\(pid)/fdinfo"
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { fd in
            (try? String(contentsOfFile: dir + "/" + fd, encoding: .utf8))?.contains("inotify wd:") == true
        }.count
    }
}
