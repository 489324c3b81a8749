import Contract
import Foundation
import Journal
import Testing
import TestSupport

/// Issue 24's bar: for the same job, the sidecar in the outbox, the journal row, `prostudio jobs show --json` and
/// `GET /v1/jobs/ID` say the same thing, field by field, whatever way the job ended, and also after a kill -9 of the
/// supervisor between the journal's `done` and the sidecar (Docs/contract.md, "Publish order").
@Suite(.serialized) struct ContractAgreementTests {
    /// The four views of job `id`, compared. `sidecarFile`: where its sidecar is in the outbox.
    func expectAgreement(_ d: LiveDaemon, id: String, sidecarFile: String, state: Sidecar.State,
                         sourceLocation: SourceLocation = #_sourceLocation) async throws {
        // Publish order: the journal first, then the sidecar; the file lands a moment after the row says final.
        let url = URL(fileURLWithPath: d.root + "/outbox/" + sidecarFile)
        #expect(try await eventually(timeout: .seconds(30)) { (try? Sidecar.read(url))?.state == state },
                "the sidecar never showed \(state.rawValue)", sourceLocation: sourceLocation)
        let file = try Sidecar.read(url)
        let client = try JournalClient(path: d.journal)
        let row = try #require(try await client.job(JobID(id)), sourceLocation: sourceLocation)

        // The file against the row's own columns, not only against the projection.
        #expect(file.job_id == id && file.name == row.name, sourceLocation: sourceLocation)
        #expect(file.state == state && file.state.rawValue == row.state.rawValue, sourceLocation: sourceLocation)
        #expect(file.seed == row.seed.map { UInt64(bitPattern: $0) }, sourceLocation: sourceLocation)
        #expect(file.outputs.video == row.outputs["video"] && file.outputs.webvtt == row.outputs["webvtt"], sourceLocation: sourceLocation)
        #expect(file.error?.code == row.error?.code && file.error?.stage == row.error?.stage, sourceLocation: sourceLocation)
        #expect(file.stages == row.report.stages && file.warnings == row.report.warnings, sourceLocation: sourceLocation)
        #expect(file.created_at == Timestamp.format(row.createdAt) && file.updated_at == Timestamp.format(row.updatedAt), sourceLocation: sourceLocation)
        let okRuns = Set(try await client.stageRuns(of: JobID(id)).filter { $0.outcome == .ok && $0.attempt == row.attempts }.map(\.stage))
        #expect(Set(file.stages.keys) == okRuns, "stage records \(file.stages.keys.sorted()) vs closed runs \(okRuns.sorted())", sourceLocation: sourceLocation)
        #expect(file == row.sidecar, sourceLocation: sourceLocation)

        // `jobs show --json`.
        let (status, out) = try await RemoteCLITests().run(["jobs", "show", id, "--json", "--state", d.root + "/state"])
        #expect(status == 0, "\(out)", sourceLocation: sourceLocation)
        let shown = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any]
        let shownSidecar = try JSONSerialization.data(withJSONObject: try #require(shown?["sidecar"], sourceLocation: sourceLocation))
        #expect(try JSONDecoder().decode(Sidecar.self, from: shownSidecar) == file, sourceLocation: sourceLocation)

        // `GET /v1/jobs/ID`: the same object plus id, attempts and links (messages name folders as the caller knows them).
        let answer = try await HTTP.request(port: d.port, "GET", "/v1/jobs/\(id)")
        #expect(answer.status == 200, sourceLocation: sourceLocation)
        var served = try JSONDecoder().decode(Sidecar.self, from: Data(answer.body))
        var expected = file
        #expect((served.error?.message.isEmpty ?? true) == (expected.error == nil), sourceLocation: sourceLocation)
        served.error?.message = ""; expected.error?.message = ""
        #expect(served == expected, sourceLocation: sourceLocation)
        let object = try answer.json()
        #expect(object["id"] as? String == id && object["attempts"] as? Int == row.attempts && object["links"] != nil, sourceLocation: sourceLocation)
    }

    func waitForState(_ d: LiveDaemon, _ id: String, _ state: String, timeout: Duration = .seconds(120)) async throws -> Bool {
        try await eventually(timeout: timeout) { (try? await HTTP.request(port: d.port, "GET", "/v1/jobs/\(id)").json())?["state"] as? String == state }
    }

    func post(_ d: LiveDaemon, name: String, _ manifest: String) async throws -> String {
        let r = try await HTTP.request(port: d.port, "POST", "/api/content/generate?name=\(name)", headers: ["Content-Type": "application/yaml"],
                                       body: Array(manifest.utf8))
        return try #require(try r.json()["id"] as? String, "\(r.status) \(r.text)")
    }

    @Test func doneRejectedAndCancelledJobsAgreeEverywhereAlsoAfterAKillBeforeTheSidecar() async throws {
        let d = try LiveDaemon()
        defer { d.stop() }
        try await d.ready()

        let done = try await post(d, name: "agree-done", tinyManifest)
        #expect(try await waitForState(d, done, "done"))
        try await expectAgreement(d, id: done, sidecarFile: "agree-done.json", state: .done)

        // Rejected at pick-up: dropped in the inbox (the API refuses it before it is a job).
        let temp = d.root + "/inbox/.agree-bad.yaml.tmp"
        try "scenes: [hi]\ntitel: x\n".write(toFile: temp, atomically: false, encoding: .utf8)
        #expect(rename(temp, d.root + "/inbox/agree-bad.yaml") == 0)
        let client = try JournalClient(path: d.journal)
        #expect(try await eventually { try await client.jobs(JobFilter(name: "agree-bad")).first?.state == .rejected })
        let bad = try #require(try await client.jobs(JobFilter(name: "agree-bad")).first).id.rawValue
        try await expectAgreement(d, id: bad, sidecarFile: "agree-bad.json", state: .rejected)

        let stopped = try await post(d, name: "agree-cancel", slowManifest)
        #expect(try await waitForState(d, stopped, "running"))
        #expect(try await HTTP.request(port: d.port, "POST", "/v1/jobs/\(stopped)/cancel").status == 202)
        #expect(try await waitForState(d, stopped, "cancelled"))
        try await expectAgreement(d, id: stopped, sidecarFile: "agree-cancel.json", state: .cancelled)

        // A kill -9 after the journal said done and before the sidecar was written: the file still shows the job
        // running. The next start writes it again from the journal.
        d.kill9()
        let url = URL(fileURLWithPath: d.root + "/outbox/agree-done.json")
        var stale = try Sidecar.read(url)
        stale.state = .running; stale.stage = "publish"; stale.progress = 0.97; stale.outputs = Sidecar.Outputs()
        try stale.write(at: url)
        try d.start()
        try await d.ready()
        #expect(try await eventually { (try? Sidecar.read(url))?.state == .done })
        try await expectAgreement(d, id: done, sidecarFile: "agree-done.json", state: .done)
    }

    @Test func aFailedJobAgreesEverywhere() async throws {
        // Every stage times out at once: the job fails for good at its first stage.
        let d = try LiveDaemon(config: "limits: {stage_timeout_s: 0.001}\n")
        defer { d.stop() }
        try await d.ready()
        let failed = try await post(d, name: "agree-failed", slowManifest)
        #expect(try await waitForState(d, failed, "failed"))
        try await expectAgreement(d, id: failed, sidecarFile: "agree-failed.json", state: .failed)
        let file = try Sidecar.read(URL(fileURLWithPath: d.root + "/outbox/agree-failed.json"))
        #expect(file.error?.code == "stage_timeout" && file.error?.stage != nil && file.error?.disposition == "permanent")
    }
}
