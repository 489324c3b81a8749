/// How long to wait before trying again: doubling from `first`, never more than `cap`. One policy for every retry
/// the supervisor makes (a pick-up the disk refused, a job end the journal could not record, a webhook delivery),
/// so they back off alike and each is configured by its two numbers.
public struct Backoff: Sendable, Equatable {
    public var first: Duration
    public var cap: Duration

    public init(first: Duration, cap: Duration) {
        self.first = first; self.cap = cap
    }

    /// The wait before try number `attempt + 1`, after `attempt` failures (1 -> `first`).
    public func delay(afterFailures attempt: Int) -> Duration {
        var d = first
        for _ in 1..<max(1, attempt) {
            if d >= cap { break }
            d = d * 2
        }
        return min(d, cap)
    }
}
