import Daemon
import Foundation
import Journal
import Pipeline
import Testing

/// Waits until `condition` holds (polling), or fails after `timeout`.
func eventually(timeout: Duration = .seconds(30), _ condition: () throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try condition() { return true }
        try await Task.sleep(for: .milliseconds(50))
    }
    return false
}

/// The failures found by the fault-injection run of issue 12, each reproduced.
@Suite(.serialized) struct FailureTests {
    /// F9: a second daemon on the same state folder started, reported ready and ran every job twice.
    @Test func aSecondDaemonOnTheSameStateRefusesNamingTheHolder() async throws {
        let f = Folders()
        let first = Daemon(config: f.config)
        let running = Task { try await first.run(handleSignals: false) }
        #expect(try await eventually { StateLock.holder(state: f.root + "/state") == getpid() })
        // Wait for readiness too, so that the second one meets a daemon that is fully up.
        #expect(try await eventually { FileManager.default.fileExists(atPath: f.journal) })

        let second = Daemon(config: f.config)
        await #expect(throws: DaemonError.alreadyRunning(lockFile: f.root + "/state/daemon.lock", pid: getpid())) {
            try await second.run(handleSignals: false)
        }
        let message = DaemonError.alreadyRunning(lockFile: "L", pid: 42).description
        #expect(message.contains("pid 42") && message.contains("L"))

        first.shutdown()
        try await running.value
        // The lock goes with its holder: a new daemon starts.
        let third = Daemon(config: f.config)
        let again = Task { try await third.run(handleSignals: false) }
        #expect(try await eventually { StateLock.holder(state: f.root + "/state") == getpid() })
        try await Task.sleep(for: .milliseconds(200))
        third.shutdown()
        try await again.value
    }
}
