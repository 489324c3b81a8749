import Foundation

/// Runs blocking work (an engine call waiting on a semaphore, a child process waited on) on a thread of its own. The
/// test process's cooperative pool has one thread per core (two on these machines): a test blocking one of them can
/// leave none for the model manager (an actor) or the other suites' daemons, and the whole process stalls.
public func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// Polls `probe` every `every` until it holds: true, or false once `timeout` has passed (the caller's `#expect` fails).
public func eventually(timeout: Duration = .seconds(30), every: Duration = .milliseconds(50),
                       _ probe: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await probe() { return true }
        try await Task.sleep(for: every)
    }
    return false
}

/// Waits until a file exists: true, or false once `timeout` has passed.
public func waitForFile(_ path: String, timeout: Duration = .seconds(20)) async throws -> Bool {
    try await eventually(timeout: timeout, every: .milliseconds(20)) { FileManager.default.fileExists(atPath: path) }
}
