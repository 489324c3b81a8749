import Contract
import Daemon
import Foundation
import Hummingbird
import Journal
import Manifest

/// The queue over HTTP (issue 32): its state, pause and resume, and a job's priority. Each change is a request the
/// daemon applies at once (`DaemonLive.applyRequests`), as the CLI's are, so the runner wakes on a resume.
struct QueueRoutes: Sendable {
    let server: APIServer

    func register(_ router: Router<BasicRequestContext>) {
        router.get("/v1/queue") { _, _ in try await state() }
        router.post("/v1/queue/pause") { _, _ in try await change(.pause) }
        router.post("/v1/queue/resume") { _, _ in try await change(.resume) }
        router.post("/v1/jobs/:id/priority") { request, context in try await priority(request, context.parameters.require("id")) }
    }

    /// `GET /v1/queue` and the answer to pause and resume.
    struct QueueView: Codable, Sendable {
        var paused: Bool
        var changed_at: String?
        var changed_by: String?
        /// Jobs waiting (queued), and of those how many wait for their `not_before`.
        var queued: Int
        var scheduled: Int
        var next_not_before: String?
    }

    static func view(_ journal: any APIJournal) async throws -> QueueView {
        let q = try await journal.queueState()
        let queued = try await journal.jobs(JobFilter(states: [.queued]))
        let now = Date()
        return QueueView(paused: q.paused, changed_at: q.changedAt.map(Timestamp.format), changed_by: q.changedBy, queued: queued.count,
                         scheduled: queued.filter { ($0.notBefore ?? now) > now }.count,
                         next_not_before: try await journal.nextNotBefore().map(Timestamp.format))
    }

    func state() async throws -> Response {
        JSON.response(try await Self.view(try server.live().journal))
    }

    func change(_ action: RequestAction) async throws -> Response {
        let live = try server.live()
        try await live.journal.request(action, job: nil, value: nil, by: "api")
        await live.applyRequests()
        return JSON.response(try await Self.view(live.journal))
    }

    /// `POST /v1/jobs/ID/priority` with `{"priority": N}`: a job that has not ended takes a new priority.
    func priority(_ request: Request, _ id: String) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: 4096)
        let range = ManifestLimits.priority
        let expected = "a JSON object {\"priority\": N} with N a whole number from \(range.lowerBound) to \(range.upperBound)"
        struct Body: Decodable { var priority: Int }
        // JSONDecoder refuses what is not a whole number (text, true, 1.5, a number past Int's range) for `priority`.
        guard let value = try? JSONDecoder().decode(Body.self, from: Data(buffer: body)).priority, range.contains(value) else {
            throw APIError(.badRequest, "bad_priority", "priority: the body must be \(expected)")
        }
        let live = try server.live()
        guard let listed = try await live.journal.listedJob(JobID(id)) else { throw APIError(.notFound, "no_job", "no job \(id)") }
        guard !listed.job.state.isFinal else {
            throw APIError(.conflict, "not_reprioritisable", "job \(id) is \(listed.apiState); only a job not yet ended takes a new priority")
        }
        try await live.journal.request(.priority, job: JobID(id), value: value, by: "api")
        await live.applyRequests()
        guard let after = try await live.journal.listedJob(JobID(id)) else { throw APIError(.notFound, "no_job", "no job \(id)") }
        return JSON.response(JobView(after, paths: server.paths))
    }
}
