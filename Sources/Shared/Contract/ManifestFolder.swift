import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The one rule for which file of a job folder is its manifest, and which names may be manifests at all: used by
/// pick-up (the watcher), the API's uploads, `validate`, `render` and `submit` (Docs/contract.md, "The folder rule").
public enum ManifestFolder {
    public static let manifestExtensions: Set<String> = ["yaml", "yml", "json", "txt", "md"]
    static let ignoredSuffixes = [".tmp", ".part", "~", ".swp", ".crdownload"]

    public enum Found: Sendable, Equatable {
        case found(String)
        case none
        case ambiguous([String])
    }

    /// Hidden files and temp names are never taken: writers use them on the way to the real name.
    public static func isIgnored(_ name: String) -> Bool {
        name.isEmpty || name.hasPrefix(".") || ignoredSuffixes.contains { name.hasSuffix($0) }
    }

    /// `NAME.yaml|yml|json|txt|md`, not hidden, not temp.
    public static func isManifestName(_ name: String) -> Bool {
        guard !isIgnored(name), let dot = name.lastIndex(of: "."), dot != name.startIndex else { return false }
        return manifestExtensions.contains(name[name.index(after: dot)...].lowercased())
    }

    /// The job name a manifest file gives: its name without the extension.
    public static func jobName(forFile name: String) -> String {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return name }
        return String(name[..<dot])
    }

    /// The manifest of a job folder (a file name inside it), by rank: `manifest.EXT`, then `FOLDER.EXT`, then the only
    /// top-level manifest-named regular file. Two candidates of the same rank are ambiguous (the folder is refused, not
    /// guessed). A ProStudio sidecar is never a candidate (`isSidecar`).
    public static func find(in path: String) -> Found {
        let folder = (path as NSString).lastPathComponent
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: path) else { return .none }
        let files = entries.filter { entry in
            guard isManifestName(entry) else { return false }
            var st = stat()
            return lstat(path + "/" + entry, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG && !isSidecar(path + "/" + entry)
        }.sorted()
        for rank in [{ (n: String) in jobName(forFile: n) == "manifest" }, { (n: String) in jobName(forFile: n) == folder }] {
            let hits = files.filter(rank)
            if hits.count == 1 { return .found(hits[0]) }
            if hits.count > 1 { return .ambiguous(hits) }
        }
        if files.count == 1 { return .found(files[0]) }
        return files.isEmpty ? .none : .ambiguous(files)
    }

    /// A job's status sidecar (`NAME.json`, a top-level object with `job_id` and `state`), which `prostudio render`'s
    /// default `-o .` leaves beside the script: never a manifest (issue 27: `submit` took one and failed on 37 unknown
    /// fields). A manifest cannot hold those keys (unknown fields are refused), so no manifest is lost to this. Only
    /// files up to `sidecarBytes` are read to tell.
    public static func isSidecar(_ path: String) -> Bool {
        guard path.lowercased().hasSuffix(".json") else { return false }
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_size <= sidecarBytes,
              let data = FileManager.default.contents(atPath: path),
              let probe = try? JSONDecoder().decode(SidecarProbe.self, from: data) else { return false }
        _ = probe
        return true
    }

    public static let sidecarBytes: Int = 16 << 20

    /// The two keys that mark a sidecar; any other content is ignored.
    private struct SidecarProbe: Decodable { var job_id: String; var state: String }
}
