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

    func stage(body: [UInt8], contentType: String?, name requested: String?) throws(APIError) -> Staged {
        let type = Self.mediaType(contentType)
        var files = FileSet(limits: limits)
        var name = requested
        var stripTop = false
        switch type {
        case "application/json": try files.add("manifest.json", body)
        case "application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml": try files.add("manifest.yaml", body)
        case "text/plain": try files.add("manifest.txt", body)
        case "text/markdown": try files.add("manifest.md", body)
        case "":
            // No type given: a JSON object or YAML, as a person typing curl would send.
            let first = body.first { !($0 == 0x20 || $0 == 0x0a || $0 == 0x0d || $0 == 0x09) }
            try files.add(first == UInt8(ascii: "{") ? "manifest.json" : "manifest.yaml", body)
        case "multipart/form-data":
            guard let boundary = Multipart.boundary(contentType ?? "") else {
                throw APIError(.badRequest, "bad_multipart", "multipart/form-data without a boundary parameter")
            }
            let parts = try Multipart.parse(body, boundary: boundary)
            var manifest = false
            for part in parts {
                if part.name == "name" && part.filename == nil {
                    let v = String(decoding: part.body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                    if !v.isEmpty && name == nil { name = v }
                } else if part.name == "manifest" {
                    guard !manifest else { throw APIError(.badRequest, "bad_multipart", "more than one 'manifest' part") }
                    manifest = true
                    let ext = part.filename.map { ($0 as NSString).pathExtension.lowercased() } ?? ""
                    let fileExt: String
                    if ManifestLoader.manifestExtensions.contains(ext) { fileExt = ext }
                    else if Self.mediaType(part.contentType) == "application/json" { fileExt = "json" }
                    else if part.body.first(where: { $0 > 0x20 }) == UInt8(ascii: "{") { fileExt = "json" }
                    else { fileExt = "yaml" }
                    if name == nil, let fn = part.filename {
                        let stem = ((fn as NSString).lastPathComponent as NSString).deletingPathExtension
                        if stem != "manifest" && !stem.isEmpty { name = stem }
                    }
                    try files.add("manifest." + fileExt, part.body, isManifest: true)
                } else if let filename = part.filename, !filename.isEmpty {
                    let path = try Self.safeRelativePath(filename, what: "file")
                    if ManifestLoader.manifestExtensions.contains((path as NSString).pathExtension.lowercased()) && !path.contains("/") {
                        // A second manifest-like file at the top would make the folder ambiguous.
                        throw APIError(.badRequest, "bad_multipart", "file \"\(path)\" looks like a second manifest; send the manifest as the 'manifest' part and assets under other names")
                    }
                    try files.add(path, part.body)
                }
            }
            guard manifest else { throw APIError(.badRequest, "no_manifest", "the form has no 'manifest' part") }
        case "application/x-tar", "application/tar":
            try Archive.untar(body, into: &files)
            stripTop = true
        case "application/zip", "application/x-zip-compressed":
            try Archive.unzip(body, into: &files)
            stripTop = true
        default:
            throw APIError(.unsupportedMediaType, "unsupported_media_type",
                           "Content-Type \(type): expected application/json, application/yaml, text/plain, multipart/form-data, application/x-tar or application/zip")
        }
        if stripTop, let top = files.singleTopFolder() {
            files.strip(top)
            if name == nil { name = top }
        }
        let jobName = try Self.checkName(name ?? "job")
        return try write(files, name: jobName)
    }

    private func write(_ files: FileSet, name: String) throws(APIError) -> Staged {
        let root = staging + "/" + UUID().uuidString.lowercased()
        let folder = root + "/" + name
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for (path, data) in files.files {
                let target = folder + "/" + path
                try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                guard FileManager.default.createFile(atPath: target, contents: Data(data)) else {
                    throw APIError(.init(code: 507, reasonPhrase: "Insufficient Storage"), "write_failed", "cannot write \(path) of the upload")
                }
            }
        } catch let e as APIError {
            try? FileManager.default.removeItem(atPath: root)
            throw e
        } catch {
            try? FileManager.default.removeItem(atPath: root)
            throw APIError(.init(code: 507, reasonPhrase: "Insufficient Storage"), "write_failed", "cannot store the upload: \(error.localizedDescription)")
        }
        return Staged(root: root, folder: folder, name: name)
    }
}

/// The files of one upload, in memory (bounded by the body and expansion limits), checked as they are added.
struct FileSet {
    let limits: Upload.Limits
    private(set) var files: [(String, [UInt8])] = []
    private var names = Set<String>()
    private var expanded = 0
    private var assets = 0

    init(limits: Upload.Limits) { self.limits = limits }

    /// Bytes added so far: archive readers stop at `maxExpandedBytes`.
    var expandedBytes: Int { expanded }

    mutating func add(_ path: String, _ data: [UInt8], isManifest: Bool = false) throws(APIError) {
        guard names.insert(path).inserted else { throw APIError(.badRequest, "duplicate_file", "\(path) is in the upload twice") }
        let isTopManifest = isManifest || (!path.contains("/") && path.hasPrefix("manifest."))
        if !isTopManifest {
            assets += 1
            guard assets <= limits.maxAssets else {
                throw APIError(.contentTooLarge, "too_many_assets", "more than \(limits.maxAssets) files in one job (api.max_assets)")
            }
        }
        try reserve(data.count)
        files.append((path, data))
    }

    mutating func reserve(_ bytes: Int) throws(APIError) {
        expanded += bytes
        guard expanded <= limits.maxExpandedBytes else {
            throw APIError(.contentTooLarge, "expansion_too_large", "the upload expands past \(limits.maxExpandedBytes) bytes (api.max_expanded_mb)")
        }
    }

    /// The one folder every file sits in, when there is one (an archive of `promo/...`).
    func singleTopFolder() -> String? {
        let tops = Set(files.map { $0.0.split(separator: "/", maxSplits: 1).first.map(String.init) ?? "" })
        guard tops.count == 1, let top = tops.first, files.allSatisfy({ $0.0.contains("/") }) else { return nil }
        return top
    }

    mutating func strip(_ top: String) {
        files = files.map { (String($0.0.dropFirst(top.count + 1)), $0.1) }
    }
}
