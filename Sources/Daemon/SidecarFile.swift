import Failures
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
    /// What the plan found that will not look or sound right (journaled as `warning` events when the job ends done).
    var warnings: [String]?
}

enum SidecarFile {
    static func url(outbox: String, name: String) -> URL { URL(fileURLWithPath: outbox).appendingPathComponent(name + ".json") }

    static func read(outbox: String, name: String) -> SidecarSummary? { read(url(outbox: outbox, name: name)) }

    static func read(_ url: URL) -> SidecarSummary? {
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        return try? JSONDecoder().decode(SidecarSummary.self, from: data)
    }

    /// `2026-11-28T01:53:07.917Z`, as the pipeline writes it; by hand, because ISO8601DateFormatter loads ICU
    /// (6 MB of resident pages in an otherwise small supervisor).
    static func timestamp(_ date: Date = Date()) -> String {
        let seconds = date.timeIntervalSince1970
        var t = time_t(seconds.rounded(.down))
        var parts = tm()
        gmtime_r(&t, &parts)
        let millis = min(999, Int((seconds - seconds.rounded(.down)) * 1000))
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let ms = millis < 10 ? "00\(millis)" : (millis < 100 ? "0\(millis)" : "\(millis)")
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(ms)Z"
    }

    /// Where the sidecar of a job that ended without outputs goes when `NAME.json` stays with an earlier done job
    /// (see `Daemon.publishEnd`): `STATE/NAME.json` in the outbox (`rejected`, `failed`, `cancelled`). No job's output can
    /// have that name: a NAME holds no `/`.
    static func asideURL(outbox: String, name: String, state: String) -> URL {
        URL(fileURLWithPath: outbox).appendingPathComponent(state).appendingPathComponent(name + ".json")
    }

    /// The sidecar of a job that is not running: its journal state and error over what the last run wrote (for
    /// the same job), or a fresh one. `failure`, when known, adds the failed stage; the disposition follows from
    /// it or from the state.
    static func write(for job: Job, state: String, outbox: String, failure: JobFailure? = nil, to url: URL? = nil) throws {
        let target = url ?? Self.url(outbox: outbox, name: job.name)
        var object: [String: JSONValue] = [:]
        if let data = FileManager.default.contents(atPath: target.path),
           case .object(let old)? = try? JSONDecoder().decode(JSONValue.self, from: data), old["job_id"] == .string(job.id.rawValue) {
            object = old
        } else {
            object = ["name": .string(job.name), "job_id": .string(job.id.rawValue), "progress": .number(0), "outputs": .object([:]),
                      "stages": .object([:]), "engines": .object([:]), "created_at": .string(timestamp())]
        }
        object["state"] = .string(state)
        if state == "queued" {
            object["stage"] = nil; object["progress"] = .number(0); object["error"] = nil
        } else if state == "done" {
            // Rebuilt from the journal (the published sidecar was not kept): its outputs at least.
            var outputs: [String: JSONValue] = [:]
            for (key, value) in job.outputs where key != "sidecar" { outputs[key] = .string(value) }
            object["outputs"] = .object(outputs); object["progress"] = .number(1); object["stage"] = nil; object["error"] = nil
        } else if let e = job.error {
            var error: [String: JSONValue] = ["code": .string(e.code), "message": .string(e.message)]
            if let field = e.field { error["field"] = .string(field) }
            if let stage = failure?.stage { error["stage"] = .string(stage) }
            let byState: JobFailure.Disposition? = switch state {
            case "rejected": .invalidInput
            case "cancelled": .cancelled
            case "failed": .permanent
            default: nil
            }
            let disposition = failure?.disposition ?? byState
            if let disposition { error["disposition"] = .string(disposition.rawValue) }
            object["error"] = .object(error)
        }
        object["updated_at"] = .string(timestamp())
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try writeAtomically(try encoder.encode(JSONValue.object(object)), to: target)
    }

    /// A sidecar as a worker sent it.
    static func write(json: String, name: String, outbox: String) throws {
        try writeAtomically(Data(json.utf8), to: url(outbox: outbox, name: name))
    }

    /// Temp file (`.NAME.json.PID.tmp`, hidden: watchers and the sweep know the pattern) + fsync + rename.
    static func writeAtomically(_ data: Data, to url: URL) throws {
        let dir = url.deletingLastPathComponent().path
        if mkdir(dir, 0o755) != 0 && errno != EEXIST { throw SidecarWriteError(path: dir, errno: errno) }
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

/// The supervisor's sidecar timestamp, public for the test that compares it with the pipeline's.
public enum SidecarTimestamp {
    public static func format(_ date: Date) -> String { SidecarFile.timestamp(date) }
}

/// Any JSON value, so that fields this build does not know survive a rewrite of the sidecar.
enum JSONValue: Codable, Equatable, Sendable {
    case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let v = try? c.decode(Bool.self) { self = .bool(v) }
        else if let v = try? c.decode(Double.self) { self = .number(v) }
        else if let v = try? c.decode(String.self) { self = .string(v) }
        else if let v = try? c.decode([JSONValue].self) { self = .array(v) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let v): try c.encode(v)
        // Whole numbers stay whole (seed, width, bytes): 7, not 7.0.
        case .number(let v): if v == v.rounded(), abs(v) < 9e15 { try c.encode(Int64(v)) } else { try c.encode(v) }
        case .string(let v): try c.encode(v)
        case .array(let v): try c.encode(v)
        case .object(let v): try c.encode(v)
        }
    }
}
