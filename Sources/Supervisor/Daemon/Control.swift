import Journal
import Synchronization

/// Why the running job was asked to stop.
enum StopReason: Equatable {
    case none, shutdown, cancel, timeout(String)
}

/// State shared by the runner, the request task, the signal handler and the worker's reader thread.
final class Control: Sendable {
    private struct State {
        var shuttingDown = false
        var current: JobID?
        var reason: StopReason = .none
        var stoppers: [@Sendable () -> Void] = []
        var lostInbox = false
        /// What of the state folder was removed or replaced under the daemon.
        var lostState: String?
        /// Stops the running job now (terminates its worker); nil between jobs.
        var stopAction: (@Sendable () -> Void)?
    }
    private let state = Mutex(State())

    var isShuttingDown: Bool { state.withLock { $0.shuttingDown } }
    var lostInbox: Bool { state.withLock { $0.lostInbox } }
    func inboxLost() { state.withLock { $0.lostInbox = true } }
    var lostState: String? { state.withLock { $0.lostState } }
    func stateLost(_ what: String) { state.withLock { $0.lostState = $0.lostState ?? what } }
    /// Whether the running job was asked to stop (a worker ending without its report was stopped, not crashed).
    var shouldStop: Bool { state.withLock { $0.shuttingDown || $0.reason != .none } }

    func onShutdown(_ stop: @escaping @Sendable () -> Void) { state.withLock { $0.stoppers.append(stop) } }

    /// Returns the stop actions to run (outside the lock).
    func beginShutdown() -> [@Sendable () -> Void] {
        state.withLock { s in
            s.shuttingDown = true
            if s.reason == .none && s.current != nil { s.reason = .shutdown }
            return s.stoppers + (s.current != nil ? [s.stopAction].compactMap { $0 } : [])
        }
    }

    /// Sets (or clears) the action that stops the running job. True when a stop was already asked for: run it now.
    func setStopAction(_ action: (@Sendable () -> Void)?) -> Bool {
        state.withLock { s in
            s.stopAction = action
            return action != nil && (s.shuttingDown || s.reason != .none)
        }
    }

    func begin(_ id: JobID) { state.withLock { $0.current = id; $0.reason = $0.shuttingDown ? .shutdown : .none } }

    func end() -> StopReason {
        state.withLock { s in
            let r = s.shuttingDown && s.reason == .none ? .shutdown : s.reason
            s.current = nil
            s.reason = .none
            return r
        }
    }

    func cancel(_ id: JobID) {
        let action = state.withLock { s -> (@Sendable () -> Void)? in
            guard s.current == id && s.reason == .none else { return nil }
            s.reason = .cancel
            return s.stopAction
        }
        action?()
    }

    func timeOut(_ stage: String) {
        let action = state.withLock { s -> (@Sendable () -> Void)? in
            guard s.current != nil && s.reason == .none else { return nil }
            s.reason = .timeout(stage)
            return s.stopAction
        }
        action?()
    }
}
