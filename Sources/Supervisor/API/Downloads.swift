import Contract
import Daemon
import Foundation
import HTTPTypes
import Hummingbird
import Journal

/// `GET /v1/jobs/ID/{video,captions,poster,sidecar}`: the job's files in the outbox, with `ETag`, `If-None-Match`,
/// and single `Range` requests (what a video player seeks with).
enum Downloads {
    static let roles = ["video", "captions", "webvtt", "poster", "sidecar"]

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
        let owner = Sidecar.owner(URL(fileURLWithPath: sidecarPath))
        guard owner == id else {
            if owner != nil && job.state == .done {
                throw APIError(.gone, "superseded", "the outputs named \(job.name) now belong to a later job of the same name")
            }
            throw APIError(.notFound, "no_output", "job \(id) has no \(role) (it is \(listed.apiState))")
        }
        let file: String
        if role == "sidecar" {
            // The journal's projection (what the daemon wrote there), with the server's folders named as the caller knows them.
            return JSON.response(server.paths.scrub(sidecar: job.sidecar))
        } else {
            guard job.state == .done, let name = job.outputs[role], !name.contains("/") else {
                throw APIError(.notFound, "no_output", "job \(id) has no \(role) (it is \(listed.apiState))")
            }
            file = name
        }
        // One open file for the answer: the stat (size, ETag) and the bytes sent are of the same file even when the
        // daemon replaces it by rename meanwhile (a sidecar is rewritten at every state change).
        let path = outbox + "/" + file
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw APIError(.notFound, "no_output", "job \(id): \(file) is not in the outbox") }
        let handle = OpenFile(fd: fd)
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            throw APIError(.notFound, "no_output", "job \(id): \(file) is not a plain file")
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
        // The sidecar is small JSON: a part of it would not be JSON, so it is always sent whole (RFC 9110 lets a server ignore Range).
        if role != "sidecar", let text = request.headers[.range] {
            // If-Range with another validator: the file changed, send it whole.
            let ifRange = request.headers[.ifRange]
            if ifRange == nil || ifRange == etag {
                guard let r = parseRange(text, size: size) else {
                    var error = APIError(.rangeNotSatisfiable, "bad_range", "Range \"\(text)\" does not fit a file of \(size) bytes (one range: bytes=A-B, A- or -N)")
                    error.headers = [.contentRange: "bytes */\(size)", .acceptRanges: "bytes", .eTag: etag]
                    throw error
                }
                range = r
            }
        }
        let status: HTTPResponse.Status
        if let range {
            headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound)/\(size)"
            status = .partialContent
        } else {
            status = .ok
        }
        let span = range ?? 0...(max(size, 1) - 1)
        let length = size == 0 ? 0 : span.count
        headers[.contentLength] = "\(length)"
        if request.method == .head || length == 0 { return Response(status: status, headers: headers) }
        return Response(status: status, headers: headers, body: ResponseBody(contentLength: length) { writer in
            var offset = span.lowerBound
            let end = span.upperBound + 1
            var chunk = [UInt8](repeating: 0, count: 128 * 1024)
            while offset < end {
                let want = min(chunk.count, end - offset)
                let n = chunk.withUnsafeMutableBytes { pread(handle.fd, $0.baseAddress!, want, off_t(offset)) }
                guard n > 0 else { break }
                try await writer.write(ByteBuffer(bytes: chunk[0..<n]))
                offset += n
            }
            try await writer.finish(nil)
            withExtendedLifetime(handle) {}
        })
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

/// A file descriptor closed when the last reference (the response body) goes away.
final class OpenFile: Sendable {
    let fd: Int32
    init(fd: Int32) { self.fd = fd }
    deinit { close(fd) }
}
