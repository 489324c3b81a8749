import Foundation

/// The icon names of a ligature icon font (Material Icons): Debian's `fonts-material-design-icons-iconfont` ships
/// the font but no codepoints file, and its names are the font's ligatures ("home" -> the house glyph). Read here
/// from the font's GSUB ligature lookups and its cmap, so an icon can be chosen by name and drawn by libass by its
/// name (`{\fnMaterial Icons}home`). Plain big-endian reads over the file's bytes; any malformed offset is an error
/// naming the file, never a crash.
public enum IconFont {
    public static let defaultPath = "/usr/share/fonts/truetype/material-design-icons-iconfont/MaterialIcons-Regular.ttf"
    public static let family = "Material Icons"

    public struct ReadError: Error, CustomStringConvertible, Sendable {
        public let path: String, detail: String
        public var description: String { "\(path): \(detail)" }
    }

    /// Every ligature name in the font, sorted, without duplicates.
    public static func names(path: String = defaultPath) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else { throw ReadError(path: path, detail: "cannot be read") }
        let r = Reader(bytes: [UInt8](data), path: path)
        let tables = try r.tables()
        guard let cmap = tables["cmap"] else { throw ReadError(path: path, detail: "has no cmap table") }
        guard let gsub = tables["GSUB"] else { throw ReadError(path: path, detail: "has no GSUB table (not a ligature icon font)") }
        let chars = try r.glyphChars(cmap: cmap)
        var names = Set<String>()
        try r.ligatures(gsub: gsub) { glyphs in
            let scalars = glyphs.compactMap { chars[$0] }
            guard scalars.count == glyphs.count else { return }
            names.insert(String(String.UnicodeScalarView(scalars)))
        }
        return names.sorted()
    }

    struct Reader {
        let bytes: [UInt8]
        let path: String

        func u16(_ o: Int) throws -> Int {
            guard o >= 0, o + 2 <= bytes.count else { throw ReadError(path: path, detail: "offset \(o) is past the end of the file") }
            return Int(bytes[o]) << 8 | Int(bytes[o + 1])
        }
        func u32(_ o: Int) throws -> Int { try u16(o) << 16 | u16(o + 2) }

        func tables() throws -> [String: Int] {
            var out: [String: Int] = [:]
            for i in 0..<(try u16(4)) {
                let rec = 12 + 16 * i
                guard rec + 16 <= bytes.count else { throw ReadError(path: path, detail: "table directory is cut short") }
                out[String(decoding: bytes[rec..<(rec + 4)], as: UTF8.self)] = try u32(rec + 8)
            }
            return out
        }

        /// Glyph -> character for the characters icon names use (a-z, 0-9, "_"), from a format 4 Unicode subtable.
        func glyphChars(cmap: Int) throws -> [Int: Unicode.Scalar] {
            var sub: Int?
            for i in 0..<(try u16(cmap + 2)) {
                let rec = cmap + 4 + 8 * i
                let platform = try u16(rec), encoding = try u16(rec + 2)
                if (platform == 3 && encoding == 1) || platform == 0, try u16(cmap + u32(rec + 4)) == 4 { sub = cmap + (try u32(rec + 4)); break }
            }
            guard let s = sub else { throw ReadError(path: path, detail: "has no format 4 Unicode cmap") }
            let segs = try u16(s + 6) / 2
            let ends = s + 14, starts = ends + 2 * segs + 2, deltas = starts + 2 * segs, ranges = deltas + 2 * segs
            var out: [Int: Unicode.Scalar] = [:]
            for c in Array(UInt32(0x30)...0x39) + [0x5F] + Array(UInt32(0x61)...0x7A) {
                for k in 0..<segs where try Int(c) <= u16(ends + 2 * k) {
                    guard try Int(c) >= u16(starts + 2 * k) else { break }
                    let delta = try u16(deltas + 2 * k), range = try u16(ranges + 2 * k)
                    var glyph: Int
                    if range == 0 { glyph = (Int(c) + delta) & 0xFFFF } else {
                        glyph = try u16(ranges + 2 * k + range + 2 * (Int(c) - u16(starts + 2 * k)))
                        if glyph != 0 { glyph = (glyph + delta) & 0xFFFF }
                    }
                    if glyph != 0 { out[glyph] = Unicode.Scalar(c) }
                    break
                }
            }
            return out
        }

        /// Calls `body` with each ligature's component glyphs (lookup type 4, also inside type 7 extensions).
        func ligatures(gsub: Int, _ body: ([Int]) -> Void) throws {
            let list = gsub + (try u16(gsub + 8))
            for i in 0..<(try u16(list)) {
                let lookup = list + (try u16(list + 2 + 2 * i))
                let type = try u16(lookup)
                for j in 0..<(try u16(lookup + 4)) {
                    var sub = lookup + (try u16(lookup + 6 + 2 * j))
                    var subType = type
                    if type == 7 { subType = try u16(sub + 2); sub += try u32(sub + 4) }
                    guard subType == 4 else { continue }
                    let firsts = try coverage(sub + (try u16(sub + 2)))
                    for (n, first) in firsts.enumerated() where n < (try u16(sub + 4)) {
                        let set = sub + (try u16(sub + 6 + 2 * n))
                        for l in 0..<(try u16(set)) {
                            let lig = set + (try u16(set + 2 + 2 * l))
                            let count = try u16(lig + 2)
                            var glyphs = [first]
                            for c in 1..<max(1, count) { glyphs.append(try u16(lig + 2 + 2 * c)) }
                            body(glyphs)
                        }
                    }
                }
            }
        }

        func coverage(_ o: Int) throws -> [Int] {
            switch try u16(o) {
            case 1: return try (0..<u16(o + 2)).map { try u16(o + 4 + 2 * $0) }
            case 2:
                var out: [Int] = []
                for k in 0..<(try u16(o + 2)) {
                    let a = try u16(o + 4 + 6 * k), b = try u16(o + 6 + 6 * k)
                    if b >= a { out += Array(a...b) }
                }
                return out
            default: throw ReadError(path: path, detail: "coverage table at \(o) has an unknown format")
            }
        }
    }
}
