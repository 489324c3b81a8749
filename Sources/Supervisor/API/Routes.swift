import Contract
import Daemon
import Foundation
import HTTPTypes
import Hummingbird
import Intake
import Journal
import Manifest
import Watcher

struct Routes: Sendable {
    let server: APIServer

    func register(_ router: Router<BasicRequestContext>) {
        router.get("/healthz") { _, _ in JSON.response(["status": "ok"]) }
        router.get("/readyz") { _, _ in readiness() }
        router.get("/openapi.yaml") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(string: OpenAPISpec.yaml)))
        }
        router.get("/metrics") { _, _ in try await server.metrics.scrape(server.live(), outbox: server.daemon.config.outbox) }

        router.post("/v1/jobs") { request, context in try await submit(request, context) }
        router.get("/v1/jobs") { request, _ in try await list(request) }
        router.get("/v1/jobs/:id") { _, context in try await status(context.parameters.require("id")) }
        router.delete("/v1/jobs/:id") { _, context in try await delete(context.parameters.require("id")) }
        router.post("/v1/jobs/:id/cancel") { _, context in try await request(.cancel, context.parameters.require("id")) }
        router.post("/v1/jobs/:id/retry") { _, context in try await request(.retry, context.parameters.require("id")) }
        router.get("/v1/jobs/:id/events") { request, context in try await Events.job(server, context.parameters.require("id"), request: request) }
        router.get("/v1/events") { _, _ in try Events.all(server) }
        for role in Downloads.roles {
            router.get("/v1/jobs/:id/\(role)") { request, context in
                try await Downloads.serve(server, id: context.parameters.require("id"), role: role, request: request, context: context)
            }
        }
        router.get("/v1/jobs/:id/renditions/:name") { request, context in
            try await Downloads.serve(server, id: context.parameters.require("id"), role: "rendition." + context.parameters.require("name"),
                                      request: request, context: context)
        }
        // The plan's names for the same three calls.
        router.post("/api/content/generate") { request, context in try await submit(request, context) }
        router.get("/api/content/status/:id") { _, context in try await status(context.parameters.require("id")) }
        router.get("/api/content/download/:id") { request, context in
            try await Downloads.serve(server, id: context.parameters.require("id"), role: "video", request: request, context: context)
        }
        QueueRoutes(server: server).register(router)
        Dashboard(server: server).register(router)
    }

    // MARK: Health

    func readiness() -> Response {
        let (ready, checks) = readinessChecks()
        struct Body: Encodable { var status: String; var checks: [String: String] }
        return JSON.response(Body(status: ready ? "ready" : "not_ready", checks: checks), status: ready ? .ok : .serviceUnavailable)
    }

    func readinessChecks() -> (ready: Bool, checks: [String: String]) {
        var checks: [String: String] = [:]
        var ready = true
        if let live = server.daemon.live.current {
            checks["inbox"] = "watched"
            if let failing = live.pickUp.health.failing { checks["pickup"] = "failing: \(failing)"; ready = false }
            if let problem = live.journal.writeProblem { checks["journal"] = problem; ready = false } else { checks["journal"] = "writable" }
        } else {
            checks["inbox"] = "not watched (starting or stopping)"; checks["journal"] = "not open"; ready = false
        }
        var fs = statvfs()
        if statvfs(server.daemon.config.state, &fs) == 0 {
            let free = Int64(fs.f_bavail) * Int64(fs.f_frsize)
            let enough = free >= server.settings.minFreeBytes
            checks["disk"] = "\(free >> 20) MiB free" + (enough ? "" : " (below api.min_free_mb, \(server.settings.minFreeBytes >> 20) MiB)")
            if !enough { ready = false }
        } else {
            checks["disk"] = "cannot stat \(server.daemon.config.state)"; ready = false
        }
        return (ready, checks)
    }

    // MARK: Jobs

    func submit(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let started = ContinuousClock.now
        let live = try server.live()
        let limits = Upload.Limits(maxBodyBytes: server.settings.maxBodyBytes, maxAssets: server.settings.maxAssets,
                                   maxExpandedBytes: server.settings.maxExpandedBytes, maxExpansionRatio: server.settings.maxExpansionRatio)
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limits.maxBodyBytes {
            throw APIError(.contentTooLarge, "body_too_large", "the body is \(length) bytes; at most \(limits.maxBodyBytes) (api.max_body_mb)")
        }
        let key = request.headers[HTTPField.Name("Idempotency-Key")!]
        if let key, key.isEmpty || key.utf8.count > 200 {
            throw APIError(.badRequest, "bad_idempotency_key", "Idempotency-Key must be 1 to 200 characters")
        }
        // The body goes to disk as it arrives (the limit checked chunk by chunk, chunked bodies too), and the job
        // folder is made from that file: memory holds a chunk, not the upload.
        let upload = Upload(limits: limits, staging: live.layout.state + "/api-uploads")
        let root = try upload.makeRoot()
        var handedOver = false
        defer { if !handedOver { try? FileManager.default.removeItem(atPath: root) } }
        let length: Int
        do { length = try await Upload.receive(request.body, to: root + "/.body", limit: limits.maxBodyBytes) } catch let error as APIError {
            throw error
        } catch {
            throw APIError(.badRequest, "body_unreadable", "the body could not be read: \(error)")
        }
        guard length > 0 else { throw APIError(.badRequest, "empty_body", "the body is empty: send a manifest, a form or an archive") }
        let name = request.uri.queryParameters.get("name")
        let contentType = request.headers[.contentType]
        let staged = try await offload { () throws(APIError) -> Upload.Staged in try upload.stage(root: root, length: length, contentType: contentType, name: name) }

        // The same validation `prostudio validate` does on the manifest (parse, schema, assets present); voice and
        // media checks that need the pipeline run in the worker's plan stage and reject the job there.
        // A caller reads only what it sent and the operator's library.folders, whatever the inbox allows.
        let defaults = server.daemon.config.defaults, access = server.daemon.config.apiFolderAccess
        let folder = staged.folder, shown = staged.name
        let problems: ManifestErrors? = await offload { () -> ManifestErrors? in
            do throws(ManifestErrors) {
                let manifest = try ManifestLoader.load(path: folder, displayName: shown, defaults: defaults, access: access)
                // The pick-up's header checks too, here where files are named as the caller sent them.
                let problems = AssetHeaderCheck.problems(in: manifest, file: shown)
                return problems.isEmpty ? nil : ManifestErrors(errors: problems)
            } catch { return error }
        }
        if let problems { throw APIError.invalidManifest(problems) }

        // Pick-up, exactly as for a folder dropped in the inbox: journal (claim) first, then the rename into
        // state/jobs/ID, then queued. A kill -9 after the claim is finished by the next start's reconcile.
        let arrival = Arrival(kind: .folder, name: staged.name, path: staged.folder, trigger: .movedIn)
        let outcome: PickUpOutcome
        do { outcome = try await live.pickUp.take(arrival, key: key.map { "api-idempotency:" + $0 }) } catch {
            throw APIError(.serviceUnavailable, "journal_unavailable", "the job could not be journaled: \(error)")
        }
        live.accepted(outcome)
        switch outcome {
        case .queued(let job):
            handedOver = true
            try? FileManager.default.removeItem(atPath: staged.root)  // now empty: its folder moved to state/jobs/ID
            server.metrics.pickedUp(after: ContinuousClock.now - started)
            return accepted(job, replayed: false)
        case .duplicate(let job):
            return accepted(job, replayed: true)
        case .rejected(let job):
            handedOver = true
            try? FileManager.default.removeItem(atPath: staged.root)
            throw APIError(.badRequest, job.error?.code ?? "rejected", server.paths.scrub(job.error?.message ?? "the job was rejected"))
        case .gone(let what):
            throw APIError(.internalServerError, "upload_vanished", "the upload \(what) vanished before pick-up")
        }
    }

    private func accepted(_ job: Job, replayed: Bool) -> Response {
        var headers: HTTPFields = [.location: "/v1/jobs/" + job.id.rawValue]
        if replayed { headers[HTTPField.Name("Idempotent-Replayed")!] = "true" }
        let state = job.state == .claimed ? "queued" : job.state.rawValue
        return JSON.response(Accepted(id: job.id.rawValue, name: job.name, state: state, links: JobView.links(job.id.rawValue)),
                             status: .accepted, headers: headers)
    }

    func list(_ request: Request) async throws -> Response {
        let live = try server.live()
        let q = request.uri.queryParameters
        var states: Set<JobState>?
        var deleted = false
        if let text = q.get("state"), !text.isEmpty {
            var set = Set<JobState>()
            for part in text.split(separator: ",") {
                if part == "deleted" { deleted = true; continue }
                guard let s = JobState(rawValue: String(part)), s != .claimed else {
                    throw APIError(.badRequest, "bad_state", "state \(part): expected queued, running, done, failed, cancelled, rejected or deleted")
                }
                set.insert(s)
                if s == .queued { set.insert(.claimed) }
            }
            if deleted && !set.isEmpty { throw APIError(.badRequest, "bad_state", "state=deleted cannot be combined with other states") }
            states = set
        }
        var limit = 50
        if let text = q.get("limit") {
            guard let v = Int(text), (1...500).contains(v) else { throw APIError(.badRequest, "bad_limit", "limit \(text): expected 1 to 500") }
            limit = v
        }
        let cursor = q.get("cursor").flatMap { $0.isEmpty ? nil : JobID($0) }
        let rows = try await live.journal.listedJobs(states: states, deleted: deleted, before: cursor, limit: limit + 1)
        let page = Array(rows.prefix(limit))
        return JSON.response(JobList(jobs: page.map { JobView($0, paths: server.paths) }, next_cursor: rows.count > limit ? page.last?.job.id.rawValue : nil))
    }

    func job(_ id: String, _ live: DaemonLive) async throws -> ListedJob {
        guard let job = try await live.journal.listedJob(JobID(id)) else { throw APIError(.notFound, "no_job", "no job \(id)") }
        return job
    }

    /// The job's sidecar as the journal row projects it (the same bytes the daemon writes to the outbox, folders named
    /// as the caller knows them), with `id`, `attempts` and `links`; `state` says `deleted` for a deleted job.
    func status(_ id: String) async throws -> Response {
        let live = try server.live()
        let listed = try await job(id, live)
        var sidecar = server.paths.scrub(sidecar: listed.job.sidecar)
        if listed.deletedAt != nil { sidecar.outputs = Sidecar.Outputs() }
        return JSON.response(JobStatus(sidecar: sidecar, apiState: listed.apiState, attempts: listed.job.attempts, links: JobView.links(id)))
    }

    func request(_ action: RequestAction, _ id: String) async throws -> Response {
        let live = try server.live()
        let listed = try await job(id, live)
        let state = listed.job.state
        if listed.deletedAt != nil { throw APIError(.conflict, "job_deleted", "job \(id) was deleted") }
        switch action {
        case .cancel where state.isFinal:
            throw APIError(.conflict, "not_cancellable", "job \(id) is \(state.rawValue); only queued and running jobs can be cancelled")
        case .retry where !(state == .failed || state == .cancelled):
            throw APIError(.conflict, "not_retryable", "job \(id) is \(listed.apiState); only failed and cancelled jobs can be retried")
        default: break
        }
        try await live.journal.request(action, job: JobID(id), by: "api")
        await live.applyRequests()
        let after = try await job(id, live)
        return JSON.response(JobView(after, paths: server.paths), status: .accepted)
    }

    /// Removes a finished job's outputs (those still its own: a later job of the same name owns them otherwise) and
    /// its job folder; the journal row stays, marked deleted.
    func delete(_ id: String) async throws -> Response {
        let live = try server.live()
        let listed = try await job(id, live)
        guard listed.job.state.isFinal else {
            throw APIError(.conflict, "job_active", "job \(id) is \(listed.apiState); cancel it first")
        }
        let outbox = server.daemon.config.outbox
        let sidecarPath = outbox + "/" + listed.job.name + ".json"
        let owned = Sidecar.owner(URL(fileURLWithPath: sidecarPath)) == id
        let marked = try await live.journal.markDeleted(JobID(id))
        if owned {
            for (_, file) in listed.job.outputs where !file.contains("/") { unlink(outbox + "/" + file) }
            unlink(sidecarPath)
        }
        try? FileManager.default.removeItem(atPath: live.layout.jobFolder(JobID(id)))
        try? FileManager.default.removeItem(atPath: live.layout.rejectedFolder(JobID(id)))
        return JSON.response(JobView(marked, paths: server.paths))
    }
}

/// Runs blocking file work (writing an upload, parsing a manifest) off the cooperative pool, which has as many
/// threads as cores (2 here): a large upload must not stall every other request.
func offload<T: Sendable, E: Error>(_ body: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
    let result: Result<T, E> = await withCheckedContinuation { continuation in
        DispatchQueue.global().async {
            do throws(E) { continuation.resume(returning: .success(try body())) } catch { continuation.resume(returning: .failure(error)) }
        }
    }
    return try result.get()
}

func offload<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(returning: body()) }
    }
}
