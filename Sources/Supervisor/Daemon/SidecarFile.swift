import Contract
import Foundation
import Journal

/// Where the supervisor writes a job's sidecar. What it writes is always `Job.sidecar`, the projection of the job's
/// journal row (Docs/contract.md); the daemon needs neither the pipeline nor libav to keep sidecars in step.
enum SidecarFile {
    static func url(outbox: String, name: String) -> URL { URL(fileURLWithPath: outbox).appendingPathComponent(name + ".json") }

    /// Where the sidecar of a job that ended without outputs goes when `NAME.json` stays with an earlier done job
    /// (see `Daemon.publishSidecar`): `STATE/NAME.json` in the outbox (`rejected`, `failed`, `cancelled`). No job's output
    /// can have that name: a NAME holds no `/`.
    static func asideURL(outbox: String, name: String, state: String) -> URL {
        URL(fileURLWithPath: outbox).appendingPathComponent(state).appendingPathComponent(name + ".json")
    }

    /// The job's sidecar, projected from its row, to `url` (default: the outbox's `NAME.json`). Returns the bytes written.
    @discardableResult
    static func write(_ job: Job, outbox: String, to url: URL? = nil) throws -> Data {
        let data = try job.sidecar.encoded()
        try AtomicFile.write(data, to: url ?? Self.url(outbox: outbox, name: job.name))
        return data
    }

    /// Whose sidecar is at `url` and which state it shows; nil when none is readable.
    static func mark(_ url: URL) -> Mark? {
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        return try? JSONDecoder().decode(Mark.self, from: data)
    }

    struct Mark: Decodable, Equatable { var job_id: String; var state: String }
}
