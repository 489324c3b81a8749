import Contract
import Daemon
import Foundation
import HTTPTypes
import Hummingbird
import Journal
import Mustache

/// The web dashboard: server-rendered pages (swift-mustache) and a little plain JavaScript that follows the
/// events streams. No front-end build: the templates and the script are in `DashboardTemplates.swift`.
struct Dashboard: Sendable {
    let server: APIServer
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        for (name, text) in DashboardTemplates.all {
            // The templates are constants of this build: one that does not parse is a bug caught by the tests.
            if let template = try? MustacheTemplate(string: text) { library.register(template, named: name) }
        }
        return library
    }()

    func register(_ router: Router<BasicRequestContext>) {
        router.get("/") { _, _ in try await index() }
        router.get("/jobs/:id") { _, context in try await page(context.parameters.require("id")) }
        router.get("/dashboard.js") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/javascript; charset=utf-8", .cacheControl: "no-cache"],
                     body: .init(byteBuffer: ByteBuffer(string: DashboardTemplates.script)))
        }
        router.post("/login") { request, _ in try await login(request) }
    }

    static func html(_ text: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        headers[.contentSecurityPolicy] = "default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self' 'unsafe-inline'"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func loginPage(failed: Bool) -> Response {
        html(library.render(["failed": failed], withTemplate: "login") ?? "", status: .unauthorized)
    }

    static func age(_ date: Date) -> String {
        let s = Int(-date.timeIntervalSinceNow)
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m" }
        if s < 86400 { return "\(s / 3600)h" }
        return "\(s / 86400)d"
    }

    func row(_ listed: ListedJob) -> [String: Any] {
        let facts = DashboardFacts(listed, state: server.daemon.config.state, paths: server.paths)
        return Self.row(listed).merging(facts.context(listed, paths: server.paths)) { $1 }
    }

    static func row(_ listed: ListedJob) -> [String: Any] {
        let job = listed.job
        let state = listed.apiState
        return ["id": job.id.rawValue, "name": job.name, "state": state, "stage": job.stage ?? "",
                "percent": Int((job.progress * 100).rounded()), "created": Timestamp.format(job.createdAt),
                "updated": Timestamp.format(job.updatedAt), "age": age(job.createdAt),
                "done": state == "done", "cancellable": state == "queued" || state == "running",
                "retryable": state == "failed" || state == "cancelled"]
            .merging(queueNote(job, state: state).map { ["queueNote": $0] } ?? [:]) { $1 }
    }

    /// A waiting job's priority and start time, when either is not the default; on its own page, its packs too.
    static func queueNote(_ job: Job, state: String, full: Bool = false) -> String? {
        guard state == "queued" || full else { return nil }
        var parts: [String] = []
        if job.priority != 0 || full { parts.append("priority \(job.priority)") }
        if let at = job.notBefore { parts.append("not before \(Timestamp.format(at))") }
        if full && !job.packs.isEmpty { parts.append("packs " + job.packs.sorted().joined(separator: ", ")) }
        if full && job.passes > 0 { parts.append("passed over \(job.passes) time\(job.passes == 1 ? "" : "s")") }
        return parts.isEmpty ? nil : parts.joined(separator: " · ")
    }

    func index() async throws -> Response {
        let live = try server.live()
        let jobs = try await live.journal.listedJobs(states: nil, deleted: false, before: nil, limit: 100)
        let q = try await QueueRoutes.view(live.journal)
        // Only keys with something to show: a template section opens on any value present.
        var queue: [String: Any] = ["paused": q.paused]
        if q.paused, let by = q.changed_by { queue["by"] = by }
        if q.paused, let since = q.changed_at { queue["since"] = since }
        if q.scheduled > 0 { queue["scheduled"] = q.scheduled }
        let context: [String: Any] = ["jobs": jobs.map(row), "empty": jobs.isEmpty, "queue": queue]
        return Self.html(Self.library.render(context, withTemplate: "index") ?? "")
    }

    func page(_ id: String) async throws -> Response {
        let live = try server.live()
        guard let listed = try await live.journal.listedJob(JobID(id)) else {
            return Self.html("<!doctype html><title>No job</title><p>No job \(id). <a href=\"/\">All jobs</a></p>", status: .notFound)
        }
        var context = row(listed)
        if let note = Self.queueNote(listed.job, state: listed.apiState, full: true) { context["queueNote"] = note }
        let runs = try await live.journal.stageRuns(of: JobID(id))
        context["stages"] = runs.map { run -> [String: Any] in
            let seconds = run.seconds ?? run.endedAt.map { $0.timeIntervalSince(run.startedAt) }
            return ["stage": run.stage, "attempt": run.attempt, "engine": run.engine ?? "", "outcome": run.outcome.rawValue,
                    "seconds": seconds.map { String(format: "%.2f", $0) } ?? "", "cached": run.cacheHit,
                    "memory": run.peakMemoryBytes.map { "\($0 >> 20) MB" } ?? ""]
        }
        if let e = listed.job.error { context["error"] = ["code": e.code, "message": server.paths.scrub(e.message), "field": e.field ?? ""] }
        context["hasCaptions"] = listed.job.outputs["captions"] != nil
        return Self.html(Self.library.render(context, withTemplate: "job") ?? "")
    }

    /// The token typed into the login form becomes an HttpOnly, SameSite=Strict cookie (a browser cannot send a
    /// bearer header on navigation); checked in constant time like the header.
    func login(_ request: Request) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: 4096)
        let form = String(buffer: body)
        var token = ""
        for pair in form.split(separator: "&") where pair.hasPrefix("token=") {
            token = String(pair.dropFirst(6)).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
        }
        guard let expected = server.token, constantTimeEqual(Array(token.utf8), expected) else { return Self.loginPage(failed: true) }
        var headers: HTTPFields = [.location: "/"]
        headers[.setCookie] = Cookie(name: "prostudio_token", value: token, path: "/", secure: false, httpOnly: true, sameSite: .strict).description
        return Response(status: .seeOther, headers: headers)
    }
}
