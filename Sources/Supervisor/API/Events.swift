import Contract
import Daemon
import Foundation
import HTTPTypes
import Hummingbird
import Journal

/// Server-sent events, from the journal (the daemon journals progress every 2%, stage changes and every event):
/// polling the journal's readers costs the daemon nothing and sees exactly what `jobs watch` sees.
enum Events {
    static let interval: Duration = .milliseconds(250)

    struct StateEvent: Encodable { var id: String; var name: String; var state: String; var stage: String?; var progress: Double; var error: JobView.ErrorView? }
    struct LogEvent: Encodable { var id: Int64; var at: String; var kind: String; var message: String }

    static func frame(_ event: String, _ data: some Encodable, id: String? = nil) -> ByteBuffer {
        var text = "event: \(event)\n"
        if let id { text += "id: \(id)\n" }
        text += "data: " + String(decoding: JSON.encode(data), as: UTF8.self) + "\n\n"
        return ByteBuffer(string: text)
    }

    static var headers: HTTPFields {
        [.contentType: "text/event-stream", .cacheControl: "no-store", HTTPField.Name("X-Accel-Buffering")!: "no"]
    }

    /// `GET /v1/jobs/ID/events`: `state` events (state, stage, progress) on every change, `log` events for the job's
    /// journal events; ends after the job reaches a final state.
    static func job(_ server: APIServer, _ id: String, request: Request) async throws -> Response {
        let live = try server.live()
        guard try await live.journal.listedJob(JobID(id)) != nil else { throw APIError(.notFound, "no_job", "no job \(id)") }
        let after = request.headers[HTTPField.Name("Last-Event-ID")!].flatMap { Int64($0) } ?? 0
        let journal = live.journal
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            var cursor = EventCursor(after: after)
            var lastState: (String, String?, Double)?
            var idle = 0
            while !Task.isCancelled {
                guard let listed = try await journal.listedJob(JobID(id)) else { break }
                for e in cursor.take(try await journal.events(after: cursor.low, job: JobID(id))) {
                    try await writer.write(frame("log", LogEvent(id: e.id, at: Timestamp.format(e.at), kind: e.kind, message: server.paths.scrub(e.message)), id: "\(e.id)"))
                }
                let job = listed.job
                let now = (listed.apiState, job.stage, job.progress)
                if lastState == nil || lastState! != now {
                    lastState = now
                    idle = 0
                    try await writer.write(frame("state", StateEvent(id: id, name: job.name, state: now.0, stage: job.stage, progress: job.progress,
                                                                     error: job.error.map { .init(code: $0.code, message: server.paths.scrub($0.message), field: $0.field) })))
                }
                if job.state.isFinal || listed.deletedAt != nil { break }
                idle += 1
                if idle % 60 == 0 { try await writer.write(ByteBuffer(string: ": keep-alive\n\n")) }  // every 15 s
                try await Task.sleep(for: interval)
            }
            try await writer.finish(nil)
        })
    }

    /// `GET /v1/events`: every job's changes (the dashboard's live table), as `job` events carrying the job's view.
    static func all(_ server: APIServer) throws -> Response {
        let live = try server.live()
        let journal = live.journal
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            var since = Date()
            var seen: [String: Date] = [:]
            var ticks = 0
            try await writer.write(ByteBuffer(string: ": connected\n\n"))
            while !Task.isCancelled {
                // Overlap by a second: updated_at has sub-millisecond precision but rows commit out of order.
                let rows = try await journal.jobsChanged(since: since.addingTimeInterval(-1))
                for row in rows where seen[row.job.id.rawValue] != row.job.updatedAt {
                    seen[row.job.id.rawValue] = row.job.updatedAt
                    try await writer.write(frame("job", JobView(row, paths: server.paths)))
                    since = max(since, row.job.updatedAt)
                }
                if seen.count > 5000 { seen = seen.filter { $0.value > since.addingTimeInterval(-2) } }
                ticks += 1
                if ticks % 30 == 0 { try await writer.write(ByteBuffer(string: ": keep-alive\n\n")) }
                try await Task.sleep(for: .milliseconds(500))
            }
            try await writer.finish(nil)
        })
    }
}
