import Foundation
import Journal
import Testing
import TestSupport
import ZIPFoundation
@testable import API

/// The HTTP API against the real `prostudio-daemon` (its journal, inbox watcher, workers) over loopback HTTP.
@Suite(.serialized) struct APITests {
    /// A job through its whole life over HTTP: posted (exactly once with an Idempotency-Key), followed by SSE to
    /// `done`, downloaded with ETag and Range, listed, seen in /metrics, deleted with its row kept.
    @Test func aPostedJobRendersAndDownloadsWithRangesAndETags() async throws {
        let d = try LiveDaemon()
        defer { d.stop() }
        try await d.ready()
        let p = d.port
        let health = try await HTTP.request(port: p, "GET", "/healthz")
        #expect(health.status == 200 && health.headers["date"]?.hasSuffix(" GMT") == true && health.headers["date"]?.count == 29)
        let spec = try await HTTP.request(port: p, "GET", "/openapi.yaml")
        #expect(spec.status == 200 && spec.text.hasPrefix("openapi: 3.1"))

        let post = try await HTTP.request(port: p, "POST", "/v1/jobs?name=hello", headers: ["Content-Type": "application/yaml", "Idempotency-Key": "k-1"],
                                          body: Array(tinyManifest.utf8))
        #expect(post.status == 202, "\(post.text)")
        let accepted = try post.json()
        let id = try #require(accepted["id"] as? String)
        #expect(accepted["name"] as? String == "hello")
        #expect((accepted["links"] as? [String: String])?["video"] == "/v1/jobs/\(id)/video")
        #expect(post.headers["location"] == "/v1/jobs/\(id)")
        // The retried POST (same key) is the same job; the journal holds one.
        let again = try await HTTP.request(port: p, "POST", "/v1/jobs?name=hello", headers: ["Content-Type": "application/yaml", "Idempotency-Key": "k-1"],
                                           body: Array(tinyManifest.utf8))
        #expect(try again.status == 202 && (try again.json())["id"] as? String == id && again.headers["idempotent-replayed"] == "true")

        // Server-sent events until the job ends.
        let events = try await HTTP.request(port: p, "GET", "/v1/jobs/\(id)/events")
        #expect(events.status == 200 && events.headers["content-type"] == "text/event-stream")
        #expect(events.text.contains("event: state"))
        // Every state the stream reports is one the job went through, in order (a loaded machine may finish the job before
        // the stream opens: then `done` alone).
        let states = events.text.components(separatedBy: "\"state\":\"").dropFirst().compactMap { $0.split(separator: "\"").first.map(String.init) }
        let order = ["claimed", "queued", "running", "done"]
        #expect(states.allSatisfy(order.contains) && states == states.sorted { order.firstIndex(of: $0)! < order.firstIndex(of: $1)! }, "\(states)")
        #expect(events.text.contains("\"state\":\"done\""), "\(events.text.suffix(800)) \(d.log)")

        let status = try await HTTP.request(port: p, "GET", "/v1/jobs/\(id)")
        let sidecar = try status.json()
        #expect(sidecar["state"] as? String == "done" && sidecar["job_id"] as? String == id)
        #expect((sidecar["outputs"] as? [String: Any])?["video"] as? String == "hello.mp4")
        let alias = try await HTTP.request(port: p, "GET", "/api/content/status/\(id)")
        #expect(try alias.status == 200 && (try alias.json())["state"] as? String == "done")

        let video = try await HTTP.request(port: p, "GET", "/v1/jobs/\(id)/video")
        #expect(video.status == 200 && video.headers["content-type"] == "video/mp4" && video.headers["accept-ranges"] == "bytes")
        let onDisk = try Data(contentsOf: URL(fileURLWithPath: d.root + "/outbox/hello.mp4"))
        #expect(video.body == Array(onDisk))
        let etag = try #require(video.headers["etag"])
        #expect(try await HTTP.request(port: p, "GET", "/v1/jobs/\(id)/video", headers: ["If-None-Match": etag]).status == 304)
        let part = try await HTTP.request(port: p, "GET", "/v1/jobs/\(id)/video", headers: ["Range": "bytes=100-299"])
        #expect(part.status == 206 && part.body == Array(onDisk[100..<300]) && part.headers["content-range"] == "bytes 100-299/\(onDisk.count)")
        let tail = try await HTTP.request(port: p, "GET", "/api/content/download/\(id)", headers: ["Range": "bytes=-10"])
        #expect(tail.status == 206 && tail.body == Array(onDisk.suffix(10)))
        let beyond = try await HTTP.request(port: p, "GET", "/v1/jobs/\(id)/video", headers: ["Range": "bytes=\(onDisk.count + 5)-"])
        #expect(beyond.status == 416 && beyond.headers["content-range"] == "bytes */\(onDisk.count)")
        let poster = try await HTTP.request(port: p, "GET", "/v1/jobs/\(id)/poster")
        #expect(poster.status == 200 && poster.headers["content-type"] == "image/jpeg" && poster.body.starts(with: [0xFF, 0xD8]))
        let captions = try await HTTP.request(port: p, "GET", "/v1/jobs/\(id)/captions")
        #expect(captions.status == 200 && captions.text.contains("-->"))
        let file = try await HTTP.request(port: p, "GET", "/v1/jobs/\(id)/sidecar")
        #expect(file.status == 200 && file.headers["content-type"]?.hasPrefix("application/json") == true)

        let list = try await HTTP.request(port: p, "GET", "/v1/jobs?state=done&limit=10")
        let jobs = try #require(try list.json()["jobs"] as? [[String: Any]])
        #expect(jobs.count == 1 && jobs[0]["id"] as? String == id)
        let page = try await HTTP.request(port: p, "GET", "/v1/jobs?limit=1")
        #expect(try page.json()["next_cursor"] == nil)
        #expect(try await HTTP.request(port: p, "GET", "/v1/jobs?state=bogus").status == 400)

        let metrics = try await HTTP.request(port: p, "GET", "/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.text.contains("prostudio_jobs{state=\"done\"} 1"), "\(metrics.text)")
        #expect(metrics.text.contains("prostudio_queue_depth 0"))
        #expect(metrics.text.contains("prostudio_stage_duration_seconds_count{stage=\"compose\""))
        #expect(metrics.text.contains("prostudio_api_requests_total{route=\"/v1/jobs\",method=\"POST\",status=\"202\"} 2"))
        #expect(metrics.text.contains("prostudio_pickup_latency_seconds_count 1"))
        // The quality gate checked the video before it was published: counted per outcome and per check.
        #expect(metrics.text.contains("prostudio_quality_gate_total{status=\"passed\"} 1"), "\(metrics.text)")
        #expect(metrics.text.contains("prostudio_quality_checks_total{check=\"black\",result=\"passed\"} 1"))
        // A file dropped in the inbox after that scrape: its pick-up latency (last write to claim) is counted too.
        try Data(tinyManifest.utf8).write(to: URL(fileURLWithPath: d.root + "/inbox/.dropped.tmp"))
        rename(d.root + "/inbox/.dropped.tmp", d.root + "/inbox/dropped.yaml")
        #expect(try await eventually { (try await HTTP.request(port: p, "GET", "/v1/jobs").json()["jobs"] as? [Any])?.count == 2 })
        let again2 = try await HTTP.request(port: p, "GET", "/metrics")
        #expect(again2.text.contains("prostudio_pickup_latency_seconds_count 2"), "\(again2.text)")

        // Retry of a done job is refused; DELETE removes its outputs and keeps the row as deleted.
        let retry = try await HTTP.request(port: p, "POST", "/v1/jobs/\(id)/retry")
        #expect(try retry.status == 409 && (try retry.json()["error"] as? [String: Any])?["code"] as? String == "not_retryable")
        let deleted = try await HTTP.request(port: p, "DELETE", "/v1/jobs/\(id)")
        #expect(try deleted.status == 200 && (try deleted.json())["state"] as? String == "deleted")
        #expect(!FileManager.default.fileExists(atPath: d.root + "/outbox/hello.mp4"))
        #expect(!FileManager.default.fileExists(atPath: d.root + "/state/jobs/\(id)"))
        #expect(try await HTTP.request(port: p, "GET", "/v1/jobs/\(id)/video").status == 410)
        #expect((try await HTTP.request(port: p, "GET", "/v1/jobs").json()["jobs"] as? [[String: Any]])?.contains { $0["id"] as? String == id } == false)
        let gone = try await HTTP.request(port: p, "GET", "/v1/jobs?state=deleted")
        #expect((try gone.json()["jobs"] as? [[String: Any]])?.first?["id"] as? String == id)
        #expect(try await JournalClient(path: d.journal).job(JobID(id)) != nil)
    }

