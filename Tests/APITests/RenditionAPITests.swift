import Foundation
import Testing
import TestSupport
@testable import API

/// Issue 26: a job's renditions over HTTP: listed in its sidecar, downloaded by name, removed with the job's outputs.
@Suite(.serialized) struct RenditionAPITests {
    @Test func aRenditionIsListedDownloadedAndDeleted() async throws {
        let d = try LiveDaemon()
        defer { d.stop() }
        try await d.ready()
        let p = d.port
        let manifest = tinyManifest.replacingOccurrences(of: "scenes:", with: "outputs: [{name: sq, width: 240, height: 240, quality: draft}]\nscenes:")
        let post = try await HTTP.request(port: p, "POST", "/v1/jobs?name=multi", headers: ["Content-Type": "application/yaml"], body: Array(manifest.utf8))
        #expect(post.status == 202, "\(post.text)")
        let id = try #require(try post.json()["id"] as? String)
        let events = try await HTTP.request(port: p, "GET", "/v1/jobs/\(id)/events")
        #expect(events.text.contains("\"state\":\"done\""), "\(events.text.suffix(800)) \(d.log)")

        let sidecar = try await HTTP.request(port: p, "GET", "/v1/jobs/\(id)").json()
        let renditions = try #require(sidecar["renditions"] as? [[String: Any]], "\(sidecar)")
        #expect(renditions.count == 1 && renditions[0]["name"] as? String == "sq" && renditions[0]["file"] as? String == "multi.sq.mp4")
        #expect(renditions[0]["width"] as? Int == 240 && renditions[0]["height"] as? Int == 240)
        #expect((renditions[0]["quality"] as? [String: Any])?["status"] as? String == "passed")

        let onDisk = try Data(contentsOf: URL(fileURLWithPath: d.root + "/outbox/multi.sq.mp4"))
        let file = try await HTTP.request(port: p, "GET", "/v1/jobs/\(id)/renditions/sq")
        #expect(file.status == 200 && file.headers["content-type"] == "video/mp4" && file.body == Array(onDisk))
        #expect(try await HTTP.request(port: p, "GET", "/v1/jobs/\(id)/renditions/nope").status == 404)

        #expect(try await HTTP.request(port: p, "DELETE", "/v1/jobs/\(id)").status == 200)
        #expect(!FileManager.default.fileExists(atPath: d.root + "/outbox/multi.sq.mp4"))
        #expect(!FileManager.default.fileExists(atPath: d.root + "/outbox/multi.mp4"))
    }
}
