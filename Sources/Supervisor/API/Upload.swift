import Foundation
import Manifest

/// Turns a `POST /v1/jobs` body into a job folder on disk: a manifest (JSON, YAML, plain text), a multipart form
/// with the manifest and its assets, or a `.tar`/`.zip` of a job folder. The folder is written under the state
/// folder's `api-uploads/` (same filesystem as the inbox and `state/jobs/`, so pick-up's rename works) and then
/// handed to the inbox's own pick-up. Nothing here touches the journal.
struct Upload {
    struct Limits: Sendable {
        var maxBodyBytes: Int
        var maxAssets: Int
        var maxExpandedBytes: Int
        var maxExpansionRatio: Int
    }

    /// A job folder ready for pick-up: `root` is this upload's private folder, `folder` = `root/NAME`.
    struct Staged {
        var root: String
        var folder: String
        var name: String
        func discard() { try? FileManager.default.removeItem(atPath: root) }
    }

    let limits: Limits
    let staging: String

    /// The manifest loader's own limit: a larger manifest is refused by size here, before anything reads it whole.
    static let maxManifestBytes = 4 << 20

    /// A job name: it names the outputs (`NAME.mp4`), so only plain characters, no path.
    static func checkName(_ name: String) throws(APIError) -> String {
        let ok = !name.isEmpty && name.utf8.count <= 200 && !name.hasPrefix(".") && !name.hasPrefix("-")
            && name.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "._- ".unicodeScalars.contains($0) }
        guard ok else {
            throw APIError(.badRequest, "invalid_name", "job name \"\(name)\": expected 1 to 200 letters, digits, '.', '_', '-' or spaces, not starting with '.' or '-'")
        }
        return name
    }

    /// A relative path inside the job folder, from a form's file name or an archive entry: no `..`, no absolute
    /// path, no empty or NUL parts.
    static func safeRelativePath(_ raw: String, what: String) throws(APIError) -> String {
        if raw.hasPrefix("/") || raw.hasPrefix("\\") || raw.contains("\0") || raw.contains("\\") {
            throw APIError(.badRequest, "unsafe_path", "\(what) \"\(raw)\": absolute paths, backslashes and NUL are refused")
        }
        var parts: [Substring] = []
        for part in raw.split(separator: "/", omittingEmptySubsequences: true) where part != "." {
            if part == ".." { throw APIError(.badRequest, "unsafe_path", "\(what) \"\(raw)\": '..' is refused") }
            parts.append(part)
        }
        guard !parts.isEmpty else { throw APIError(.badRequest, "unsafe_path", "\(what) \"\(raw)\" names no file") }
        guard parts.count <= 16 else { throw APIError(.badRequest, "unsafe_path", "\(what) \"\(raw)\" is nested too deep (16 levels at most)") }
        return parts.joined(separator: "/")
    }

    /// The media type without parameters, lowercased.
    static func mediaType(_ contentType: String?) -> String {
        (contentType ?? "").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
    }

    /// This upload's private folder under the staging folder: the body is written to `root/.body` as it arrives,
    /// the job folder's files to `root/.files/` as they are read from it.
    func makeRoot() throws(APIError) -> String {
        let root = staging + "/" + UUID().uuidString.lowercased()
        do { try FileManager.default.createDirectory(atPath: root + "/.files", withIntermediateDirectories: true) } catch {
            throw APIError(.init(code: 507, reasonPhrase: "Insufficient Storage"), "write_failed", "cannot store the upload: \(error.localizedDescription)")
        }
        return root
    }

    /// Turns the body in `root/.body` (`length` bytes, already within `api.max_body_mb`) into the job folder
    /// `root/NAME`, file by file, never holding more than a chunk of it in memory.
    func stage(root: String, length: Int, contentType: String?, name requested: String?) throws(APIError) -> Staged {
        let body = root + "/.body"
        var type = Self.mediaType(contentType)
        // No type, or one that says nothing of the content (curl --data-binary sends form-urlencoded by default):
        // told apart by the first bytes.
        if ["", "application/x-www-form-urlencoded", "application/octet-stream"].contains(type) {
            type = Self.sniffedType(path: body, length: length)
        }
        let files = FileSet(root: root + "/.files", limits: limits)
        var name = requested
        var stripTop = false
        func adopt(_ path: String) throws(APIError) {
            try files.reserve(length)
            let fd = try files.create(path, isManifest: true)
            close(fd)
            guard rename(body, files.root + "/" + path) == 0 else { throw FileSet.writeFailed(path, errno) }
        }
        switch type {
        case "application/json": try adopt("manifest.json")
        case "application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml": try adopt("manifest.yaml")
        case "text/plain": try adopt("manifest.txt")
        case "text/markdown": try adopt("manifest.md")
        case "multipart/form-data":
            guard let boundary = Multipart.boundary(contentType ?? "") else {
                throw APIError(.badRequest, "bad_multipart", "multipart/form-data without a boundary parameter")
            }
            name = try Self.form(body, boundary: boundary, into: files, name: name)
        case "application/x-tar", "application/tar":
            let fd = open(body, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw FileSet.writeFailed("the body", errno) }
            defer { close(fd) }
            try Archive.untar(fd: fd, length: length, into: files)
            stripTop = true
        case "application/zip", "application/x-zip-compressed":
            try Archive.unzip(path: body, length: length, into: files)
            stripTop = true
        default:
            throw APIError(.unsupportedMediaType, "unsupported_media_type",
                           "Content-Type \(type): expected application/json, application/yaml, text/plain, multipart/form-data, application/x-tar or application/zip")
        }
        unlink(body)
        var content = files.root
        if stripTop, let top = files.singleTopFolder() {
            content += "/" + top
            if name == nil { name = top }
        }
        let jobName = try Self.checkName(name ?? "job")
        let folder = root + "/" + jobName
        guard rename(content, folder) == 0 else { throw FileSet.writeFailed(jobName, errno) }
        try? FileManager.default.removeItem(atPath: files.root)
        if let manifest = ManifestLoader.manifestInFolder(folder) {
            var st = stat()
            if stat(manifest, &st) == 0, Int(st.st_size) > Self.maxManifestBytes {
                throw APIError(.contentTooLarge, "manifest_too_large",
                               "the manifest is \(st.st_size) bytes; at most \(Self.maxManifestBytes) (4 MiB)")
            }
        }
        return Staged(root: root, folder: folder, name: jobName)
    }

    /// The first byte that is not white space, in the first 64 KiB.
    /// What a body without a telling Content-Type is, from its first bytes: a zip, a tar, a JSON object, else YAML.
    static func sniffedType(path: String, length: Int) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0, let head = Archive.read(fd, at: 0, min(65_536, length)) else { return "application/yaml" }
        close(fd)
        if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) { return "application/zip" }
        if head.count >= 262, Array(head[257..<262]) == Array("ustar".utf8) { return "application/x-tar" }
        let first = head.first { !($0 == 0x20 || $0 == 0x0a || $0 == 0x0d || $0 == 0x09) }
        return first == UInt8(ascii: "{") ? "application/json" : "application/yaml"
    }

    /// A form's parts to files as they are read: `manifest` (one), `name`, and files under their own names.
    /// Returns the job name: `requested` (the query's), else the `name` field wherever it comes in the form, else the
    /// manifest part's file name (issue 27: a `name` field after the manifest part was ignored for the file name).
    private static func form(_ body: String, boundary: String, into files: FileSet, name requested: String?) throws(APIError) -> String? {
        let fd = open(body, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileSet.writeFailed("the body", errno) }
        defer { close(fd) }
        enum Current { case none, name([UInt8]), file(Int32, String), manifest(Int32, ext: String?, first: UInt8?) }
        var current = Current.none
        var field: String?, stem: String?, manifest = false
        defer {
            switch current {
            case .file(let out, _), .manifest(let out, _, _): close(out)
            default: break
            }
        }
        let pending = ".manifest-part"
        try Multipart.stream(boundary: boundary, read: { out in Glibc.read(fd, out.baseAddress, out.count) }, begin: { (part) throws(APIError) in
            if part.name == "name" && part.filename == nil {
                current = .name([])
            } else if part.name == "manifest" {
                guard !manifest else { throw APIError(.badRequest, "bad_multipart", "more than one 'manifest' part") }
                manifest = true
                let ext = part.filename.map { ($0 as NSString).pathExtension.lowercased() } ?? ""
                var fileExt: String?
                if ManifestLoader.manifestExtensions.contains(ext) { fileExt = ext }
                else if mediaType(part.contentType) == "application/json" { fileExt = "json" }
                if let fn = part.filename {
                    let s = ((fn as NSString).lastPathComponent as NSString).deletingPathExtension
                    if s != "manifest" && !s.isEmpty { stem = s }
                }
                current = .manifest(try files.create(pending, isManifest: true), ext: fileExt, first: nil)
            } else if let filename = part.filename, !filename.isEmpty {
                let path = try safeRelativePath(filename, what: "file")
                if ManifestLoader.manifestExtensions.contains((path as NSString).pathExtension.lowercased()) && !path.contains("/") {
                    // A second manifest-like file at the top would make the folder ambiguous.
                    throw APIError(.badRequest, "bad_multipart", "file \"\(path)\" looks like a second manifest; send the manifest as the 'manifest' part and assets under other names")
                }
                current = .file(try files.create(path), path)
            } else {
                current = .none
            }
        }, data: { (bytes) throws(APIError) in
            switch current {
            case .none: break
            case .name(let v):
                guard v.count + bytes.count <= 1024 else { throw APIError(.badRequest, "invalid_name", "the 'name' field is over 1024 bytes") }
                current = .name(v + bytes)
            case .file(let out, let path): try files.write(out, bytes, path: path)
            case .manifest(let out, let ext, let first):
                let seen = first ?? bytes.first { $0 > 0x20 }
                current = .manifest(out, ext: ext, first: seen)
                try files.write(out, bytes, path: "the manifest")
            }
        }, end: { () throws(APIError) in
            switch current {
            case .none: break
            case .name(let v):
                let text = String(decoding: v, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                if !text.isEmpty && field == nil { field = text }
            case .file(let out, _): close(out)
            case .manifest(let out, let ext, let first):
                close(out)
                try files.rename(pending, to: "manifest." + (ext ?? (first == UInt8(ascii: "{") ? "json" : "yaml")))
            }
            current = .none
        })
        guard manifest else { throw APIError(.badRequest, "no_manifest", "the form has no 'manifest' part") }
        return requested ?? field ?? stem
    }
}