    /// An invalid manifest: 400 with every problem (code, field, line, message), nothing journaled.
    @Test func anInvalidManifestGivesEveryProblemAndJournalsNothing() async throws {
        let d = try LiveDaemon()
        defer { d.stop() }
        try await d.ready()
        let bad = "title: broken\noutput: {fps: 1000}\nscenes:\n  - narration: 3\n    colour: red\n"
        let r = try await HTTP.request(port: d.port, "POST", "/v1/jobs", headers: ["Content-Type": "application/yaml"], body: Array(bad.utf8))
        #expect(r.status == 400)
        let body = try r.json()
        #expect((body["error"] as? [String: Any])?["code"] as? String == "invalid_manifest")
        let problems = try #require(body["errors"] as? [[String: Any]])
        #expect(problems.count >= 2, "\(r.text)")
        #expect(problems.allSatisfy { ($0["code"] as? String)?.hasPrefix("manifest.") == true && $0["message"] is String })
        #expect(problems.contains { $0["field"] as? String == "output.fps" && $0["line"] as? Int == 2 }, "\(r.text)")
        let syntax = try await HTTP.request(port: d.port, "POST", "/v1/jobs", headers: ["Content-Type": "application/json"], body: Array("{\"scenes\": [".utf8))
        #expect(try syntax.status == 400 && ((try syntax.json()["errors"] as? [[String: Any]])?.first?["code"] as? String) == "manifest.syntax")
        let type = try await HTTP.request(port: d.port, "POST", "/v1/jobs", headers: ["Content-Type": "image/png"], body: [1, 2, 3])
        #expect(type.status == 415)
        #expect((try await HTTP.request(port: d.port, "GET", "/v1/jobs").json()["jobs"] as? [Any])?.count == 0)
        let unknown = try await HTTP.request(port: d.port, "GET", "/v1/jobs/0000000000000000")
        #expect(try unknown.status == 404 && (try unknown.json()["error"] as? [String: Any])?["code"] as? String == "no_job")
    }

