import Foundation
import Journal
import Testing
import TestSupport

/// The HTTP API of a daemon whose journal is PostgreSQL (issue 31): the same job routes, events, metrics and deletion
/// as on SQLite, read from the shared journal (its job routes answered 503 before).
@Suite(.serialized, .enabled(if: postgresTestURL.enabled, "needs PROSTUDIO_TEST_POSTGRES_URL (scripts/test-postgres start)"))
struct PostgresAPITests {
    @Test func aPostedJobRendersIsListedMeasuredAndDeleted() async throws {
        let url = try postgresTestURLWithFreshSchema()
        let d = try LiveDaemon(config: "journal: {url: \"\(url)\", pool: 2}\n")
        defer { d.stop() }
        let reader = try await PostgresJournal.open(PostgresLocation(url: url, pool: 1))
        defer { Task.detached { try? await reader.dropSchemaForTests(); reader.close() } }
        try await d.ready()
        let p = d.port
        let ready = try await HTTP.request(port: p, "GET", "/readyz")
        #expect(ready.status == 200 && ready.text.contains("\"journal\":\"writable\""), "\(ready.text)")

        let headers = ["Content-Type": "application/yaml", "Idempotency-Key": "pg-1"]
        let post = try await HTTP.request(port: p, "POST", "/v1/jobs?name=pg", headers: headers, body: Array(tinyManifest.utf8))
        #expect(post.status == 202, "\(post.text) \(d.log)")
        let id = try #require(try post.json()["id"] as? String)
        let again = try await HTTP.request(port: p, "POST", "/v1/jobs?name=pg", headers: headers, body: Array(tinyManifest.utf8))
        #expect(try again.status == 202 && (try again.json())["id"] as? String == id)

        let events = try await HTTP.request(port: p, "GET", "/v1/jobs/\(id)/events")
        #expect(events.status == 200 && events.text.contains("\"state\":\"done\""), "\(events.text.suffix(600)) \(d.log)")
        let status = try await HTTP.request(port: p, "GET", "/v1/jobs/\(id)")
        #expect(try status.json()["state"] as? String == "done", "\(status.text)")
        #expect(try await reader.job(JobID(id))?.state == .done, "the API's job is not the one in PostgreSQL")
        let list = try await HTTP.request(port: p, "GET", "/v1/jobs?state=done&limit=10")
        #expect((try list.json()["jobs"] as? [[String: Any]])?.map { $0["id"] as? String } == [id], "\(list.text)")
        let video = try await HTTP.request(port: p, "GET", "/v1/jobs/\(id)/video")
        #expect(video.status == 200 && video.body.count > 1000)

        let metrics = try await HTTP.request(port: p, "GET", "/metrics")
        #expect(metrics.text.contains("prostudio_jobs{state=\"done\"} 1"), "\(metrics.text)")
        #expect(metrics.text.contains("prostudio_stage_duration_seconds_count{stage=\"compose\""), "\(metrics.text)")
        #expect(metrics.text.contains("prostudio_pickup_latency_seconds_count 1"), "\(metrics.text)")

        let page = try await HTTP.request(port: p, "GET", "/")
        #expect(page.status == 200 && page.text.contains(String(id.prefix(8))), "the dashboard on PostgreSQL: \(page.status)")

        let deleted = try await HTTP.request(port: p, "DELETE", "/v1/jobs/\(id)")
        #expect(try deleted.status == 200 && (try deleted.json())["state"] as? String == "deleted", "\(deleted.text)")
        #expect(try await HTTP.request(port: p, "GET", "/v1/jobs/\(id)/video").status == 410)
        #expect(try await reader.listedJob(JobID(id))?.deletedAt != nil)
    }
}
