import Foundation

/// Text embedded in pictures the way editors, cameras and photo managers write it, added by hand to files ffmpeg made
/// (ffmpeg writes none of these): PNG text chunks, JPEG EXIF, XMP and IPTC segments.
enum Embed {
    enum Text {
        /// A PNG tEXt chunk (Latin-1, as Photoshop 5 wrote "File written by Adobe Photoshop\u{A8} 5.0").
        case pngText(keyword: String, latin1: [UInt8])
        /// EXIF IFD0 ImageDescription (what cameras fill with "OLYMPUS DIGITAL CAMERA").
        case exifDescription(String)
        /// An XMP packet's dc:title and dc:description.
        case xmp(title: String?, description: String?)
        /// IPTC IIM in Photoshop's APP13: caption (2:120) and keywords (2:25).
        case iptc(caption: String, keywords: [String])
    }

    static func apply(_ text: Text, to bytes: [UInt8]) -> [UInt8] {
        var out = bytes
        switch text {
        case .pngText(let keyword, let latin1):
            out.insert(contentsOf: pngChunk("tEXt", Array(keyword.utf8) + [0] + latin1), at: 33)
        case .exifDescription(let s):
            let desc = Array(s.utf8) + [0]
            var tiff: [UInt8] = Array("II".utf8) + le16(42) + le32(8) + le16(1)
            tiff += le16(0x010E) + le16(2) + le32(desc.count) + le32(8 + 2 + 12 + 4)
            tiff += le32(0) + desc
            out.insert(contentsOf: segment(0xE1, Array("Exif\0\0".utf8) + tiff), at: 2)
        case .xmp(let title, let description):
            var xml = "<x:xmpmeta><rdf:RDF><rdf:Description>"
            if let title { xml += #"<dc:title><rdf:Alt><rdf:li xml:lang="x-default">\#(title)</rdf:li></rdf:Alt></dc:title>"# }
            if let description { xml += #"<dc:description><rdf:Alt><rdf:li xml:lang="x-default">\#(description)</rdf:li></rdf:Alt></dc:description>"# }
            xml += "</rdf:Description></rdf:RDF></x:xmpmeta>"
            out.insert(contentsOf: segment(0xE1, Array("http://ns.adobe.com/xap/1.0/\0".utf8) + Array(xml.utf8)), at: 2)
        case .iptc(let caption, let keywords):
            func dataset(_ n: UInt8, _ s: String) -> [UInt8] { let b = Array(s.utf8); return [0x1C, 2, n, UInt8(b.count >> 8), UInt8(b.count & 0xFF)] + b }
            var iim = dataset(0, "\u{0}\u{4}")  // record version
            iim += dataset(120, caption)
            for k in keywords { iim += dataset(25, k) }
            var resource: [UInt8] = Array("8BIM".utf8) + [0x04, 0x04, 0, 0] + be32(iim.count) + iim
            if iim.count % 2 == 1 { resource.append(0) }
            out.insert(contentsOf: segment(0xED, Array("Photoshop 3.0\0".utf8) + resource), at: 2)
        }
        return out
    }

    static func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
    static func le32(_ v: Int) -> [UInt8] { le16(v & 0xFFFF) + le16(v >> 16) }
    static func be32(_ v: Int) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }
    static func segment(_ marker: UInt8, _ payload: [UInt8]) -> [UInt8] {
        [0xFF, marker, UInt8((payload.count + 2) >> 8), UInt8((payload.count + 2) & 0xFF)] + payload
    }
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c ^= UInt32(b); for _ in 0..<8 { c = c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 } }
        return ~c
    }
    static func pngChunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return be32(data.count) + body + be32(Int(crc32(body)))
    }
}
