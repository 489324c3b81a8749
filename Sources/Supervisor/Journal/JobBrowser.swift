import Foundation

/// What `prostudio jobs show|watch|list` read, from either journal (the SQLite one in `--state`, or the PostgreSQL one a
/// config names): a job found the way a person names it, and events as they are journaled.
public protocol JobBrowser: JobReader {
    /// Events with an id above `after` (of one job, or all), oldest first.
    func events(after: Int64, job: JobID?) async throws -> [JobEvent]
    func lastEventID() async throws -> Int64
    /// Every job's id, sorted: what `ShortIDs` needs.
    func allIDs() async throws -> [String]
    /// Jobs whose id starts with `prefix` (lower case), newest id first, and jobs named `name`, newest first; at
    /// most 21 of each (`lookup` ranks them).
    func lookupCandidates(prefix: String, name: String) async throws -> (byID: [Job], byName: [Job])
}

public enum JobLookup: Sendable {
    /// `note` says why this one when the text named several (a NAME shared by several jobs).
    case found(Job, note: String?)
    /// An id prefix that several jobs share: newest first (at most 21; more are not listed).
    case ambiguous([Job])
    case none
}

extension JobBrowser {
    /// Finds a job the way a person names one: its full id, a unique id prefix (any case), or its NAME. Ids of jobs
    /// made close together share their first ten characters (milliseconds), so an ambiguous prefix lists its
    /// candidates; a NAME several jobs share picks the newest and says so.
    public func lookup(_ text: String) async throws -> JobLookup {
        let key = text.trimmingCharacters(in: .whitespaces)
        guard !key.isEmpty else { return .none }
        let prefix = key.lowercased()
        let (byID, byName) = try await lookupCandidates(prefix: prefix, name: key)
        if let exact = byID.first(where: { $0.id.rawValue == prefix }) { return .found(exact, note: nil) }
        if byID.count == 1 { return .found(byID[0], note: nil) }
        if let newest = byName.first {
            let note = byName.count == 1 ? nil
                : "\(byName.count > 20 ? "more than 20" : "\(byName.count)") jobs are named \(key); this is the newest (name an older one by its id)"
            return .found(newest, note: note)
        }
        if byID.count > 1 { return .ambiguous(byID.sorted { $0.createdAt > $1.createdAt }) }
        return .none
    }

    /// Finds a job by its full id or a unique prefix of it (ids are long; people type the start).
    public func resolve(_ idOrPrefix: String) async throws -> Job? {
        if case .found(let job, _) = try await lookup(idOrPrefix) { return job }
        return nil
    }

    /// Follows events as the daemon journals them, polling every `interval`. With a `job`, returns that job once
    /// it is in a final state (done, failed, cancelled, rejected) and its last events were delivered; without one,
    /// runs until cancelled.
    public func follow(job: JobID?, after start: Int64, interval: Duration = .milliseconds(500),
                       _ onEvent: (JobEvent) -> Void) async throws -> Job? {
        var cursor = EventCursor(after: start)
        func drain() async throws {
            for e in cursor.take(try await events(after: cursor.low, job: job)) { onEvent(e) }
        }
        while true {
            try await drain()
            if let job, let current = try await self.job(job), current.state.isFinal {
                try await drain()  // the final transition's event may have landed after the read above
                return current
            }
            try await Task.sleep(for: interval)
        }
    }
}