    /// `curl --data-binary @job.yaml` sends `application/x-www-form-urlencoded`: the body is told by its first bytes
    /// (issue 27), as with no type at all or `application/octet-stream`; a zip is a zip.
    @Test func aBodyWithoutATellingTypeIsSniffed() async throws {
        let d = try LiveDaemon()
        defer { d.stop() }
        try await d.ready()
        let yaml = try await HTTP.request(port: d.port, "POST", "/v1/jobs?name=curl", headers: ["Content-Type": "application/x-www-form-urlencoded"],
                                          body: Array("title: Curl\nscenes: [Hello.]\n".utf8))
        #expect(yaml.status == 202, "\(yaml.text)")
        let json = try await HTTP.request(port: d.port, "POST", "/v1/jobs?name=octets", headers: ["Content-Type": "application/octet-stream"],
                                          body: Array(" {\"title\": \"Octets\", \"scenes\": [\"Hello.\"]}".utf8))
        #expect(json.status == 202, "\(json.text)")
        // A bad one is read as what it looks like: a JSON syntax error, not a YAML one.
        let broken = try await HTTP.request(port: d.port, "POST", "/v1/jobs", headers: ["Content-Type": "application/x-www-form-urlencoded"],
                                            body: Array("{\"scenes\": [".utf8))
        #expect(broken.status == 400 && broken.text.contains("valid JSON"), "\(broken.text)")
    }

