import Foundation

/// A `multipart/form-data` body (RFC 7578), read in chunks from the body's file: parts go to disk as they come.
enum Multipart {
    struct Part {
        var name: String?
        var filename: String?
        var contentType: String?
        var body: [UInt8]
    }

    static func boundary(_ contentType: String) -> String? {
        for param in contentType.split(separator: ";").dropFirst() {
            let kv = param.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if kv.count == 2 && kv[0].lowercased() == "boundary" {
                let v = kv[1].hasPrefix("\"") && kv[1].hasSuffix("\"") && kv[1].count >= 2 ? String(kv[1].dropFirst().dropLast()) : kv[1]
                return v.isEmpty || v.count > 70 ? nil : v
            }
        }
        return nil
    }

    /// The whole body in memory (tests, fuzzing): the parts with their bytes.
    static func parse(_ body: [UInt8], boundary: String) throws(APIError) -> [Part] {
        var parts: [Part] = []
        var at = 0
        try stream(boundary: boundary, read: { out in
            let n = min(out.count, body.count - at)
            body.withUnsafeBytes { out.baseAddress!.copyMemory(from: $0.baseAddress! + at, byteCount: n) }
            at += n
            return n
        }, begin: { parts.append($0) }, data: { parts[parts.count - 1].body += $0 }, end: {})
        return parts
    }

    /// Streams the parts of a body read through `read` (bytes read into the buffer, 0 at the end, < 0 an error),
    /// holding at most a chunk and one part's headers: `begin` with each part's headers, `data` with its bytes in
    /// order, `end` when its closing boundary is seen.
    static func stream(boundary: String, read: (UnsafeMutableRawBufferPointer) -> Int, begin: (Part) throws(APIError) -> Void,
                       data: (ArraySlice<UInt8>) throws(APIError) -> Void, end: () throws(APIError) -> Void) throws(APIError) {
        let delimiter = Array(("--" + boundary).utf8)
        let closing = [13, 10] + delimiter
        func bad(_ why: String) -> APIError { APIError(.badRequest, "bad_multipart", "multipart body: \(why)") }
        var buf: [UInt8] = []
        var start = 0
        var eof = false
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        /// Drops what is consumed and reads the next chunk; false at the end of the body.
        func refill() throws(APIError) -> Bool {
            if eof { return false }
            if start > 0 { buf.removeFirst(start); start = 0 }
            let n = chunk.withUnsafeMutableBytes { read($0) }
            guard n >= 0 else { throw bad("cannot be read") }
            if n == 0 { eof = true; return false }
            buf += chunk[0..<n]
            return true
        }
        /// The next `needle` at or after `start`, reading on while it may still come (at most `limit` bytes ahead).
        /// `discard`: what precedes it is not wanted (the preamble), so it is dropped as it is read.
        func next(_ needle: [UInt8], limit: Int = .max, discard: Bool = false, what: String) throws(APIError) -> Int {
            while true {
                if let i = find(needle, in: buf, from: start) { return i }
                if discard { start = max(start, buf.count - (needle.count - 1)) }
                guard buf.count - start <= limit else { throw bad(what) }
                guard try refill() else { throw bad(what) }
            }
        }
        start = try next(delimiter, discard: true, what: "no boundary found") + delimiter.count
        var parts = 0
        while true {
            while buf.count - start < 2 { guard try refill() else { throw bad("truncated") } }
            // "--" after the delimiter closes the body.
            if buf[start] == UInt8(ascii: "-") && buf[start + 1] == UInt8(ascii: "-") { return }
            start = try next([13, 10], limit: 1024, what: "truncated")
            // Indices other than `start` do not survive a read (it drops what precedes `start`): `start` stays on the
            // delimiter line's CR LF, which may also begin the blank line of a part without headers.
            let headerEnd = try next([13, 10, 13, 10], limit: 16 << 10, what: "a part without headers (or headers over 16 KiB)")
            let headerText = headerEnd > start + 2 ? String(decoding: buf[(start + 2)..<headerEnd], as: UTF8.self) : ""
            start = headerEnd + 4
            var part = Part(body: [])
            for line in headerText.components(separatedBy: "\r\n") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                let key = line[..<colon].lowercased()
                let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                if key == "content-type" { part.contentType = value }
                if key == "content-disposition" {
                    part.name = param("name", in: value)
                    part.filename = param("filename", in: value)
                }
            }
            parts += 1
            guard parts <= 10_000 else { throw bad("too many parts") }
            try begin(part)
            // The part's bytes, handed on as they come; the last closing.count - 1 kept back until it is known they
            // are not the start of the closing boundary.
            while true {
                if let k = find(closing, in: buf, from: start) {
                    try data(buf[start..<k])
                    start = k + closing.count
                    try end()
                    break
                }
                let safe = buf.count - (closing.count - 1)
                if safe > start {
                    try data(buf[start..<safe])
                    start = safe
                }
                guard try refill() else { throw bad("a part without its closing boundary") }
            }
        }
    }

    /// `name="x"` in a Content-Disposition value (quoted or not).
    static func param(_ key: String, in value: String) -> String? {
        for item in value.split(separator: ";").dropFirst() {
            let kv = item.split(separator: "=", maxSplits: 1)
            guard kv.count == 2, kv[0].trimmingCharacters(in: .whitespaces).lowercased() == key else { continue }
            var v = kv[1].trimmingCharacters(in: .whitespaces)
            if v.hasPrefix("\"") && v.hasSuffix("\"") && v.count >= 2 { v = String(v.dropFirst().dropLast()) }
            return v.replacingOccurrences(of: "\\\"", with: "\"")
        }
        return nil
    }

    static func find(_ needle: [UInt8], in hay: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, hay.count >= needle.count, start <= hay.count - needle.count else { return nil }
        let first = needle[0]
        var i = max(0, start)
        let last = hay.count - needle.count
        return hay.withUnsafeBufferPointer { h in
            needle.withUnsafeBufferPointer { n in
                while i <= last {
                    if h[i] == first && memcmp(h.baseAddress! + i, n.baseAddress!, n.count) == 0 { return i }
                    i += 1
                }
                return nil
            }
        }
    }
}
