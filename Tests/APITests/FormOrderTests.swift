import Foundation
import Testing

/// Issue 27: a multipart `name` field sent after the file parts was silently ignored (the manifest's file name won).
@Suite(.serialized) struct FormOrderTests {
    @Test func aNameFieldAfterTheFilePartsIsHonoured() async throws {
        let d = try LiveDaemon()
        defer { d.stop() }
        try await d.ready()
        let late = HTTP.multipart([("manifest", "story.yaml", Array("scenes: [Hi.]\n".utf8)), ("assets", "notes.bin", [1, 2]),
                                   ("name", nil, Array("late-name".utf8))])
        let r = try await HTTP.request(port: d.port, "POST", "/v1/jobs", headers: ["Content-Type": late.0], body: late.1)
        #expect(r.status == 202, "\(r.text)")
        #expect(try r.json()["name"] as? String == "late-name", "\(r.text)")
        // Without a name field, the manifest's file name still names the job; a query ?name= still wins over both.
        let plain = HTTP.multipart([("manifest", "story.yaml", Array("scenes: [Hi.]\n".utf8))])
        let p = try await HTTP.request(port: d.port, "POST", "/v1/jobs", headers: ["Content-Type": plain.0], body: plain.1)
        #expect(try p.json()["name"] as? String == "story", "\(p.text)")
        let q = try await HTTP.request(port: d.port, "POST", "/v1/jobs?name=query-name", headers: ["Content-Type": late.0], body: late.1)
        #expect(try q.json()["name"] as? String == "query-name", "\(q.text)")
    }
}
