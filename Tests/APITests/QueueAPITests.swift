import Contract
import Foundation
import Journal
import Testing
import TestSupport
@testable import API

/// Issue 32 over HTTP, against the real daemon: pause and resume, a job's priority, `not_before` (the daemon wakes for
/// it with nothing else happening), and the dashboard's queue line.
@Suite(.serialized) struct QueueAPITests {
    static func post(_ d: LiveDaemon, _ name: String, _ head: String) async throws -> String {
        let r = try await HTTP.request(port: d.port, "POST", "/v1/jobs?name=\(name)", headers: ["Content-Type": "application/yaml"],
                                       body: Array((head + tinyManifest).utf8))
        #expect(r.status == 202, "\(r.text)")
        return try #require(try r.json()["id"] as? String)
    }

    static func queued(_ d: LiveDaemon) async throws -> [[String: Any]] {
        (try await HTTP.request(port: d.port, "GET", "/v1/jobs?state=queued").json()["jobs"] as? [[String: Any]]) ?? []
    }

    @Test func pauseResumePriorityAndNotBefore() async throws {
        let d = try LiveDaemon()
        defer { d.stop() }
        try await d.ready()
        let p = d.port
        let pause = try await HTTP.request(port: p, "POST", "/v1/queue/pause")
        #expect(try pause.status == 200 && (try pause.json())["paused"] as? Bool == true, "\(pause.text)")

        // Paused: a posted job is queued and stays there; its manifest's priority is journaled.
        let id = try await Self.post(d, "urgent", "priority: 3\n")
        try await Task.sleep(for: .milliseconds(500))
        let waiting = try await Self.queued(d)
        #expect(waiting.first { $0["id"] as? String == id }?["priority"] as? Int == 3, "\(waiting)")

        let changed = try await HTTP.request(port: p, "POST", "/v1/jobs/\(id)/priority", headers: ["Content-Type": "application/json"],
                                             body: Array("{\"priority\": 9}".utf8))
        #expect(try changed.status == 200 && (try changed.json())["priority"] as? Int == 9, "\(changed.text)")
        for bad in ["{\"priority\": 101}", "{\"priority\": \"high\"}", "{\"priority\": 1.5}", "{}"] {
            let r = try await HTTP.request(port: p, "POST", "/v1/jobs/\(id)/priority", headers: ["Content-Type": "application/json"], body: Array(bad.utf8))
            #expect(try r.status == 400 && (try r.json()["error"] as? [String: Any])?["code"] as? String == "bad_priority", "\(bad): \(r.text)")
        }
        let page = try await HTTP.request(port: p, "GET", "/")
        #expect(page.text.contains("<strong class=\"warn\">paused</strong>") && page.text.contains("data-queue=\"resume\""), "\(page.text.prefix(3000))")
        #expect(page.text.contains("priority 9"))

        // A job held for the far future, and one for two seconds from now.
        let later = Timestamp.format(Date().addingTimeInterval(3600))
        let held = try await Self.post(d, "held", "not_before: \(later)\n")
        let soon = try await Self.post(d, "soon", "not_before: \(Timestamp.format(Date().addingTimeInterval(2)))\n")
        let queue = try await HTTP.request(port: p, "GET", "/v1/queue").json()
        #expect(queue["paused"] as? Bool == true && queue["scheduled"] as? Int == 2, "\(queue)")

        let resume = try await HTTP.request(port: p, "POST", "/v1/queue/resume")
        #expect(try resume.status == 200 && (try resume.json())["paused"] as? Bool == false)
        // The resumed queue runs the urgent job; then, with no other event, the scheduled one once its time comes.
        func state(_ job: String) async throws -> String? { try await HTTP.request(port: p, "GET", "/v1/jobs/\(job)").json()["state"] as? String }
        #expect(try await eventually(timeout: .seconds(120)) { try await state(id) == "done" }, "\(d.log)")
        #expect(try await eventually(timeout: .seconds(120)) { try await state(soon) == "done" }, "\(d.log)")
        #expect(try await state(held) == "queued")
        let events = try await HTTP.request(port: p, "GET", "/v1/queue").json()
        #expect(events["next_not_before"] as? String != nil && events["scheduled"] as? Int == 1, "\(events)")
    }
}
