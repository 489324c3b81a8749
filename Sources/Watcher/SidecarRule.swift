import Foundation

extension InboxRules {
    /// A job's status sidecar (`NAME.json`, a top-level object with `job_id` and `state`), which `prostudio render`'s
    /// default `-o .` leaves beside the script: never a manifest candidate (issue 27: a folder holding fortunes.txt
    /// and its fortunes.json was ambiguous, and `submit` took the sidecar). A manifest cannot hold those keys (unknown
    /// fields are refused), so no manifest is lost to this. Only files up to `sidecarBytes` are read to tell.
    /// ManifestLoader.manifestInFolder applies the same test (Manifest does not link the watcher).
    public static func isSidecar(_ path: String) -> Bool {
        guard path.lowercased().hasSuffix(".json") else { return false }
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_size <= sidecarBytes,
              let data = FileManager.default.contents(atPath: path),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return false }
        return object["job_id"] is String && object["state"] is String
    }

    static let sidecarBytes: Int = 16 << 20
}
