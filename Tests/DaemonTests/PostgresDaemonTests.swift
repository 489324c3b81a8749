import Daemon
import Foundation
import Journal
import Pipeline
import Testing
import TestSupport

/// Issue 31: `journal: {url: postgres://...}` runs the daemon on PostgreSQL: a dropped manifest is journaled, rendered
/// and published exactly as on SQLite, and no SQLite file appears in the state folder.
@Suite(.serialized, .enabled(if: postgresTestURL.enabled, "needs PROSTUDIO_TEST_POSTGRES_URL (scripts/test-postgres start)"))
struct PostgresDaemonTests {
    @Test func aDaemonOnPostgreSQLRendersAJob() async throws {
        let f = Folders()
        var config = f.config
        let location = PostgresLocation(url: try postgresTestURLWithFreshSchema(), pool: 2)
        config.journal = location
        let reader = try await PostgresJournal.open(location)
        defer { Task.detached { try? await reader.dropSchemaForTests(); reader.close() } }
        let daemon = Daemon(config: config)
        let running = Task { try await daemon.run(handleSignals: false) }
        f.drop("tiny.yaml", tinyManifest)

        var done: Job?
        let deadline = ContinuousClock.now + .seconds(180)
        while ContinuousClock.now < deadline {
            if let job = try await reader.jobs(JobFilter()).first(where: { $0.name == "tiny" && $0.state.isFinal }) { done = job; break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let job = try #require(done, "the job did not end within 180 s")
        #expect(job.state == .done && job.outputs["video"] == "tiny.mp4", "\(job.state) \(String(describing: job.error))")
        #expect(FileManager.default.fileExists(atPath: f.root + "/outbox/tiny.mp4"))
        #expect(try await sidecarOnce(f, "tiny", .done).job_id == job.id.rawValue)
        #expect(try await reader.stageRuns(of: job.id).map(\.stage) == Stage.allCases.map(\.rawValue))
        #expect(!FileManager.default.fileExists(atPath: f.journal), "a SQLite journal was made beside the PostgreSQL one")

        // The CLI on the same journal, through the config's journal: section (no --state involved).
        let configFile = f.root + "/prostudio.yaml"
        try "journal: {url: \"\(location.url)\", pool: 1}\n".write(toFile: configFile, atomically: true, encoding: .utf8)
        let listed = runTool(prostudioBinary, ["jobs", "list", "--config", configFile, "--json"])
        #expect(listed.status == 0, "\(listed.output)")
        let rows = try JSONSerialization.jsonObject(with: Data(listed.output.utf8)) as? [[String: Any]]
        #expect(rows?.map { $0["id"] as? String } == [job.id.rawValue] && rows?.first?["state"] as? String == "done", "\(listed.output)")
        // show and watch read the same journal: a job named by a short prefix of its id, or by its NAME.
        let shown = runTool(prostudioBinary, ["jobs", "show", String(job.id.rawValue.prefix(12)), "--config", configFile, "--json"])
        #expect(shown.status == 0, "\(shown.output)")
        let detail = try JSONSerialization.jsonObject(with: Data(shown.output.utf8)) as? [String: Any]
        #expect((detail?["stages"] as? [[String: Any]])?.compactMap { $0["stage"] as? String } == Stage.allCases.map(\.rawValue), "\(shown.output)")
        #expect(((detail?["events"] as? [[String: Any]])?.count ?? 0) >= 2, "\(shown.output)")
        let watched = runTool(prostudioBinary, ["jobs", "watch", "tiny", "--config", configFile, "--timeout", "5"])
        #expect(watched.status == 0 && watched.output.contains("\(job.id) done"), "\(watched.output)")
        let missing = runTool(prostudioBinary, ["jobs", "show", "no-such-job", "--config", configFile])
        #expect(missing.status == 1 && missing.output.contains("no job no-such-job") && missing.output.contains("postgres://"), "\(missing.output)")
        let retried = runTool(prostudioBinary, ["jobs", "retry", job.id.rawValue, "--config", configFile, "--wait", "0"])
        #expect(retried.status == 0 && retried.output.contains("requested"), "\(retried.output)")
        #expect(try await reader.requests(of: job.id).map(\.action) == [.retry])

        daemon.shutdown()
        try await running.value
    }
    /// `prostudio journal migrate`: a SQLite daemon's history (a done job and a rejected one) moved into PostgreSQL
    /// keeps ids, stage runs and events; the id sequences go on after the copied rows; a second migrate is refused.
    @Test func aSQLiteHistoryMigratesIntoAnEmptyPostgreSQLJournal() async throws {
        let f = Folders()
        let daemon = Daemon(config: f.config)
        let running = Task { try await daemon.run(handleSignals: false) }
        f.drop("tiny.yaml", tinyManifest)
        f.drop("broken.yaml", "scenes: 3\n")
        let done = try #require(try await waitFor(f) { $0.name == "tiny" && $0.state.isFinal }, "the job did not end")
        _ = try #require(try await waitFor(f) { $0.name == "broken" && $0.state.isFinal }, "the bad manifest was not rejected")
        // A paused queue stays paused on the new journal.
        let pause = runTool(prostudioBinary, ["jobs", "pause", "--state", f.root + "/state", "--wait", "10"])
        #expect(pause.status == 0, "\(pause.output)")
        daemon.shutdown()
        try await running.value
        let sqlite = try JournalClient(path: f.journal)
        let before = try await sqlite.jobs(JobFilter())
        let beforeEvents = try await sqlite.events(of: done.id)

        let url = try postgresTestURLWithFreshSchema()
        let migrated = runTool(prostudioBinary, ["journal", "migrate", "--state", f.root + "/state", "--to", url])
        #expect(migrated.status == 0 && migrated.output.contains("jobs") && migrated.output.contains("events"), "\(migrated.output)")
        let pg = try await PostgresJournal.open(PostgresLocation(url: url, pool: 1))
        defer { Task.detached { try? await pg.dropSchemaForTests(); pg.close() } }
        let after = try await pg.jobs(JobFilter())
        #expect(after.map(\.id) == before.map(\.id) && after.map(\.state) == before.map(\.state), "\(after.map(\.state)) vs \(before.map(\.state))")
        let job = try #require(try await pg.job(done.id))
        #expect(job.state == .done && job.report == done.report && job.outputs == done.outputs)
        #expect(try await pg.stageRuns(of: done.id).map(\.stage) == Stage.allCases.map(\.rawValue))
        #expect(try await pg.events(of: done.id).map(\.message) == beforeEvents.map(\.message))
        // New rows number on from the copied ones.
        try await pg.addEvent(done.id, kind: "note", message: "after the move")
        let last = try #require(try await pg.events(of: done.id).last)
        #expect(last.message == "after the move" && last.id > (beforeEvents.map(\.id).max() ?? 0))

        let again = runTool(prostudioBinary, ["journal", "migrate", "--state", f.root + "/state", "--to", url])
        #expect(migrated.output.contains("stays paused"), "\(migrated.output)")
        #expect(try await pg.queueState().paused)
        #expect(again.status == 1 && again.output.contains("already holds 2 jobs"), "\(again.output)")
    }
}
