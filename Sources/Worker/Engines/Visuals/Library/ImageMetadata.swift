import Foundation
import MediaHeaders

/// Descriptions embedded in pictures, read from the file's header bytes only (no decoding): JPEG EXIF
/// (ImageDescription, Windows XPTitle/XPComment/XPKeywords), XMP packets (dc:title, dc:description, dc:subject) in
/// JPEG APP1 or PNG iTXt, IPTC (headline, caption, keywords) in JPEG APP13, and PNG tEXt/iTXt
/// Title/Description/Comment/Keywords. A field holding only an editor's or camera's signature is dropped
/// (`DescriptionText.meaningful`), so a later field with real words can fill its place. libav exposes none of these at the
/// container level, and decoding every photo of a large library to reach them would take minutes.
enum ImageMetadata {
    /// Title, description and keywords, joined with ". "; nil when the file has none.
    static func description(of url: URL, limit: Int = 512 * 1024) -> String? {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return nil }
        defer { try? handle.close() }
        guard let data = try? handle.read(upToCount: limit), data.count > 8 else { return nil }
        let bytes = [UInt8](data)
        var found = Found()
        if bytes[0] == 0xFF && bytes[1] == 0xD8 {
            jpeg(bytes, into: &found)
        } else if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            png(bytes, into: &found)
        }
        return found.text
    }

    struct Found {
        var title: String?, description: String?, keywords: String?
        mutating func set(_ field: WritableKeyPath<Found, String?>, _ value: String?) {
            guard self[keyPath: field] == nil, let v = value?.trimmingCharacters(in: .whitespacesAndNewlines.union(.controlCharacters)),
                  !v.isEmpty, DescriptionText.meaningful(v) != nil else { return }
            self[keyPath: field] = v
        }
        var text: String? {
            var parts: [String] = []
            for p in [title, description, keywords].compactMap({ $0 }) where !parts.contains(p) { parts.append(p) }
            return parts.isEmpty ? nil : parts.joined(separator: ". ")
        }
    }

    // MARK: JPEG

    static func jpeg(_ b: [UInt8], into found: inout Found) {
        // The segment walk and the EXIF directory are MediaHeaders', which the supervisor's asset check uses too.
        for segment in JPEG.segments(b) where segment.marker == 0xE1 {
            let payload = Array(b[segment.payload])
            if payload.starts(with: Array("Exif\0\0".utf8)) {
                exif(Array(payload.dropFirst(6)), into: &found)
            } else if payload.starts(with: Array("http://ns.adobe.com/xap/1.0/\0".utf8)) {
                xmp(String(decoding: payload.dropFirst(29), as: UTF8.self), into: &found)
            }
        }
        for segment in JPEG.segments(b) where segment.marker == 0xED {
            let payload = Array(b[segment.payload])
            if payload.starts(with: Array("Photoshop 3.0\0".utf8)) { photoshop(Array(payload.dropFirst(14)), into: &found) }
        }
    }

    /// Photoshop image resources (`8BIM`, id, padded Pascal name, size, data padded to even); 0x0404 holds IPTC-NAA.
    static func photoshop(_ p: [UInt8], into found: inout Found) {
        var i = 0
        while i + 12 <= p.count, p[i..<(i + 4)].elementsEqual(Array("8BIM".utf8)) {
            let id = Int(p[i + 4]) << 8 | Int(p[i + 5])
            let nameLength = Int(p[i + 6])
            var k = i + 6 + 1 + nameLength
            if (1 + nameLength) % 2 == 1 { k += 1 }
            guard k + 4 <= p.count else { return }
            let size = Int(p[k]) << 24 | Int(p[k + 1]) << 16 | Int(p[k + 2]) << 8 | Int(p[k + 3])
            let start = k + 4, end = start + size
            guard size >= 0, end <= p.count else { return }
            if id == 0x0404 { iptc(Array(p[start..<end]), into: &found) }
            i = end + size % 2
        }
    }

    /// IPTC IIM record 2: 2:05 object name and 2:105 headline (title), 2:120 caption, 2:25 keywords (repeated).
    static func iptc(_ d: [UInt8], into found: inout Found) {
        var i = 0, keywords: [String] = []
        while i + 5 <= d.count, d[i] == 0x1C {
            let record = d[i + 1], dataset = d[i + 2]
            let size = Int(d[i + 3]) << 8 | Int(d[i + 4])
            guard size < 0x8000, i + 5 + size <= d.count else { break }  // extended sizes hold no captions
            let text = String(decoding: d[(i + 5)..<(i + 5 + size)], as: UTF8.self)
            if record == 2 {
                switch dataset {
                case 5, 105: found.set(\.title, text)
                case 120: found.set(\.description, text)
                case 25: if DescriptionText.meaningful(text) != nil { keywords.append(text) }
                default: break
                }
            }
            i += 5 + size
        }
        if !keywords.isEmpty { found.set(\.keywords, keywords.joined(separator: ", ")) }
    }

    /// IFD0 of a TIFF block: 0x010E ImageDescription (ASCII); 0x9C9B/0x9C9C/0x9C9E XPTitle/XPComment/XPKeywords (UTF-16LE).
    static func exif(_ t: [UInt8], into found: inout Found) {
        for (tag, raw) in JPEG.ifd0(t) {
            switch tag {
            case 0x010E: found.set(\.description, String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self))
            case 0x9C9B, 0x9C9C, 0x9C9E:
                let raw = Array(raw)
                var units: [UInt16] = []
                for k in stride(from: 0, to: raw.count - 1, by: 2) { units.append(UInt16(raw[k]) | UInt16(raw[k + 1]) << 8) }
                let text = String(decoding: units.prefix { $0 != 0 }, as: UTF16.self)
                found.set(tag == 0x9C9B ? \.title : tag == 0x9C9C ? \.description : \.keywords,
                          tag == 0x9C9E ? text.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", ") : text)
            default: break
            }
        }
    }

    // MARK: PNG

    static func png(_ b: [UInt8], into found: inout Found) {
        var i = 8
        while i + 8 <= b.count {
            let length = Int(b[i]) << 24 | Int(b[i + 1]) << 16 | Int(b[i + 2]) << 8 | Int(b[i + 3])
            let type = String(decoding: b[(i + 4)..<(i + 8)], as: UTF8.self)
            let start = i + 8, end = start + length
            guard length >= 0, end <= b.count else { return }
            if type == "IDAT" || type == "IEND" { return }
            let chunk = Array(b[start..<end])
            if type == "tEXt", let nul = chunk.firstIndex(of: 0) {
                text(keyword: String(decoding: chunk[..<nul], as: UTF8.self),
                     value: String(decoding: chunk[(nul + 1)...].map { $0 }, as: Unicode.ASCII.self), into: &found)
            } else if type == "iTXt", let nul = chunk.firstIndex(of: 0), nul + 2 < chunk.count, chunk[nul + 1] == 0 {
                // keyword \0 compression-flag(0) method \0-terminated language \0-terminated translated keyword, text
                var k = nul + 3
                for _ in 0..<2 { while k < chunk.count && chunk[k] != 0 { k += 1 }; k += 1 }
                guard k <= chunk.count else { i = end + 4; continue }
                text(keyword: String(decoding: chunk[..<nul], as: UTF8.self), value: String(decoding: chunk[k...], as: UTF8.self), into: &found)
            }
            i = end + 4  // skip the CRC
        }
    }

    static func text(keyword: String, value: String, into found: inout Found) {
        switch keyword.lowercased() {
        case "title": found.set(\.title, value)
        case "description", "comment", "subject": found.set(\.description, value)
        case "keywords": found.set(\.keywords, value)
        case "xml:com.adobe.xmp": xmp(value, into: &found)
        default: break
        }
    }

    // MARK: XMP

    /// dc:title and dc:description (their first rdf:li, or plain text) and dc:subject (every rdf:li, joined).
    static func xmp(_ xml: String, into found: inout Found) {
        func element(_ name: String) -> String? {
            guard let open = xml.range(of: "<\(name)"), let gt = xml[open.upperBound...].firstIndex(of: ">"),
                  let close = xml.range(of: "</\(name)>", range: xml.index(after: gt)..<xml.endIndex) else { return nil }
            return String(xml[xml.index(after: gt)..<close.lowerBound])
        }
        func items(_ inner: String) -> [String] {
            var out: [String] = []
            var rest = inner[...]
            while let open = rest.range(of: "<rdf:li"), let gt = rest[open.upperBound...].firstIndex(of: ">"),
                  let close = rest.range(of: "</rdf:li>", range: rest.index(after: gt)..<rest.endIndex) {
                out.append(unescape(String(rest[rest.index(after: gt)..<close.lowerBound])))
                rest = rest[close.upperBound...]
            }
            return out.isEmpty && !inner.contains("<") ? [unescape(inner)] : out
        }
        if let t = element("dc:title") { found.set(\.title, items(t).first) }
        if let d = element("dc:description") { found.set(\.description, items(d).first) }
        if let s = element("dc:subject") { found.set(\.keywords, items(s).joined(separator: ", ")) }
    }

    static func unescape(_ s: String) -> String {
        s.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }
}
