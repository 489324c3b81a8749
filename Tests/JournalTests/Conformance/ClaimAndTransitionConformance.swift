import Foundation
import Journal
import Testing

/// The conformance suite, part 1: claims and dedup keys, every transition allowed and refused, a job's run.
@Suite struct ClaimConformance {
    @Test(arguments: StoreFactory.all) func anArrivalIsJournaledAsClaimed(_ factory: StoreFactory) async throws {
        let opened = try await factory.make()
        defer { opened.close() }
        let store = opened.store
        let (job, isNew) = try await store.claim(NewArrival(name: "promo", sourceName: "promo", sourcePath: "/inbox/promo",
                                                            sourceKind: .folder, dedupKey: "k"))
        #expect(isNew)
        #expect(job.state == .claimed && job.manifestPath == nil && job.attempts == 0 && !job.cancelRequested)
        #expect(job.name == "promo" && job.sourceName == "promo" && job.sourcePath == "/inbox/promo" && job.sourceKind == .folder)
        #expect(job.dedupKey == "k" && job.progress == 0 && job.stage == nil && job.error == nil && job.outputs.isEmpty)
        #expect(try await store.job(job.id) == job)
        #expect(try await store.events(of: job.id).map(\.message) == ["claimed /inbox/promo"])
        let report = try await store.recover()
        #expect(report.claimed.map(\.id) == [job.id])
    }

    @Test(arguments: StoreFactory.all) func aDedupKeyIsClaimedOnceForever(_ factory: StoreFactory) async throws {
        let opened = try await factory.make()
        defer { opened.close() }
        let store = opened.store
        let first = try await store.claim(arrival(1))
        let again = try await store.claim(arrival(2, key: "key-1"))
        #expect(first.isNew && !again.isNew)
        #expect(again.job.id == first.job.id && again.job.sourceName == "job1.yaml")
        let other = try await store.claim(arrival(3))
        #expect(other.isNew && other.job.id != first.job.id)
        // Still the same job once it has run and ended.
        _ = try await store.markQueued(first.job.id, manifestPath: "/m.yaml")
        _ = try await store.start(first.job.id)
        _ = try await store.finish(first.job.id, outputs: [:])
        let late = try await store.claim(arrival(1))
        #expect(!late.isNew && late.job.id == first.job.id && late.job.state == .done)
        #expect(try await store.jobs(JobFilter()).count == 2)
    }

