import Foundation

/// A zip's central directory, read with checked arithmetic before ZIPFoundation sees the file. ZIPFoundation
/// converts offsets and sizes from ZIP64 fields with `off_t(UInt64)` and adds them unchecked, so a hostile zip
/// (a 2^63 size or offset) traps the process inside it. This reads the same records it will read (the end record
/// found the same way, the ZIP64 record at the same place, the same entries in the same order) and refuses any
/// whose offsets or sizes point past the file, so that what ZIPFoundation is handed stays inside it.
struct ZipDirectory {
    struct Entry {
        var name: String
        var method: UInt16
        var compressedSize: UInt64
        var uncompressedSize: UInt64
        var localHeaderOffset: UInt64
    }

    var entries: [Entry] = []

    static func bad(_ why: String) -> APIError { APIError(.badRequest, "bad_archive", "zip: \(why)") }

    /// Reads the directory of the zip at `fd` (`length` bytes). At most `maxEntries` entries.
    static func read(fd: Int32, length: UInt64, maxEntries: Int) throws(APIError) -> ZipDirectory {
        func bytes(at offset: UInt64, _ count: Int) throws(APIError) -> [UInt8] {
            let (end, o) = offset.addingReportingOverflow(UInt64(count))
            guard !o, end <= length, offset <= UInt64(Int64.max) else { throw bad("a record points past the end of the file") }
            var buf = [UInt8](repeating: 0, count: count)
            let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(offset)) }
            guard n == count else { throw bad("cannot read \(count) bytes at \(offset)") }
            return buf
        }
        // The end record: ZIPFoundation takes the first signature scanning back from the end. Only the last 64 KiB
        // (the longest comment) are searched here; a signature further back is not a zip this reads.
        guard length >= 22 else { throw bad("too short to be a zip archive") }
        let window = min(length, 22 + 65_535)
        let tail = try bytes(at: length - window, Int(window))
        var eocd: UInt64?
        var i = Int(window) - 22
        while i >= 0 {
            if tail[i] == 0x50 && tail[i + 1] == 0x4b && tail[i + 2] == 0x05 && tail[i + 3] == 0x06 { eocd = length - window + UInt64(i); break }
            i -= 1
        }
        guard let eocd else { throw bad("not a readable zip archive (no end-of-directory record)") }
        let end = try bytes(at: eocd, 22)
        var count = UInt64(le16(end, 10))
        var dirSize = UInt64(le32(end, 12))
        var dirOffset = UInt64(le32(end, 16))
        // ZIP64: the locator just before the end record, the ZIP64 record just before the locator (where
        // ZIPFoundation reads it, whatever offset the locator gives).
        if eocd > 20, eocd - 20 > 56 {
            let locator = try bytes(at: eocd - 20, 20)
            let record = try bytes(at: eocd - 20 - 56, 56)
            if le32(locator, 0) == 0x0706_4b50 && le32(record, 0) == 0x0606_4b50 && le16(record, 14) >= 45 {
                count = le64(record, 32); dirSize = le64(record, 40); dirOffset = le64(record, 48)
            }
        }
        guard count <= UInt64(maxEntries) else { throw APIError(.contentTooLarge, "too_many_assets", "the zip has \(count) entries; at most \(maxEntries)") }
        let (dirEnd, o) = dirOffset.addingReportingOverflow(dirSize)
        guard !o, dirEnd <= length else { throw bad("the central directory (\(dirSize) bytes at \(dirOffset)) lies outside the \(length)-byte file") }

        var directory = ZipDirectory()
        var at = dirOffset
        for _ in 0..<count {
            let h = try bytes(at: at, 46)
            guard le32(h, 0) == 0x0201_4b50 else { throw bad("a damaged central directory record at \(at)") }
            let nameLength = Int(le16(h, 28)), extraLength = Int(le16(h, 30)), commentLength = Int(le16(h, 32))
            let nameBytes = try bytes(at: at + 46, nameLength)
            let name = String(decoding: nameBytes, as: UTF8.self)
            let extra = try bytes(at: at + 46 + UInt64(nameLength), extraLength)
            var entry = Entry(name: name, method: le16(h, 10), compressedSize: UInt64(le32(h, 20)),
                              uncompressedSize: UInt64(le32(h, 24)), localHeaderOffset: UInt64(le32(h, 42)))
            try readZIP64(extra, into: &entry, diskStartIsMax: le16(h, 34) == 0xFFFF)
            try check(entry, length: length, bytes: bytes)
            directory.entries.append(entry)
            at += 46 + UInt64(nameLength + extraLength + commentLength)  // each part < 2^16: no overflow
        }
        return directory
    }

    /// The ZIP64 extra field (id 1): the 8-byte values for each header field that is 0xFFFFFFFF, in order.
    /// ZIPFoundation takes it only when its length is exactly that (refused here otherwise).
    private static func readZIP64(_ extra: [UInt8], into entry: inout Entry, diskStartIsMax: Bool) throws(APIError) {
        var at = 0
        while at + 4 <= extra.count {
            let id = le16(extra, at), size = Int(le16(extra, at + 2))
            guard at + 4 + size <= extra.count else { throw bad("entry \"\(entry.name)\" has a damaged extra field") }
            if id == 1 {
                var fields: [WritableKeyPath<Entry, UInt64>] = []
                if entry.uncompressedSize == 0xFFFF_FFFF { fields.append(\.uncompressedSize) }
                if entry.compressedSize == 0xFFFF_FFFF { fields.append(\.compressedSize) }
                if entry.localHeaderOffset == 0xFFFF_FFFF { fields.append(\.localHeaderOffset) }
                guard fields.count * 8 + (diskStartIsMax ? 4 : 0) == size else {
                    throw bad("entry \"\(entry.name)\" has a ZIP64 field of \(size) bytes that does not match its header")
                }
                for (n, field) in fields.enumerated() {
                    let v = le64(extra, at + 4 + n * 8)
                    if v > 0 { entry[keyPath: field] = v }  // ZIPFoundation ignores a 0 there
                }
                return
            }
            at += 4 + size
        }
    }

    /// Every offset and size of the entry inside the file: what ZIPFoundation will seek to and read.
    private static func check(_ e: Entry, length: UInt64, bytes: (UInt64, Int) throws(APIError) -> [UInt8]) throws(APIError) {
        let local = try bytes(e.localHeaderOffset, 30)
        guard le32(local, 0) == 0x0403_4b50 else { throw bad("entry \"\(e.name)\": no local header where the directory says") }
        let dataStart = e.localHeaderOffset + 30 + UInt64(le16(local, 26)) + UInt64(le16(local, 28))  // offset < length < 2^63
        // Stored entries are read by their expanded size, deflated ones by their compressed size.
        let stored = e.method == 0 ? e.uncompressedSize : e.compressedSize
        let (dataEnd, o) = dataStart.addingReportingOverflow(stored)
        guard !o, dataEnd <= length else {
            throw bad("entry \"\(e.name)\" declares \(stored) bytes of data at \(dataStart), past the end of the \(length)-byte file")
        }
    }

    private static func le16(_ b: [UInt8], _ at: Int) -> UInt16 { UInt16(b[at]) | UInt16(b[at + 1]) << 8 }
    private static func le32(_ b: [UInt8], _ at: Int) -> UInt32 { UInt32(le16(b, at)) | UInt32(le16(b, at + 2)) << 16 }
    private static func le64(_ b: [UInt8], _ at: Int) -> UInt64 { UInt64(le32(b, at)) | UInt64(le32(b, at + 4)) << 32 }
}
