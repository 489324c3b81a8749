import Intake
import Journal
import Synchronization

/// What a running daemon lends to the services beside it (the HTTP API): its journal, its pick-up (so a job posted
/// over HTTP enters exactly as a dropped file does), and the two nudges the inbox's own intake gives. Nil until the
/// journal is recovered and the inbox watched, and again once the daemon stops.
public struct DaemonLive: Sendable {
    public let journal: any APIJournal
    public let pickUp: PickUp
    public let layout: StateLayout
    /// What the inbox's intake does with each pick-up: the rejected sidecar, and waking the runner.
    public let accepted: @Sendable (PickUpOutcome) -> Void
    /// Applies pending requests now (what the request bell does).
    public let applyRequests: @Sendable () async -> Void
}

/// The daemon's `DaemonLive`, set and cleared by `Daemon.run`.
public final class DaemonLiveBox: Sendable {
    private let state = Mutex<DaemonLive?>(nil)
    public init() {}
    public var current: DaemonLive? { state.withLock { $0 } }
    func set(_ live: DaemonLive?) { state.withLock { $0 = live } }
}
