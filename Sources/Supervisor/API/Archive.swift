import Foundation
import ZIPFoundation

/// Job folders sent as `.tar` or `.zip`, read from the body's file and written entry by entry to the upload's
/// folder. Entries are checked before a byte is written: no `..`, no absolute paths, no links or devices. Every
/// size read from a header is checked arithmetic (a 2^63 size is a refusal naming the entry, never a trap), and
/// what an archive expands to is bounded twice while extracting: in total (`api.max_expanded_mb`) and per entry by
/// its ratio to the compressed bytes (`api.max_expansion_ratio`, past a 1 MiB floor), so a zip bomb stops early
/// whatever its headers claim.
enum Archive {
    /// An entry may always expand to this much, whatever its ratio (a small text compresses very well).
    static let ratioFloor: UInt64 = 1 << 20
    static let chunk = 64 << 10

    /// Reads exactly `count` bytes at `offset` of `fd`.
    static func read(_ fd: Int32, at offset: Int, _ count: Int) -> [UInt8]? {
        var buf = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset + done)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return nil }
            done += n
        }
        return buf
    }

    // MARK: tar (ustar, GNU long names, pax `path`)

    static func untar(fd: Int32, length: Int, into files: FileSet) throws(APIError) {
        func bad(_ why: String) -> APIError { APIError(.badRequest, "bad_archive", "tar: \(why)") }
        var at = 0
        var longName: String?
        var paxPath: String?
        while at + 512 <= length {
            guard let header = read(fd, at: at, 512) else { throw bad("truncated") }
            if header.allSatisfy({ $0 == 0 }) { break }  // end of archive
            func field(_ from: Int, _ len: Int) -> String {
                let bytes = header[from..<from + len].prefix { $0 != 0 }
                return String(decoding: bytes, as: UTF8.self)
            }
            var name = field(0, 100)
            let prefix = field(345, 155)
            if field(257, 5) == "ustar" && !prefix.isEmpty { name = prefix + "/" + name }
            if let n = longName { name = n; longName = nil }
            if let n = paxPath { name = n; paxPath = nil }
            // Octal, at most 12 digits (< 2^36): base-256 sizes (a high bit set) are not read.
            let sizeText = field(124, 12).trimmingCharacters(in: CharacterSet(charactersIn: " \0"))
            guard let size = Int(sizeText.isEmpty ? "0" : sizeText, radix: 8), size >= 0 else {
                throw bad("entry \"\(name)\" has an unreadable size")
            }
            let start = at + 512
            let (end, overflow) = start.addingReportingOverflow(size)
            guard !overflow, end <= length else { throw bad("entry \"\(name)\" declares \(size) bytes; the archive ends before them") }
            at = start + (size + 511) / 512 * 512  // size < 2^36: no overflow
            let type = header[156]
            switch type {
            case UInt8(ascii: "L"), UInt8(ascii: "x"):
                guard size <= 65_536, let content = read(fd, at: start, size) else { throw bad("entry \"\(name)\": a long-name record of \(size) bytes") }
                if type == UInt8(ascii: "L") { longName = String(decoding: content.prefix { $0 != 0 }, as: UTF8.self) } else { paxPath = paxRecord("path", in: content) }
            case UInt8(ascii: "g"):
                continue
            case UInt8(ascii: "5"):
                _ = try Upload.safeRelativePath(name, what: "archive entry")
            case UInt8(ascii: "0"), 0, UInt8(ascii: "7"):
                let path = try Upload.safeRelativePath(name, what: "archive entry")
                if path.split(separator: "/").last?.hasPrefix("._") == true { continue }  // macOS resource forks
                try copy(fd, from: start, count: size, to: path, files)
            case UInt8(ascii: "1"), UInt8(ascii: "2"):
                throw APIError(.badRequest, "archive_link", "archive entry \"\(name)\" is a link; links are refused")
            default:
                throw APIError(.badRequest, "archive_entry_type", "archive entry \"\(name)\" is not a file or folder (type '\(Character(UnicodeScalar(type)))')")
            }
        }
    }

    private static func copy(_ fd: Int32, from start: Int, count: Int, to path: String, _ files: FileSet) throws(APIError) {
        let out = try files.create(path)
        defer { close(out) }
        var done = 0
        while done < count {
            let n = min(chunk, count - done)
            guard let bytes = read(fd, at: start + done, n) else { throw APIError(.badRequest, "bad_archive", "tar: entry \"\(path)\" is truncated") }
            try files.write(out, bytes, path: path)
            done += n
        }
    }

    private static func paxRecord(_ key: String, in content: [UInt8]) -> String? {
        // "LEN key=value\n" records.
        for line in String(decoding: content, as: UTF8.self).split(separator: "\n") {
            guard let space = line.firstIndex(of: " ") else { continue }
            let kv = line[line.index(after: space)...]
            if kv.hasPrefix(key + "=") { return String(kv.dropFirst(key.count + 1)) }
        }
        return nil
    }

    // MARK: zip

    static func unzip(path: String, length: Int, into files: FileSet) throws(APIError) {
        let limits = files.limits
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileSet.writeFailed("the body", errno) }
        defer { close(fd) }
        // The directory first, read with checked arithmetic: every size and offset inside the file.
        let directory = try ZipDirectory.read(fd: fd, length: UInt64(length), maxEntries: limits.maxAssets * 4 + 64)
        // Then what each entry declares, before anything is extracted: an honest bomb stops here.
        let maxTotal = UInt64(limits.maxExpandedBytes)
        var declared: UInt64 = 0
        for e in directory.entries {
            guard e.uncompressedSize <= maxTotal else {
                throw APIError(.contentTooLarge, "expansion_too_large",
                               "zip entry \"\(e.name)\" declares \(e.uncompressedSize) bytes once expanded; at most \(maxTotal) (api.max_expanded_mb)")
            }
            let allowed = allowedExpansion(e, ratio: limits.maxExpansionRatio)
            guard e.uncompressedSize <= allowed else {
                throw APIError(.contentTooLarge, "expansion_ratio",
                               "zip entry \"\(e.name)\" expands \(e.compressedSize) bytes to \(e.uncompressedSize); at most \(limits.maxExpansionRatio) times (api.max_expansion_ratio) past \(ratioFloor) bytes")
            }
            let (sum, overflow) = declared.addingReportingOverflow(e.uncompressedSize)
            guard !overflow, sum <= maxTotal else {
                throw APIError(.contentTooLarge, "expansion_too_large",
                               "the zip declares more than \(maxTotal) bytes once expanded (api.max_expanded_mb), at entry \"\(e.name)\"")
            }
            declared = sum
        }
        let archive: ZIPFoundation.Archive
        do { archive = try ZIPFoundation.Archive(url: URL(fileURLWithPath: path), accessMode: .read) } catch {
            throw APIError(.badRequest, "bad_archive", "zip: not a readable zip archive")
        }
        // ZIPFoundation reads the same directory in the same order: entry n is directory.entries[n].
        for (n, entry) in archive.enumerated() {
            guard n < directory.entries.count else { break }
            let checked = directory.entries[n]
            switch entry.type {
            case .symlink: throw APIError(.badRequest, "archive_link", "archive entry \"\(entry.path)\" is a symlink; links are refused")
            case .directory: _ = try Upload.safeRelativePath(entry.path, what: "archive entry"); continue
            case .file: break
            }
            let path = try Upload.safeRelativePath(entry.path, what: "archive entry")
            if path.hasPrefix("__MACOSX/") || path.split(separator: "/").last?.hasPrefix("._") == true { continue }
            let out = try files.create(path)
            defer { close(out) }
            // Count what inflates, not what the header says: a lying header stops at its declared size.
            var written: UInt64 = 0
            var refusal: APIError?
            do {
                _ = try archive.extract(entry, skipCRC32: false) { chunk in
                    written += UInt64(chunk.count)
                    guard written <= checked.uncompressedSize else {
                        refusal = APIError(.contentTooLarge, "expansion_too_large",
                                           "zip entry \"\(path)\" expands past the \(checked.uncompressedSize) bytes it declares")
                        throw CancelExtract()
                    }
                    do throws(APIError) {
                        try files.write(out, chunk, path: path)
                    } catch { refusal = error; throw CancelExtract() }
                }
            } catch {
                if let refusal { throw refusal }
                throw APIError(.badRequest, "bad_archive", "zip: entry \"\(path)\" cannot be read: \(error)")
            }
            guard written == checked.uncompressedSize else {
                throw APIError(.badRequest, "bad_archive", "zip: entry \"\(path)\" expands to \(written) bytes, not the \(checked.uncompressedSize) it declares")
            }
        }
    }

    /// The most an entry may expand to: `ratio` times its compressed size, never less than the floor.
    static func allowedExpansion(_ e: ZipDirectory.Entry, ratio: Int) -> UInt64 {
        let (scaled, overflow) = e.compressedSize.multipliedReportingOverflow(by: UInt64(max(1, ratio)))
        return max(ratioFloor, overflow ? .max : scaled)
    }

    private struct CancelExtract: Error {}
}
