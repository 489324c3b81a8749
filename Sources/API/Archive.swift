import Foundation
import ZIPFoundation

/// Job folders sent as `.tar` or `.zip`. Entries are checked before a byte is written: no `..`, no absolute
/// paths, no links or devices, and the total expansion is bounded (`api.max_expanded_mb`) while reading, so a
/// zip bomb stops at the limit whatever its headers claim.
enum Archive {
    // MARK: tar (ustar, GNU long names, pax `path`)

    static func untar(_ data: [UInt8], into files: inout FileSet) throws(APIError) {
        func bad(_ why: String) -> APIError { APIError(.badRequest, "bad_archive", "tar: \(why)") }
        var at = 0
        var longName: String?
        var paxPath: String?
        while at + 512 <= data.count {
            let header = Array(data[at..<at + 512])
            if header.allSatisfy({ $0 == 0 }) { break }  // end of archive
            func field(_ from: Int, _ len: Int) -> String {
                let bytes = header[from..<from + len].prefix { $0 != 0 }
                return String(decoding: bytes, as: UTF8.self)
            }
            let sizeText = field(124, 12).trimmingCharacters(in: CharacterSet(charactersIn: " \0"))
            guard let size = Int(sizeText.isEmpty ? "0" : sizeText, radix: 8), size >= 0 else { throw bad("an entry with an unreadable size") }
            let type = header[156]
            let start = at + 512
            guard start + size <= data.count else { throw bad("truncated") }
            let content = Array(data[start..<start + size])
            at = start + (size + 511) / 512 * 512
            var name = field(0, 100)
            let prefix = field(345, 155)
            if field(257, 5) == "ustar" && !prefix.isEmpty { name = prefix + "/" + name }
            if let n = longName { name = n; longName = nil }
            if let n = paxPath { name = n; paxPath = nil }
            switch type {
            case UInt8(ascii: "L"):
                longName = String(decoding: content.prefix { $0 != 0 }, as: UTF8.self)
            case UInt8(ascii: "x"):
                paxPath = paxRecord("path", in: content)
            case UInt8(ascii: "g"):
                continue
            case UInt8(ascii: "5"):
                _ = try Upload.safeRelativePath(name, what: "archive entry")
            case UInt8(ascii: "0"), 0, UInt8(ascii: "7"):
                let path = try Upload.safeRelativePath(name, what: "archive entry")
                if path.split(separator: "/").last?.hasPrefix("._") == true { continue }  // macOS resource forks
                try files.add(path, content)
            case UInt8(ascii: "1"), UInt8(ascii: "2"):
                throw APIError(.badRequest, "archive_link", "archive entry \"\(name)\" is a link; links are refused")
            default:
                throw APIError(.badRequest, "archive_entry_type", "archive entry \"\(name)\" is not a file or folder (type '\(Character(UnicodeScalar(type)))')")
            }
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

    static func unzip(_ data: [UInt8], into files: inout FileSet) throws(APIError) {
        let archive: ZIPFoundation.Archive
        do { archive = try ZIPFoundation.Archive(data: Data(data), accessMode: .read) } catch {
            throw APIError(.badRequest, "bad_archive", "zip: not a readable zip archive")
        }
        // Check every entry's name and kind first, and the declared sizes: refuse before extracting anything.
        var declared: UInt64 = 0
        for entry in archive {
            switch entry.type {
            case .symlink: throw APIError(.badRequest, "archive_link", "archive entry \"\(entry.path)\" is a symlink; links are refused")
            case .directory, .file: _ = try Upload.safeRelativePath(entry.path, what: "archive entry")
            }
            declared += entry.uncompressedSize
        }
        guard declared <= UInt64(files.limits.maxExpandedBytes) else {
            throw APIError(.contentTooLarge, "expansion_too_large",
                           "the archive declares \(declared) bytes once expanded; at most \(files.limits.maxExpandedBytes) (api.max_expanded_mb)")
        }
        for entry in archive where entry.type == .file {
            let path = try Upload.safeRelativePath(entry.path, what: "archive entry")
            if path.hasPrefix("__MACOSX/") || path.split(separator: "/").last?.hasPrefix("._") == true { continue }
            // Count what inflates, not what the header says: a lying header stops at the limit too.
            var bytes: [UInt8] = []
            let budget = files.limits.maxExpandedBytes - files.expandedBytes
            var over = false
            do {
                _ = try archive.extract(entry, skipCRC32: false) { chunk in
                    if bytes.count + chunk.count > budget { over = true; throw CancelExtract() }
                    bytes.append(contentsOf: chunk)
                }
            } catch {
                if over {
                    throw APIError(.contentTooLarge, "expansion_too_large", "the archive expands past \(files.limits.maxExpandedBytes) bytes (api.max_expanded_mb)")
                }
                throw APIError(.badRequest, "bad_archive", "zip: entry \"\(path)\" cannot be read: \(error)")
            }
            try files.add(path, bytes)
        }
    }

    private struct CancelExtract: Error {}
}
