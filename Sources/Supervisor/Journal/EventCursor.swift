import Foundation

/// Follows the events table by id without missing one that commits late. On PostgreSQL ids come from a sequence when
/// a row is inserted, not when its transaction commits: two hosts writing at once can make id 41 visible after 42,
/// and a reader that keeps only "the last id seen" never sees 41. The cursor keeps a low-water mark below which every
/// id was seen, and the ids seen above it; a hole above the mark is read again at each poll until it fills, or until
/// `grace` has passed (a rolled-back insert uses up its id for good; with a job filter, a hole is often another job's
/// event). On SQLite (one writer, ids in commit order) no hole ever fills late and the cursor acts as before.
public struct EventCursor: Sendable {
    /// Every id at or below it was delivered or given up on.
    public private(set) var low: Int64
    private var seen = Set<Int64>()
    private var holes: [Int64: ContinuousClock.Instant] = [:]
    let grace: Duration

    public init(after start: Int64, grace: Duration = .seconds(10)) {
        low = start
        self.grace = grace
    }

    /// The events of `fetched` (a read of ids above `low`) not delivered before, in id order; the mark moves up.
    public mutating func take(_ fetched: [JobEvent], now: ContinuousClock.Instant = .now) -> [JobEvent] {
        let fresh = fetched.filter { $0.id > low && seen.insert($0.id).inserted }.sorted { $0.id < $1.id }
        guard let top = seen.max() else { return fresh }
        var mark = low
        while mark < top {
            let id = mark + 1
            if seen.remove(id) != nil { holes[id] = nil; mark = id; continue }
            let since = holes[id] ?? now
            if now - since >= grace { holes[id] = nil; mark = id; continue }
            holes[id] = since
            break
        }
        low = mark
        return fresh
    }
}