    /// Cancel a running job, then retry it; cancel of a finished one is a 409.
    @Test func cancelAndRetryGoThroughTheJournal() async throws {
        let d = try LiveDaemon()
        defer { d.stop() }
        try await d.ready()
        let post = try await HTTP.request(port: d.port, "POST", "/api/content/generate?name=slow", headers: ["Content-Type": "application/yaml"],
                                          body: Array(slowManifest.utf8))
        let id = try #require(try post.json()["id"] as? String)
        #expect(try await eventually { (try await HTTP.request(port: d.port, "GET", "/v1/jobs/\(id)").json())["state"] as? String == "running" })
        let cancel = try await HTTP.request(port: d.port, "POST", "/v1/jobs/\(id)/cancel")
        #expect(cancel.status == 202)
        #expect(try await eventually { (try await HTTP.request(port: d.port, "GET", "/v1/jobs/\(id)").json())["state"] as? String == "cancelled" })
        let retry = try await HTTP.request(port: d.port, "POST", "/v1/jobs/\(id)/retry")
        #expect(retry.status == 202)
        #expect(["queued", "running"].contains((try retry.json())["state"] as? String))
        let cancelAgain = try await HTTP.request(port: d.port, "POST", "/v1/jobs/\(id)/cancel")
        #expect(cancelAgain.status == 202)
        #expect(try await eventually { (try await HTTP.request(port: d.port, "GET", "/v1/jobs/\(id)").json())["state"] as? String == "cancelled" })
        let late = try await HTTP.request(port: d.port, "POST", "/v1/jobs/\(id)/cancel")
        #expect(try late.status == 409 && (try late.json()["error"] as? [String: Any])?["code"] as? String == "not_cancellable")
        #expect(try await HTTP.request(port: d.port, "DELETE", "/v1/jobs/\(id)").status == 200)
    }

    /// kill -9 while posts are in flight: every job answered 202 is journaled, and posting all of them again with
    /// their Idempotency-Keys after the restart leaves exactly one job per key.
    @Test func postsSurviveKillNineExactlyOnce() async throws {
        let d = try LiveDaemon()
        defer { d.stop() }
        try await d.ready()
        let n = 40
        let manifest = Array("scenes:\n  - narration: Exactly once.\nvisuals: {engine: procedural}\nmusic: {engine: none}\n".utf8)
        let port = d.port
        let accepted = await withTaskGroup(of: (Int, String?).self) { group in
            for i in 0..<n {
                group.addTask {
                    let r = try? await HTTP.request(port: port, "POST", "/v1/jobs?name=once-\(i)", headers: ["Content-Type": "application/yaml", "Idempotency-Key": "once-\(i)"], body: manifest)
                    return (i, r?.status == 202 ? (try? r?.json())?["id"] as? String : nil)
                }
                if i == n / 2 { group.addTask { try? await Task.sleep(for: .milliseconds(30)); d.kill9(); return (-1, nil) } }
            }
            var out: [Int: String] = [:]
            for await (i, id) in group where i >= 0 { if let id { out[i] = id } }
            return out
        }
        try d.start()
        try await d.ready()
        for i in 0..<n {
            let r = try await HTTP.request(port: port, "POST", "/v1/jobs?name=once-\(i)", headers: ["Content-Type": "application/yaml", "Idempotency-Key": "once-\(i)"], body: manifest)
            #expect(r.status == 202, "\(r.text)")
            if let first = accepted[i] { #expect((try r.json())["id"] as? String == first) }
        }
        let all = try await JournalClient(path: d.journal).jobs(JobFilter())
        #expect(all.count == n)
        #expect(Set(all.map(\.name)).count == n)
        #expect(all.allSatisfy { $0.state != .rejected && $0.state != .failed && $0.state != .claimed })
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: d.root + "/state/api-uploads")) ?? []
        #expect(leftovers.isEmpty, "\(leftovers)")
    }
}
