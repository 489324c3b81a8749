import Foundation
import Journal
import Testing

/// A PostgreSQL id committed after a higher one (two hosts writing at once) must still reach `jobs watch` and the
/// API's event stream: a reader that kept only the last id seen skipped it for good.
@Suite struct EventCursorTests {
    func events(_ ids: [Int64]) -> [JobEvent] {
        ids.map { JobEvent(id: $0, jobID: nil, at: Date(), kind: "k", message: "m\($0)") }
    }

    @Test func anIdThatCommitsLateIsDeliveredOnce() {
        var cursor = EventCursor(after: 0)
        let t0 = ContinuousClock.now
        #expect(cursor.take(events([1, 2, 4]), now: t0).map(\.id) == [1, 2, 4])
        #expect(cursor.low == 2)  // 3 is a hole: read again
        #expect(cursor.take(events([4]), now: t0 + .seconds(1)).isEmpty)
        #expect(cursor.take(events([3, 4, 5]), now: t0 + .seconds(2)).map(\.id) == [3, 5])
        #expect(cursor.low == 5)
        #expect(cursor.take(events([5]), now: t0 + .seconds(3)).isEmpty)
    }

    @Test func aHoleThatNeverFillsIsGivenUpAfterTheGrace() {
        var cursor = EventCursor(after: 10, grace: .seconds(10))
        let t0 = ContinuousClock.now
        #expect(cursor.take(events([11, 13]), now: t0).map(\.id) == [11, 13])
        #expect(cursor.take(events([13]), now: t0 + .seconds(9)).isEmpty && cursor.low == 11)
        #expect(cursor.take(events([13]), now: t0 + .seconds(10)).isEmpty && cursor.low == 13)
        // Ids at or below the start are never delivered.
        #expect(cursor.take(events([9, 14]), now: t0 + .seconds(11)).map(\.id) == [14])
    }
}
