import Contract
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a manifest file (YAML, JSON, or a plain `.txt`/`.md` script), validates it, resolves defaults
/// and assets, and returns a `JobManifest` or every problem found.
public enum ManifestLoader {
    public static let manifestExtensions = ManifestFolder.manifestExtensions.sorted()

    /// Loads `path`, a manifest file or a job folder holding one. `displayName` is how errors name the
    /// file (defaults to `path` as given). `access`: the folders a library folder may name (nil: any).
    public static func load(path: String, displayName: String? = nil, defaults: ManifestDefaults? = nil,
                            access: FolderAccess? = nil) throws(ManifestErrors) -> JobManifest {
        let shown = displayName ?? path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw ManifestErrors(errors: [ManifestError(.unreadable, file: shown, field: nil, found: "no such file", expected: "a readable manifest file")])
        }
        if isDir.boolValue {
            let inner: String
            switch ManifestFolder.find(in: path) {
            case .found(let name): inner = path + "/" + name
            case .none:
                throw ManifestErrors(errors: [ManifestError(.unreadable, file: shown, field: nil, found: "a folder with no manifest",
                                                            expected: "a folder holding one manifest.yaml|.json|.txt|.md")])
            case .ambiguous(let names):
                throw ManifestErrors(errors: [ManifestError(.unreadable, file: shown, field: nil, found: "several manifests: " + names.joined(separator: ", "),
                                                            expected: "one manifest: name it manifest.EXT (or after the folder)")])
            }
            return try load(file: inner, shown: shown + "/" + (inner as NSString).lastPathComponent, name: jobName(forPath: path), defaults: defaults, access: access)
        }
        return try load(file: path, shown: shown, name: jobName(forPath: path), defaults: defaults, access: access)
    }

    /// The manifest inside a job folder, by the contract's one rule (`ManifestFolder.find`, Docs/contract.md): the same
    /// answer pick-up, the API, `validate`, `render` and `submit` get. A sidecar is never one.
    public static func manifestInFolder(_ folder: String) -> String? {
        if case .found(let name) = ManifestFolder.find(in: folder) { return folder + "/" + name }
        return nil
    }

    static func load(file: String, shown: String, name: String, defaults: ManifestDefaults?, access: FolderAccess? = nil) throws(ManifestErrors) -> JobManifest {
        let data = try readBounded(file, shown: shown)
        try TextCheck.check(data, file: shown)
        guard let text = String(data: data, encoding: .utf8) else {
            throw ManifestErrors(errors: [ManifestError(.unreadable, file: shown, field: nil, found: "bytes that are not UTF-8", expected: "UTF-8 text")])
        }
        let base = (file as NSString).deletingLastPathComponent
        let ext = (file as NSString).pathExtension.lowercased()
        var doc: DocNode
        switch ext {
        case "yaml", "yml": doc = try DocumentParser.parseYAML(text, file: shown)
        case "json": doc = try DocumentParser.parseJSON(data, file: shown)
        case "txt", "md": doc = try PlainScript.document(text, markdown: ext == "md", file: shown)
        default:
            throw ManifestErrors(errors: [ManifestError(.unsupportedFormat, file: shown, field: nil, found: ext.isEmpty ? "no extension" : ".\(ext)",
                                                        expected: "one of .yaml, .yml, .json, .txt, .md")])
        }
        var guess: ScriptLanguage.Guess?
        if ext == "txt" || ext == "md" { (doc, guess) = ScriptLanguage.choosingVoice(doc, script: text, defaults: defaults) }
        if let defaults { doc = defaults.apply(to: doc) }
        var decoder = ManifestDecoder(reader: Reader(file: shown), base: base.isEmpty ? "." : base)
        decoder.access = access
        guard var manifest = decoder.decode(doc, name: name), decoder.reader.errors.isEmpty else { throw decoder.reader.problems }
        if let guess { manifest.voiceChoice = "voice \(guess.voice): the script reads as \(guess.name)" }
        let unspeakable = ScriptFit.problems(in: manifest, file: shown)
        if !unspeakable.isEmpty { throw ManifestErrors(errors: unspeakable) }
        return manifest
    }

    /// The file's bytes, its size checked first (fstat on the open descriptor, so the size is the file read): one
    /// over `ManifestLimits.fileBytes` is refused without a byte read, and the read stops there too, should the file
    /// grow in between. Only a regular file: a FIFO named `job.yaml` must not block the caller (O_NONBLOCK).
    static func readBounded(_ file: String, shown: String) throws(ManifestErrors) -> Data {
        func refuse(_ code: ManifestError.Code, _ found: String, _ expected: String) -> ManifestErrors {
            ManifestErrors(errors: [ManifestError(code, file: shown, field: nil, found: found, expected: expected)])
        }
        let limit = ManifestLimits.fileBytes
        let tooLarge = "a manifest of at most \(ManifestErrors.grouped(limit)) bytes (\(limit >> 20) MiB)"
        let fd = open(file, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw refuse(.unreadable, String(cString: strerror(errno)), "a readable manifest file") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw refuse(.unreadable, String(cString: strerror(errno)), "a readable manifest file") }
        guard st.st_mode & S_IFMT == S_IFREG else { throw refuse(.unreadable, "not a regular file", "a manifest file") }
        guard st.st_size <= limit else { throw refuse(.tooLarge, "a file of \(ManifestErrors.grouped(Int(st.st_size))) bytes", tooLarge) }
        var data = Data(count: limit + 1)
        var total = 0
        while total <= limit {
            let n = data.withUnsafeMutableBytes { read(fd, $0.baseAddress! + total, limit + 1 - total) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw refuse(.unreadable, String(cString: strerror(errno)), "a readable manifest file") }
            if n == 0 { break }
            total += n
        }
        guard total <= limit else { throw refuse(.tooLarge, "a file that grew past \(ManifestErrors.grouped(limit)) bytes while read", tooLarge) }
        data.count = total
        return data
    }
}
