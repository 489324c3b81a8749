import Foundation

/// Which folders a manifest may name as a footage library (`visuals.folder` of engine `library`, job-wide or per
/// scene): its own job folder and the operator's `library.folders`. The daemon applies it to every manifest posted
/// to the API and, unless `library.inbox_any_folder` is set, to inbox manifests too; the CLI, run by a person on
/// their own files, has none. A folder outside is refused as `manifest.path_escape` before anything is read from
/// it, and without saying whether it exists.
public struct FolderAccess: Sendable, Equatable {
    /// Absolute folders (the config's `library.folders`).
    public var allowed: [String]

    public init(allowed: [String]) { self.allowed = allowed }

    /// What a refusal says is expected (never the server's folders themselves).
    static let expectation = "a folder inside the job's own folder or one of the daemon's library.folders"

    /// Whether `path` (absolute) lies inside the job folder `base` or an allowed folder, links resolved.
    public func permits(_ path: String, base: String) -> Bool {
        let target = Self.real(path)
        return ([base] + allowed).contains { root in
            let r = Self.real(root)
            return target == r || target.hasPrefix(r == "/" ? "/" : r + "/")
        }
    }

    /// The path with links resolved as far as it exists (the rest appended as written), so that neither a link
    /// inside an allowed folder nor `..` leads out of it.
    static func real(_ path: String) -> String {
        var head = URL(fileURLWithPath: path).standardizedFileURL.path
        var tail: [String] = []
        while true {
            if let r = realpath(head, nil) {
                defer { free(r) }
                let resolved = String(cString: r)
                return tail.isEmpty ? resolved : (resolved == "/" ? "" : resolved) + "/" + tail.reversed().joined(separator: "/")
            }
            guard head != "/" && !head.isEmpty else { return path }
            tail.append((head as NSString).lastPathComponent)
            head = (head as NSString).deletingLastPathComponent
        }
    }
}
