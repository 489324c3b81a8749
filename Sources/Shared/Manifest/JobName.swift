import Foundation

extension ManifestLoader {
    /// The job's NAME (its outputs' base name) for a manifest path as a user typed it: a file's name without its
    /// extension, a folder's own name. The path is made absolute first, so `.`, `..` and `job/` name the folder they
    /// mean (`render .` inside a job folder once wrote `..mp4`, a hidden file).
    public static func jobName(forPath path: String) -> String {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), isDir.boolValue { return url.lastPathComponent }
        return url.deletingPathExtension().lastPathComponent
    }
}
