import Foundation
import Testing
import TestSupport

/// Issue 27: the dashboard's Duration column was the job's elapsed time (37 s), not the video's length (14.5 s); a
/// rejected job showed no reason in the list; a job done with warnings showed them nowhere but in its sidecar.
@Suite(.serialized) struct DashboardFactsTests {
    @Test func theListShowsVideoLengthWarningsAndRejectionReasons() async throws {
        let d = try LiveDaemon()
        defer { d.stop() }
        try await d.ready()
        let p = d.port
        let warned = tinyManifest + "\ncaptions: {font: No Such Font Family}\n"
        let post = try await HTTP.request(port: p, "POST", "/v1/jobs?name=warned", headers: ["Content-Type": "application/yaml"], body: Array(warned.utf8))
        #expect(post.status == 202, "\(post.text)")
        let id = try #require(try post.json()["id"] as? String)
        // A manifest dropped in the inbox that pick-up rejects.
        try "title: broken\nscenes: 3\n".write(toFile: d.root + "/inbox/broken.yaml", atomically: true, encoding: .utf8)
        var sidecar: [String: Any] = [:]
        #expect(try await eventually(timeout: .seconds(120)) {
            sidecar = try await HTTP.request(port: p, "GET", "/v1/jobs/\(id)").json()
            return sidecar["state"] as? String == "done"
        })
        let length = try #require(sidecar["duration_s"] as? Double)
        #expect(try await eventually { try await HTTP.request(port: p, "GET", "/").text.contains("broken") })

        let index = try await HTTP.request(port: p, "GET", "/").text
        let rows = index.components(separatedBy: "<tr data-id=").dropFirst()
        let warnedRow = try #require(rows.first { $0.contains(id) })
        #expect(warnedRow.contains(">\(String(format: "%.1f", length)) s<"), "the video's length, not the time the job took: \(warnedRow)")
        #expect(warnedRow.contains("1 warning"), "\(warnedRow)")
        let brokenRow = try #require(rows.first { $0.contains(">broken<") })
        #expect(brokenRow.contains("manifest.wrong_type") && brokenRow.contains("scenes"), "\(brokenRow)")

        let page = try await HTTP.request(port: p, "GET", "/jobs/\(id)").text
        #expect(page.contains("No Such Font Family") && page.contains("warning"), "\(page)")
        #expect(page.contains("\(String(format: "%.1f", length)) s"), "\(page)")
    }
}
