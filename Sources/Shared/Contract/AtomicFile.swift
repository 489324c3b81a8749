import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The one atomic writer of the contract: temp file (`.NAME.EXT.PID.tmp`, hidden and `.tmp`, so inbox watchers, the
/// sweep and directory listers skip it) + fsync + rename + fsync of the folder. Readers see the old file or the new
/// one, never half of one, and a kill -9 at any point leaves one of the two.
public enum AtomicFile {
    public struct WriteError: Error, CustomStringConvertible, Sendable {
        public let path: String
        public let errno: Int32
        public var description: String { "cannot write \(path): \(String(cString: strerror(errno)))" }
    }

    /// Replaces `url` with `data`, creating its folder (one level) when missing.
    public static func write(_ data: Data, to url: URL) throws {
        let dir = url.deletingLastPathComponent().path
        if mkdir(dir, 0o755) != 0 && errno != EEXIST { throw WriteError(path: dir, errno: errno) }
        let temp = temporaryURL(for: url)
        let fd = open(temp.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw WriteError(path: temp.path, errno: errno) }
        var failure: Int32 = 0
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 { if errno == EINTR { continue }; failure = errno; return }
                offset += n
            }
        }
        if failure == 0 && fsync(fd) != 0 { failure = errno }
        close(fd)
        guard failure == 0 else { unlink(temp.path); throw WriteError(path: url.path, errno: failure) }
        try publish(temp, as: url)
    }

    public static func temporaryURL(for url: URL) -> URL {
        url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
    }

    /// Renames a finished temp file over `url`, then syncs the folder so the rename survives a crash. From another
    /// filesystem (the daemon's work folder is in its state folder) the file is first copied, synced, beside `url`.
    public static func publish(_ temp: URL, as url: URL) throws {
        if rename(temp.path, url.path) != 0 {
            let err = errno
            if err == EXDEV {
                let beside = temporaryURL(for: url)
                do { try copySynced(temp, to: beside) } catch {
                    unlink(beside.path)
                    throw error
                }
                unlink(temp.path)
                return try publish(beside, as: url)
            }
            unlink(temp.path)
            throw WriteError(path: url.path, errno: err)
        }
        let dir = open(url.deletingLastPathComponent().path, O_RDONLY | O_CLOEXEC)
        if dir >= 0 { fsync(dir); close(dir) }
    }

    /// Copies `from` to a new file `to` and syncs it. The error names the file and the cause (ENOSPC: a full disk).
    static func copySynced(_ from: URL, to: URL) throws {
        let src = open(from.path, O_RDONLY | O_CLOEXEC)
        guard src >= 0 else { throw WriteError(path: from.path, errno: errno) }
        defer { close(src) }
        let dst = open(to.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard dst >= 0 else { throw WriteError(path: to.path, errno: errno) }
        defer { close(dst) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(src, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw WriteError(path: from.path, errno: errno) }
            if n == 0 { break }
            var offset = 0
            while offset < n {
                let w = buffer.withUnsafeBytes { Glibc.write(dst, $0.baseAddress! + offset, n - offset) }
                if w < 0 && errno == EINTR { continue }
                if w < 0 { throw WriteError(path: to.path, errno: errno) }
                offset += w
            }
        }
        if fsync(dst) != 0 { throw WriteError(path: to.path, errno: errno) }
    }
}
