import Foundation

/// A `multipart/form-data` body (RFC 7578), parsed whole: the body is already bounded by `api.max_body_mb`.
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

    static func parse(_ body: [UInt8], boundary: String) throws(APIError) -> [Part] {
        let delimiter = Array(("--" + boundary).utf8)
        func bad(_ why: String) -> APIError { APIError(.badRequest, "bad_multipart", "multipart body: \(why)") }
        guard var at = find(delimiter, in: body, from: 0) else { throw bad("no boundary found") }
        var parts: [Part] = []
        while true {
            at += delimiter.count
            // "--" after the delimiter closes the body.
            if at + 1 < body.count && body[at] == UInt8(ascii: "-") && body[at + 1] == UInt8(ascii: "-") { break }
            guard let lineEnd = find([13, 10], in: body, from: at) else { throw bad("truncated") }
            let headerStart = lineEnd + 2
            guard let headerEnd = find([13, 10, 13, 10], in: body, from: headerStart - 2) else { throw bad("a part without headers") }
            let headerText = headerEnd > headerStart ? String(decoding: body[headerStart..<headerEnd], as: UTF8.self) : ""
            let contentStart = headerEnd + 4
            guard let next = find([13, 10] + delimiter, in: body, from: contentStart) else { throw bad("a part without its closing boundary") }
            var part = Part(body: Array(body[contentStart..<next]))
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
            parts.append(part)
            at = next + 2
            guard parts.count <= 10_000 else { throw bad("too many parts") }
        }
        return parts
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
