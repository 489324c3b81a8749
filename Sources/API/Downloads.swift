import Daemon
import Foundation
import HTTPTypes
import Hummingbird
import Journal

/// `GET /v1/jobs/ID/{video,captions,poster,sidecar}`: the job's files in the outbox, with `ETag`, `If-None-Match`,
/// and single `Range` requests (what a video player seeks with).
enum Downloads {
    static let roles = ["video", "captions", "webvtt", "poster", "sidecar"]
    static let fileIO = FileIO()

    static func contentType(_ path: String) -> String {
        switch (path as NSString).pathExtension.lowercased() {
        case "mp4", "m4v": "video/mp4"
        case "webm": "video/webm"
        case "mov": "video/quicktime"
        case "vtt": "text/vtt; charset=utf-8"
        case "srt": "application/x-subrip; charset=utf-8"
        case "ass", "ssa": "text/x-ssa; charset=utf-8"
        case "jpg", "jpeg": "image/jpeg"
        case "png": "image/png"
        case "webp": "image/webp"
        case "json": "application/json; charset=utf-8"
        default: "application/octet-stream"
        }
    }

    static func serve(_ server: APIServer, id: String, role: String, request: Request, context: BasicRequestContext) async throws -> Response {
        let live = try server.live()
        guard let listed = try await live.journal.listedJob(JobID(id)) else { throw APIError(.notFound, "no_job", "no job \(id)") }
        if listed.deletedAt != nil { throw APIError(.gone, "job_deleted", "job \(id) was deleted with its outputs") }
        let outbox = server.daemon.config.outbox
        let job = listed.job
        let sidecarPath = outbox + "/" + job.name + ".json"
        // Outputs are named after the job: a later job of the same name replaces them. The sidecar says whose they are.
        let sidecar = FileManager.default.contents(atPath: sidecarPath).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
        guard let sidecar, sidecar["job_id"] as? String == id else {
            if sidecar != nil && job.state == .done {
                throw APIError(.gone, "superseded", "the outputs named \(job.name) now belong to a later job of the same name")
            }
            throw APIError(.notFound, "no_output", "job \(id) has no \(role) (it is \(listed.apiState))")
        }
        let file: String
        if role == "sidecar" {
            file = job.name + ".json"
        } else {
            let outputs = sidecar["outputs"] as? [String: Any]
            guard job.state == .done, let name = (job.outputs[role] ?? outputs?[role] as? String), !name.contains("/") else {
                throw APIError(.notFound, "no_output", "job \(id) has no \(role) (it is \(listed.apiState))")
            }
            file = name
        }
        let path = outbox + "/" + file
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            throw APIError(.notFound, "no_output", "job \(id): \(file) is not in the outbox")
        }
        let size = Int(st.st_size)
        let mtime = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        let etag = "\"\(String(st.st_ino, radix: 16))-\(String(size, radix: 16))-\(String(mtime, radix: 16))\""
        var headers: HTTPFields = [.contentType: contentType(file), .eTag: etag, .acceptRanges: "bytes",
                                   .contentDisposition: "inline; filename=\"\(file.replacingOccurrences(of: "\"", with: ""))\""]
        if let match = request.headers[.ifNoneMatch], match.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == etag || $0 == "*" }) {
            return Response(status: .notModified, headers: headers)
        }
        var range: ClosedRange<Int>?
        if let text = request.headers[.range] {
            // If-Range with another validator: the file changed, send it whole.
            let ifRange = request.headers[.ifRange]
            if ifRange == nil || ifRange == etag {
                guard let r = parseRange(text, size: size) else {
                    headers[.contentRange] = "bytes */\(size)"
                    return Response(status: .rangeNotSatisfiable, headers: headers,
                                    body: .init(byteBuffer: ByteBuffer(bytes: JSON.encode(["error": ["code": "bad_range", "message": "Range \(text) does not fit a file of \(size) bytes"]]))))
                }
                range = r
            }
        }
        if request.method == .head { headers[.contentLength] = "\(size)"; return Response(status: .ok, headers: headers) }
        if let range {
            headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound)/\(size)"
            headers[.contentLength] = "\(range.count)"
            let body = try await fileIO.loadFile(path: path, range: range, context: context)
            return Response(status: .partialContent, headers: headers, body: body)
        }
        headers[.contentLength] = "\(size)"
        let body = size == 0 ? ResponseBody() : try await fileIO.loadFile(path: path, context: context)
        return Response(status: .ok, headers: headers, body: body)
    }

    /// One range of `bytes=A-B`, `bytes=A-` or `bytes=-N`; nil when it does not fit (or asks for several).
    static func parseRange(_ text: String, size: Int) -> ClosedRange<Int>? {
        guard text.hasPrefix("bytes="), size > 0 else { return nil }
        let spec = text.dropFirst(6).trimmingCharacters(in: .whitespaces)
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return nil }
        let a = spec[..<dash], b = spec[spec.index(after: dash)...]
        if a.isEmpty {
            guard let n = Int(b), n > 0 else { return nil }
            return max(0, size - n)...(size - 1)
        }
        guard let start = Int(a), start >= 0, start < size else { return nil }
        if b.isEmpty { return start...(size - 1) }
        guard let end = Int(b), end >= start else { return nil }
        return start...min(end, size - 1)
    }
}
