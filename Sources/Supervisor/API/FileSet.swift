import Foundation
import NIOCore

/// The files of one upload, written under `root` as they arrive (never held whole in memory) and checked as they
/// are added: each name once, at most `api.max_assets` files besides the manifest, and every byte written counted
/// against `api.max_expanded_mb` before it is written.
final class FileSet {
    let limits: Upload.Limits
    let root: String
    private(set) var paths: [String] = []
    private var names = Set<String>()
    private(set) var expandedBytes = 0
    private var assets = 0

    init(root: String, limits: Upload.Limits) { self.root = root; self.limits = limits }

    static func writeFailed(_ what: String, _ err: Int32) -> APIError {
        APIError(.init(code: 507, reasonPhrase: "Insufficient Storage"), "write_failed", "cannot write \(what) of the upload: \(String(cString: strerror(err)))")
    }

    /// A new file at `path` (a safe relative path), open for writing; `close` it when done.
    func create(_ path: String, isManifest: Bool = false) throws(APIError) -> Int32 {
        guard names.insert(path).inserted else { throw APIError(.badRequest, "duplicate_file", "\(path) is in the upload twice") }
        let isTopManifest = isManifest || (!path.contains("/") && path.hasPrefix("manifest."))
        if !isTopManifest {
            assets += 1
            guard assets <= limits.maxAssets else {
                throw APIError(.contentTooLarge, "too_many_assets", "more than \(limits.maxAssets) files in one job (api.max_assets)")
            }
        }
        let target = root + "/" + path
        do {
            try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        } catch {
            throw APIError(.badRequest, "duplicate_file", "\(path): a file of the upload has the name of its folder")
        }
        // O_EXCL|O_NOFOLLOW: the folder holds only what this upload made, and nothing is written through a link.
        let fd = open(target, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            let err = errno
            if err == EEXIST || err == EISDIR || err == ENOTDIR { throw APIError(.badRequest, "duplicate_file", "\(path) is in the upload twice") }
            throw Self.writeFailed(path, err)
        }
        paths.append(path)
        return fd
    }

    /// Counts `bytes` against the expansion limit, then writes them.
    func write(_ fd: Int32, _ bytes: some ContiguousBytes, path: String) throws(APIError) {
        try reserve(bytes.withUnsafeBytes { $0.count })
        let err = bytes.withUnsafeBytes { Self.writeAll(fd, $0) }
        if err != 0 { throw Self.writeFailed(path, err) }
    }

    /// Writes all of `bytes`: 0, or the errno that stopped it.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32 {
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return n == 0 ? EIO : errno }
            done += n
        }
        return 0
    }

    /// A whole small file (a manifest from a body, a form field).
    func add(_ path: String, _ data: [UInt8], isManifest: Bool = false) throws(APIError) {
        let fd = try create(path, isManifest: isManifest)
        defer { close(fd) }
        try write(fd, data, path: path)
    }

    func reserve(_ bytes: Int) throws(APIError) {
        let (total, overflow) = expandedBytes.addingReportingOverflow(bytes)
        guard !overflow, total <= limits.maxExpandedBytes else {
            throw APIError(.contentTooLarge, "expansion_too_large", "the upload expands past \(limits.maxExpandedBytes) bytes (api.max_expanded_mb)")
        }
        expandedBytes = total
    }

    /// Renames a file already in the set (the manifest part, named once its first bytes are seen).
    func rename(_ from: String, to: String) throws(APIError) {
        guard names.insert(to).inserted else { throw APIError(.badRequest, "duplicate_file", "\(to) is in the upload twice") }
        guard Glibc.rename(root + "/" + from, root + "/" + to) == 0 else { throw Self.writeFailed(to, errno) }
        names.remove(from)
        paths = paths.map { $0 == from ? to : $0 }
    }

    /// The one folder every file sits in, when there is one (an archive of `promo/...`).
    func singleTopFolder() -> String? {
        let tops = Set(paths.map { $0.split(separator: "/", maxSplits: 1).first.map(String.init) ?? "" })
        guard tops.count == 1, let top = tops.first, paths.allSatisfy({ $0.contains("/") }) else { return nil }
        return top
    }
}

extension Upload {
    /// Writes the request body to `path` as it arrives, refusing it once it passes `limit` bytes (chunked bodies
    /// have no Content-Length to check first). Returns the byte count.
    static func receive<S: AsyncSequence>(_ body: S, to path: String, limit: Int) async throws -> Int where S.Element == ByteBuffer {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FileSet.writeFailed("the body", errno) }
        defer { close(fd) }
        var total = 0
        for try await buffer in body {
            let (sum, overflow) = total.addingReportingOverflow(buffer.readableBytes)
            guard !overflow, sum <= limit else {
                throw APIError(.contentTooLarge, "body_too_large", "the body is larger than \(limit) bytes (api.max_body_mb)")
            }
            total = sum
            // A write to the page cache: short enough to make on the request's task.
            let err = buffer.withUnsafeReadableBytes { FileSet.writeAll(fd, $0) }
            if err != 0 { throw FileSet.writeFailed("the body", err) }
        }
        return total
    }
}
