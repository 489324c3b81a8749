import Contract
import Foundation

/// What pick-up learns from a manifest about a job's place in the queue (issue 32): journaled with `markQueued`.
public struct QueueOrder: Sendable, Hashable {
    /// Higher first; 0 unless the manifest or a person says otherwise (`QueueOrder.priorityRange`).
    public var priority: Int
    /// Not started before this time.
    public var notBefore: Date?
    /// The model packs its worker will load (`ModelNeeds.packs`): what model-aware ordering compares.
    public var packs: Set<String>
    public init(priority: Int = 0, notBefore: Date? = nil, packs: Set<String> = []) {
        self.priority = priority; self.notBefore = notBefore; self.packs = packs
    }

    /// The priorities a manifest, the API and `jobs priority` accept. Bounded so a typo (an extra digit) cannot bury or
    /// promote a job for ever, and so it fits every store's integer column.
    public static let priorityRange = -100...100
}

/// The fairness bound of model-aware ordering and of priorities (`queue:` in the config): a ready job that another job
/// was started ahead of (out of its FIFO turn: preferred for its packs, or of a higher priority) counts one pass. A job
/// passed `maxPasses` times, or first passed `maxDelay` seconds ago or more, is due: the oldest due job starts next,
/// whatever its priority or packs.
public struct QueuePolicy: Sendable, Hashable {
    public var maxPasses: Int
    public var maxDelay: Double
    /// Defaults: 8 passes or 10 minutes.
    public init(maxPasses: Int = 8, maxDelay: Double = 600) {
        self.maxPasses = max(0, maxPasses); self.maxDelay = max(0, maxDelay)
    }
    public static let `default` = QueuePolicy()
}

/// Whether the queue is paused (`jobs pause`): journaled, so it survives restarts.
public struct QueueState: Sendable, Hashable, Codable {
    public var paused: Bool
    public var changedAt: Date?
    public var changedBy: String?
    public init(paused: Bool = false, changedAt: Date? = nil, changedBy: String? = nil) {
        self.paused = paused; self.changedAt = changedAt; self.changedBy = changedBy
    }
}

/// The choice of the next job, the same for every store: each store reads its ready queued jobs and applies the result
/// in the same transaction.
enum QueuePicker {
    struct Candidate: Sendable {
        var id: JobID
        var priority: Int
        var createdAt: Double
        var packs: Set<String>
        var passes: Int
        var passedSince: Double?
    }

    /// How far into the top priority's FIFO order a job whose packs are loaded is looked for: the stores read this many
    /// candidates, not the whole queue, so a take stays an indexed read of a bounded set with thousands queued.
    static let lookahead = 64

    /// The job to start and the ready jobs it passes over (those before it in FIFO order, among `ready`).
    static func choose(_ ready: [Candidate], preferring: Set<String>, policy: QueuePolicy, now: Double)
        -> (chosen: JobID, passedOver: [JobID], why: String)? {
        let fifo = ready.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
        guard !fifo.isEmpty else { return nil }
        func overdue(_ c: Candidate) -> Bool {
            c.passes >= policy.maxPasses || (c.passedSince.map { now - $0 >= policy.maxDelay } ?? false)
        }
        let chosen: Candidate, why: String
        if let due = fifo.first(where: overdue) {
            chosen = due
            why = "its FIFO turn is due (passed over \(due.passes) times)"
        } else {
            let top = fifo.map(\.priority).max()!
            let group = fifo.filter { $0.priority == top }
            if !preferring.isEmpty, let warm = group.first(where: { $0.packs.isSubset(of: preferring) }) {
                chosen = warm
                why = warm.id == group[0].id ? "FIFO" : "its packs are loaded"
            } else {
                chosen = group[0]
                why = top == fifo[0].priority ? "FIFO" : "priority \(top)"
            }
        }
        let passed = fifo.prefix { $0.id != chosen.id }.map(\.id)
        return (chosen.id, passed, why)
    }

    /// The note of the start's event: nil for a job taken in its FIFO turn; one started ahead of `passed` older jobs
    /// only for its priority says so.
    static func reason(_ why: String, passed: Int, priority: Int) -> String? {
        if why != "FIFO" { return why }
        return passed > 0 ? "priority \(priority)" : nil
    }

    static func encode(_ packs: Set<String>) -> String {
        String(decoding: (try? JSONEncoder().encode(packs.sorted())) ?? Data("[]".utf8), as: UTF8.self)
    }

    static func decode(_ text: String?) -> Set<String> {
        guard let text, let list = try? JSONDecoder().decode([String].self, from: Data(text.utf8)) else { return [] }
        return Set(list)
    }
}

extension QueuePicker {
    /// What `markQueued`'s event adds about the job's order (nothing for a default one).
    static func note(_ order: QueueOrder) -> String {
        var parts: [String] = []
        if order.priority != 0 { parts.append("priority \(order.priority)") }
        if let at = order.notBefore { parts.append("not before \(Timestamp.format(at))") }
        if !order.packs.isEmpty { parts.append("packs \(order.packs.sorted().joined(separator: ", "))") }
        return parts.isEmpty ? "" : " (" + parts.joined(separator: "; ") + ")"
    }
}

/// Which requests make sense: checked where one is written, so a bad one never waits in the table.
enum RequestRules {
    static func check(_ action: RequestAction, job: JobID?, value: Int?) throws {
        switch action {
        case .pause, .resume:
            if job != nil { throw JournalError.badRequest("\(action.rawValue) is about the whole queue, not a job") }
        case .retry, .cancel, .priority:
            if job == nil { throw JournalError.badRequest("\(action.rawValue) needs a job") }
        }
        if action == .priority {
            guard let value else { throw JournalError.badRequest("a priority request needs the new priority") }
            try checkPriority(value)
        }
    }

    static func checkPriority(_ value: Int) throws {
        guard QueueOrder.priorityRange.contains(value) else {
            throw JournalError.badRequest("priority must be an integer from \(QueueOrder.priorityRange.lowerBound) to "
                                          + "\(QueueOrder.priorityRange.upperBound), got \(value)")
        }
    }
}

extension RequestEffect {
    /// What the request's row says it did (`requests.outcome`).
    public var outcome: String {
        switch self {
        case .requeued: "requeued"
        case .cancelled: "cancelled"
        case .stopRunning: "stopping the running job"
        case .ignored(_, let reason): "ignored: \(reason)"
        case .queuePaused(let paused): paused ? "queue paused" : "queue resumed"
        case .reprioritised(_, let value): "priority \(value)"
        }
    }
}
