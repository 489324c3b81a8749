import Checksum
import Foundation
import Journal
import Logging
import Synchronization
import Watcher

/// The de-duplication rule: one inbox arrival is one job, however many times it is reported.
///
/// key = `sha256(content) / source name / dev:inode:mtime_ns` (for a folder: the hash covers its manifest's bytes
/// and the names, sizes and mtimes of all its files; the identity is the folder's dev:inode). The journal holds it
/// UNIQUE. A second report of the same entry (a close and a scan, a restart between claim and move) gives the same
/// key and finds the same row; a new file dropped later under the same name, even with the same content, has
/// another inode or mtime and is a new job, as a person re-submitting expects.
public enum DedupKey {
    public struct Identity: Sendable, Equatable {
        public var key: String
        public var kind: SourceKind
    }

    /// Files up to this size are keyed by their content's hash (a manifest is at most 4 MiB).
    public static let hashedBytes = 16 << 20

    /// Nil when nothing is at `path` any more. Throws when it cannot be read for another reason (no file descriptor
    /// left, no permission): the arrival is still there, and pick-up retries it.
    public static func make(path: String, name: String) throws -> Identity? {
        var st = stat()
        guard lstat(path, &st) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw IntakeError.syscall("lstat", path: path, errno: errno)
        }
        let fileID = "\(st.st_dev):\(st.st_ino)"
        let mtime = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        switch st.st_mode & S_IFMT {
        case S_IFREG:
            // Past `hashedBytes` the size stands for the content, unread (issue 23: a 1 GB sparse `big.yaml` was read
            // whole into memory here); with the inode and mtime the key stays unique, and the loader refuses such a
            // manifest from its size.
            guard Int(st.st_size) <= hashedBytes else { return Identity(key: "size:\(st.st_size)/\(name)/\(fileID):\(mtime)", kind: .file) }
            guard let data = try contents(path) else { return nil }
            return Identity(key: "sha256:\(SHA256.hex(of: data))/\(name)/\(fileID):\(mtime)", kind: .file)
        case S_IFDIR:
            var hasher = SHA256()
            var inner = stat()
            if case .found(let manifest) = InboxRules.manifest(inFolder: path) {
                let file = path + "/" + manifest
                if stat(file, &inner) == 0 && Int(inner.st_size) > hashedBytes {
                    hasher.update(Array("size:\(inner.st_size)".utf8))
                } else if let data = try contents(file) {
                    hasher.update(data)
                }
            }
            for line in listing(path) { hasher.update(Array(line.utf8)) }
            return Identity(key: "sha256:\(hasher.finalize())/\(name)/\(fileID)", kind: .folder)
        default:
            // A symlink or device: journaled as a file and rejected (never followed).
            return Identity(key: "special/\(name)/\(fileID):\(mtime)", kind: .file)
        }
    }

    /// The file's bytes; nil when it is gone.
    private static func contents(_ path: String) throws -> Data? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else {
            if errno == ENOENT || errno == ENOTDIR || errno == ELOOP { return nil }
            throw IntakeError.syscall("open", path: path, errno: errno)
        }
        defer { close(fd) }
        var data = Data()
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw IntakeError.syscall("read", path: path, errno: errno) }
            if n == 0 { return data }
            data.append(contentsOf: chunk[0..<n])
        }
    }

    private static func listing(_ root: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        var lines: [String] = []
        while let rel = walker.nextObject() as? String {
            var st = stat()
            guard lstat(root + "/" + rel, &st) == 0 else { continue }
            lines.append("\(rel)\t\(st.st_size)\t\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)\n")
        }
        return lines.sorted()
    }
}
