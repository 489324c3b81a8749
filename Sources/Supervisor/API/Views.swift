import Contract
import Daemon
import Foundation
import Journal

/// A job as the API shows it in lists and in `202` answers.
struct JobView: Codable, Sendable {
    struct ErrorView: Codable, Sendable { var code: String; var message: String; var field: String? }
    var id: String
    var name: String
    var state: String
    var stage: String?
    var progress: Double
    var attempts: Int
    var created_at: String
    var updated_at: String
    var error: ErrorView?
    var outputs: [String: String]
    var links: [String: String]
    /// The queue's order (issue 32): higher first; not started before `not_before`; the model packs its worker loads.
    var priority: Int
    var not_before: String?
    var packs: [String]

    /// `paths`: how the server's folders are named in the error message.
    init(_ listed: ListedJob, paths: ServerPaths) {
        let job = listed.job
        id = job.id.rawValue
        name = job.name
        state = listed.apiState
        stage = job.stage
        progress = job.progress
        attempts = job.attempts
        created_at = Timestamp.format(job.createdAt)
        updated_at = Timestamp.format(job.updatedAt)
        error = job.error.map { ErrorView(code: $0.code, message: paths.scrub($0.message), field: $0.field) }
        outputs = listed.deletedAt == nil ? job.outputs : [:]
        links = Self.links(id)
        priority = job.priority
        not_before = job.notBefore.map(Timestamp.format)
        packs = job.packs.sorted()
    }

    static func links(_ id: String) -> [String: String] {
        let base = "/v1/jobs/" + id
        return ["self": base, "events": base + "/events", "video": base + "/video", "captions": base + "/captions",
                "poster": base + "/poster", "sidecar": base + "/sidecar", "cancel": base + "/cancel", "retry": base + "/retry", "priority": base + "/priority",
                "page": "/jobs/" + id]
    }
}

/// `202 Accepted` for a posted job.
struct Accepted: Codable, Sendable {
    var id: String
    var name: String
    var state: String
    var links: [String: String]
}

struct JobList: Codable, Sendable {
    var jobs: [JobView]
    /// Pass as `cursor` for the next page; absent on the last page.
    var next_cursor: String?
}

/// `GET /v1/jobs/ID`: the job's sidecar (Docs/contract.md), then `state` as the API names it (`deleted` too), `id`,
/// `attempts` and `links` in the same object.
struct JobStatus: Encodable, Sendable {
    var sidecar: Sidecar
    var apiState: String
    var attempts: Int
    var links: [String: String]

    private enum Keys: String, CodingKey { case state, id, attempts, links }

    func encode(to encoder: any Encoder) throws {
        try sidecar.encode(to: encoder)
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(apiState, forKey: .state)
        try c.encode(sidecar.job_id, forKey: .id)
        try c.encode(attempts, forKey: .attempts)
        try c.encode(links, forKey: .links)
    }
}
