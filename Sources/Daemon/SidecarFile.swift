import Foundation
import Journal

/// The supervisor's side of the status sidecar (`NAME.json`). The format belongs to the pipeline's `Sidecar`: a
/// worker sends it whole (JSON text) and the supervisor writes it as received. For a job that is not running
/// (queued, rejected, failed, cancelled) the supervisor sets the contract's fields itself (`state`, `stage`,
/// `progress`, `error`, `updated_at`) and keeps every other field as the last run wrote it, so the daemon needs
/// neither the pipeline nor libav to keep sidecars in step with the journal.
struct SidecarSummary: Decodable, Sendable {
    struct Outputs: Decodable, Sendable { var video, captions, poster: String? }
    struct StageRecord: Decodable, Sendable { var engine: String; var seconds: Double; var peak_memory_bytes: Int64; var cached: Bool }
    struct ErrorInfo: Decodable, Sendable { var code, message: String; var field: String? }
    var name: String
    var job_id: String
    var state: String
    var seed: UInt64?
    var outputs: Outputs?
    var stages: [String: StageRecord]?
    var error: ErrorInfo?
}

enum SidecarFile {
    static func url(outbox: String, name: String) -> URL { URL(fileURLWithPath: outbox).appendingPathComponent(name + ".json") }

    static func read(outbox: String, name: String) -> SidecarSummary? { read(url(outbox: outbox, name: name)) }

    static func read(_ url: URL) -> SidecarSummary? {
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        return try? JSONDecoder().decode(SidecarSummary.self, from: data)
    }

    static func timestamp(_ date: Date = Date()) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: date)
    }

    /// The sidecar of a job that is not running: its journal state and error over what the last run wrote (for
    /// the same job), or a fresh one.
    static func write(for job: Job, state: String, outbox: String) throws {
        let target = url(outbox: outbox, name: job.name)
        var object: [String: Any] = [:]
        if let data = FileManager.default.contents(atPath: target.path),
           let old = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any], old["job_id"] as? String == job.id.rawValue {
            object = old
        } else {
            let now = timestamp()
            object = ["name": job.name, "job_id": job.id.rawValue, "progress": 0.0, "outputs": [String: Any](),
                      "stages": [String: Any](), "engines": [String: Any](), "created_at": now]
        }
        object["state"] = state
        if state == "queued" {
            object["stage"] = nil; object["progress"] = 0.0; object["error"] = nil
        } else if let e = job.error {
            var error: [String: Any] = ["code": e.code, "message": e.message]
            if let field = e.field { error["field"] = field }
            object["error"] = error
        }
        object["updated_at"] = timestamp()
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        try writeAtomically(data, to: target)
    }

    /// A sidecar as a worker sent it.
    static func write(json: String, name: String, outbox: String) throws {
        try writeAtomically(Data(json.utf8), to: url(outbox: outbox, name: name))
    }

    /// Temp file (`.NAME.json.PID.tmp`, hidden: watchers and the sweep know the pattern) + fsync + rename.
    static func writeAtomically(_ data: Data, to url: URL) throws {
        let dir = url.deletingLastPathComponent().path
        let temp = dir + "/.\(url.lastPathComponent).\(getpid()).tmp"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SidecarWriteError(path: temp, errno: errno) }
        var failure: Int32 = 0
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 { if errno == EINTR { continue }; failure = errno; return }
                offset += n
            }
        }
        if failure == 0 && fsync(fd) != 0 { failure = errno }
        close(fd)
        if failure == 0 && rename(temp, url.path) != 0 { failure = errno }
        guard failure == 0 else { unlink(temp); throw SidecarWriteError(path: url.path, errno: failure) }
        let dfd = open(dir, O_RDONLY | O_CLOEXEC)
        if dfd >= 0 { fsync(dfd); close(dfd) }
    }
}

struct SidecarWriteError: Error, CustomStringConvertible {
    let path: String
    let errno: Int32
    var description: String { "cannot write \(path): \(String(cString: strerror(errno)))" }
}
