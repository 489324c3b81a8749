import Synchronization

/// Conditions that make the daemon not ready while they last, for `/readyz` (and anything else that asks): the
/// daemon sets one when a part of it is failing (pick-up cannot read the inbox: out of file descriptors, permission
/// denied) and clears it once that part works again. Each has a name (`pickup`) and a line saying what is wrong.
public final class Readiness: Sendable {
    private let failing = Mutex<[String: String]>([:])

    public init() {}

    /// `check` is failing, and why (replaces an earlier reason for the same check).
    public func fail(_ check: String, _ reason: String) { failing.withLock { $0[check] = reason } }

    /// `check` works again.
    public func clear(_ check: String) { _ = failing.withLock { $0.removeValue(forKey: check) } }

    /// What is failing now, by check.
    public var problems: [String: String] { failing.withLock { $0 } }
}