    @Test(arguments: StoreFactory.all) func concurrentClaimsOfOneKeyMakeOneJob(_ factory: StoreFactory) async throws {
        let opened = try await factory.make()
        defer { opened.close() }
        let store = opened.store
        let claims = try await withThrowingTaskGroup(of: (job: Job, isNew: Bool).self) { group in
            for n in 0..<8 { group.addTask { try await store.claim(arrival(n, key: "same")) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(claims.filter(\.isNew).count == 1)
        #expect(Set(claims.map(\.job.id)).count == 1)
        #expect(try await store.jobs(JobFilter()).count == 1)
    }

    @Test(arguments: StoreFactory.all) func pickUpReadsAreCountedOnlyWhileClaimed(_ factory: StoreFactory) async throws {
        let opened = try await factory.make()
        defer { opened.close() }
        let store = opened.store
        let job = try await store.claim(arrival(1)).job
        #expect(try await store.countPickUp(job.id, by: 1).attempts == 1)
        #expect(try await store.countPickUp(job.id, by: 1).attempts == 2)
        #expect(try await store.countPickUp(job.id, by: -1).attempts == 1)
        #expect(try await store.countPickUp(job.id, by: -5).attempts == 0)  // never below zero
        _ = try await store.countPickUp(job.id, by: 1)
        let queued = try await store.markQueued(job.id, manifestPath: "/m.yaml")
        #expect(queued.attempts == 0)  // leaving `claimed` resets the count
        do {
            _ = try await store.countPickUp(job.id, by: 1)
            Issue.record("a queued job's pick-up was counted")
        } catch { #expect(isRefusal(error, job.id, from: .queued, to: .claimed), "\(error)") }
        #expect(try await store.job(job.id)?.attempts == 0)
        let rejected = try await store.reject(try await store.claim(arrival(2)).job.id, error: JobError(code: "c", message: "m"))
        #expect(rejected.attempts == 0)
    }
}

@Suite struct TransitionConformance {
    /// The state machine every store enforces, written out: (from, to) pairs allowed; every other pair is refused.
    static let allowed: Set<[JobState]> = [
        [.claimed, .queued], [.claimed, .rejected], [.claimed, .failed],
        [.queued, .running], [.queued, .cancelled], [.queued, .rejected],
        [.running, .done], [.running, .failed], [.running, .cancelled], [.running, .queued], [.running, .rejected],
        [.failed, .queued], [.cancelled, .queued],
    ]

    /// Each operation that moves a job, with the state it moves to.
    static let moves: [(name: String, to: JobState, run: @Sendable (any JobStore, JobID) async throws -> Job)] = [
        ("markQueued", .queued, { try await $0.markQueued($1, manifestPath: "/again.yaml") }),
        ("suspend", .queued, { try await $0.suspend($1) }),
        ("reject", .rejected, { try await $0.reject($1, error: JobError(code: "bad", message: "bad", field: "scenes")) }),
        ("start", .running, { try await $0.start($1) }),
        ("finish", .done, { try await $0.finish($1, outputs: ["video": "v.mp4"]) }),
        ("fail", .failed, { try await $0.fail($1, error: JobError(code: "boom", message: "broke"), retryable: false) }),
        ("cancel", .cancelled, { try await $0.cancel($1) }),
    ]

    @Test func theWrittenTableIsTheModelsOwn() {
        for from in JobState.allCases {
            for to in JobState.allCases { #expect(from.canMove(to: to) == Self.allowed.contains([from, to]), "\(from) -> \(to)") }
        }
    }

    /// Every operation from every state: done when the table allows it (the job then is in the new state, with an
    /// event saying so), else refused naming the job and both states, and nothing changes.
    @Test(arguments: StoreFactory.all) func everyMoveFromEveryState(_ factory: StoreFactory) async throws {
        let opened = try await factory.make()
        defer { opened.close() }
        let store = opened.store
        var n = 0
        for from in JobState.allCases {
            for move in Self.moves {
                n += 1
                let before = try await store.job(in: from, n)
                #expect(before.state == from)
                let events = try await store.events(of: before.id).count
                if Self.allowed.contains([from, move.to]) {
                    let after = try await move.run(store, before.id)
                    #expect(after.state == move.to, "\(move.name) from \(from)")
                    #expect(try await store.job(before.id) == after)
                    let last = try await store.events(of: before.id)
                    #expect(last.count == events + 1 && last.last?.message.hasPrefix("\(from.rawValue) -> \(move.to.rawValue)") == true,
                            "\(move.name) from \(from): \(last.map(\.message))")
                } else {
                    do {
                        _ = try await move.run(store, before.id)
                        Issue.record("\(move.name) moved a \(from.rawValue) job")
                    } catch {
                        #expect(isRefusal(error, before.id, from: from, to: move.to), "\(move.name) from \(from): \(error)")
                    }
                    #expect(try await store.job(before.id) == before, "\(move.name) from \(from) changed the job")
                    #expect(try await store.events(of: before.id).count == events)
                }
            }
        }
    }

    @Test(arguments: StoreFactory.all) func movingAJobThatIsNotThereSaysSo(_ factory: StoreFactory) async throws {
        let opened = try await factory.make()
        defer { opened.close() }
        let store = opened.store
        let ghost = JobID.generate()
        for move in Self.moves {
            do {
                _ = try await move.run(store, ghost)
                Issue.record("\(move.name) of a missing job succeeded")
            } catch JournalError.notFound(let id) {
                #expect(id == ghost)
            } catch { Issue.record("\(move.name): \(error)") }
        }
        #expect(try await store.job(ghost) == nil)
        await #expect(throws: JournalError.self) { try await store.setProgress(ghost, stage: "plan", progress: 0.5) }
        await #expect(throws: (any Error).self) { try await store.request(.cancel, job: ghost, by: "test") }
    }

    @Test(arguments: StoreFactory.all) func aJobRunsThroughItsStages(_ factory: StoreFactory) async throws {
        let opened = try await factory.make()
        defer { opened.close() }
        let store = opened.store
        let job = try await store.queued(1)
        #expect(try await store.startNext() != nil)
        #expect(try await store.startNext() == nil)
        await #expect(throws: JournalError.self) { try await store.setProgress(try await store.queued(2).id, stage: "plan", progress: 0.1) }

        let speech = try await store.beginStage(job.id, stage: "speech", engine: "espeak")
        #expect(try await store.job(job.id)?.stage == "speech")
        try await store.setProgress(job.id, stage: "speech", progress: 1.7)
        #expect(try await store.job(job.id)?.progress == 1)  // clamped to 0...1
        try await store.setProgress(job.id, stage: "speech", progress: 0.4)
        try await store.endStage(run: speech, StageEnd(outcome: .ok, engine: "piper", peakMemoryBytes: 1234, cacheHit: true, seconds: 2.5))
        let visuals = try await store.beginStage(job.id, stage: "visuals", engine: "procedural")
        try await store.endStage(run: visuals, outcome: .failed, peakMemoryBytes: nil, cacheHit: false)
        try await store.setSeed(job.id, seed: UInt64.max - 1)  // above Int64.max: kept bit for bit

        let runs = try await store.stageRuns(of: job.id)
        #expect(runs.map(\.stage) == ["speech", "visuals"] && runs.map(\.attempt) == [1, 1])
        #expect(runs[0].outcome == .ok && runs[0].engine == "piper" && runs[0].peakMemoryBytes == 1234 && runs[0].cacheHit)
        #expect(runs[0].seconds == 2.5 && runs[0].endedAt.map { abs($0.timeIntervalSince(runs[0].startedAt) - 2.5) < 0.001 } == true)
        #expect(runs[1].outcome == .failed && runs[1].engine == "procedural" && !runs[1].cacheHit && runs[1].seconds != nil)

        let done = try await store.finish(job.id, outputs: ["video": "job1.mp4", "sidecar": "job1.json"])
        #expect(done.state == .done && done.progress == 1 && done.stage == nil && done.error == nil)
        #expect(done.outputs == ["video": "job1.mp4", "sidecar": "job1.json"] && done.attempts == 1)
        #expect(done.seed.map { UInt64(bitPattern: $0) } == UInt64.max - 1)
        let messages = try await store.events(of: job.id).map(\.message)
        #expect(messages.first == "claimed /inbox/job1.yaml")
        #expect(messages.filter { $0.contains(" -> ") }.map { String($0.prefix(while: { $0 != ":" })) }
                == ["claimed -> queued", "queued -> running", "running -> done"])
    }

    @Test(arguments: StoreFactory.all) func theOldestQueuedJobStartsFirst(_ factory: StoreFactory) async throws {
        let opened = try await factory.make()
        defer { opened.close() }
        let store = opened.store
        let jobs = try await (1...4).asyncMap { try await store.queued($0) }
        _ = try await store.cancel(jobs[1].id)
        let started = try await [store.startNext(), store.startNext(), store.startNext()]
        #expect(started.map { $0?.id } == [jobs[0].id, jobs[2].id, jobs[3].id])
        #expect(started.allSatisfy { $0?.state == .running && $0?.attempts == 1 && $0?.progress == 0 && $0?.stage == nil })
    }

    @Test(arguments: StoreFactory.all) func eventsArtifactsAndIntegrity(_ factory: StoreFactory) async throws {
        let opened = try await factory.make()
        defer { opened.close() }
        let store = opened.store
        #expect(try await store.integrityCheck() == ["ok"])
        let job = try await store.queued(1)
        try await store.addEvent(job.id, kind: "warning", message: "a font was missing")
        try await store.addEvent(nil, kind: "daemon", message: "started")
        let last = try #require(try await store.events(of: job.id).last)
        #expect(last.kind == "warning" && last.message == "a font was missing" && last.jobID == job.id)

        try await store.recordArtifact(Artifact(key: "k1", stage: "speech", path: "cache/k1.wav", sizeBytes: 10,
                                                createdAt: Date(timeIntervalSince1970: 1000), usedAt: Date(timeIntervalSince1970: 1000)))
        try await store.recordArtifact(Artifact(key: "k1", stage: "speech", path: "cache/k1b.wav", sizeBytes: 12,
                                                createdAt: Date(timeIntervalSince1970: 2000), usedAt: Date(timeIntervalSince1970: 2000)))
        let a = try #require(try await store.artifact(key: "k1"))
        #expect(a.path == "cache/k1b.wav" && a.sizeBytes == 12 && a.createdAt.timeIntervalSince1970 == 1000)
        try await store.touchArtifact(key: "k1")
        #expect(try #require(try await store.artifact(key: "k1")).usedAt > Date(timeIntervalSinceNow: -60))
        try await store.removeArtifact(key: "k1")
        #expect(try await store.artifact(key: "k1") == nil)
        try await store.checkpoint()
        #expect(try await store.integrityCheck() == ["ok"])
    }
}

extension Sequence {
    /// `map` with an async transform, in order, one at a time.
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        for e in self { out.append(try await transform(e)) }
        return out
    }
}
