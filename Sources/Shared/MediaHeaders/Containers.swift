/// JPEG: segments from SOI to the first SOF (its geometry), with the EXIF orientation from APP1 on the way.
/// The segment walk and the EXIF directory reader are public because Library's metadata reader walks the same way.
public enum JPEG {
    /// One marker segment: `marker` (0xE1 for APP1, ...) and where its payload lies in the bytes walked.
    public struct Segment: Sendable {
        public let marker: UInt8
        public let payload: Range<Int>
    }

    /// The segments of a JPEG held in memory, up to the image data (SOS) or the end of `bytes`.
    public static func segments(_ bytes: [UInt8]) -> [Segment] {
        var out: [Segment] = []
        walk(Source(size: bytes.count) { o, n in Array(bytes[o..<min(bytes.count, o + n)]) }, 0) { out.append($0); return true }
        return out
    }

    /// Entries of a TIFF block's first directory (IFD0), as EXIF stores them in APP1 after "Exif\0\0":
    /// each tag with its value bytes (inline or at their offset).
    public static func ifd0(_ t: [UInt8]) -> [(tag: Int, value: ArraySlice<UInt8>)] {
        guard t.count >= 8, t[0] == t[1], t[0] == 0x49 || t[0] == 0x4D else { return [] }
        let little = t[0] == 0x49
        func u16(_ o: Int) -> Int { o >= 0 && o + 2 <= t.count ? (little ? le16(t, o) : be16(t, o)) : 0 }
        func u32(_ o: Int) -> Int { little ? u16(o) | u16(o + 2) << 16 : u16(o) << 16 | u16(o + 2) }
        let ifd = u32(4), count = u16(ifd)
        guard ifd > 0, count < 1000 else { return [] }
        // Value sizes by TIFF type: BYTE, ASCII, SHORT, LONG, RATIONAL, ... (unknown types count as bytes).
        let sizes = [1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8]
        var out: [(Int, ArraySlice<UInt8>)] = []
        for e in 0..<count {
            let o = ifd + 2 + e * 12
            guard o + 12 <= t.count else { break }
            let n = u32(o + 4) * (sizes[u16(o + 2)] ?? 1)
            let at = n > 4 ? u32(o + 8) : o + 8
            guard n > 0, at + n <= t.count else { continue }
            out.append((u16(o), t[at..<(at + n)]))
        }
        return out
    }

    /// EXIF orientation (tag 0x0112, a SHORT) from a TIFF block; 1 when absent or out of range.
    static func orientation(_ tiff: [UInt8]) -> Int {
        guard let v = ifd0(tiff).first(where: { $0.tag == 0x0112 })?.value, v.count == 2 else { return 1 }
        let value = tiff[0] == 0x49 ? Int(v[v.startIndex]) | Int(v[v.startIndex + 1]) << 8 : Int(v[v.startIndex]) << 8 | Int(v[v.startIndex + 1])
        return (1...8).contains(value) ? value : 1
    }

    static func header(_ s: Source, _ base: Int) throws(MediaHeaderError) -> MediaHeader {
        var orientation = 1
        var frame: (w: Int, h: Int)?
        var sawImageData = false
        let stopped = walk(s, base) { segment in
            let marker = segment.marker
            if marker == 0xE1 && orientation == 1 && segment.payload.count > 14 {
                let head = s.bytes(segment.payload.lowerBound, 6)
                if head == ascii("Exif") + [0, 0] {
                    orientation = Self.orientation(s.bytes(segment.payload.lowerBound + 6, min(segment.payload.count - 6, 65_536)))
                }
            }
            // SOF0...SOF15 carry the geometry; C4 (DHT), C8 (JPG) and CC (DAC) share the range but are not frames.
            if (0xC0...0xCF).contains(marker) && ![0xC4, 0xC8, 0xCC].contains(marker) {
                let p = s.bytes(segment.payload.lowerBound, 5)
                if p.count == 5 { frame = (be16(p, 3), be16(p, 1)) }
                return false
            }
            if marker == 0xDA { sawImageData = true }
            return true
        }
        guard let frame else {
            if sawImageData { throw .malformed(.jpeg, "image data before any frame header") }
            if stopped >= s.size { throw .truncated(.jpeg) }
            throw .malformed(.jpeg, "no frame header in its first segments")
        }
        let turned = orientation >= 5
        return MediaHeader(format: .jpeg, kinds: [.image], width: turned ? frame.h : frame.w, height: turned ? frame.w : frame.h,
                           orientation: orientation)
    }

    /// Calls `body` for each segment until it returns false, the image data starts, or the bytes end.
    /// A segment whose payload runs past the end is still reported (its range clipped), so a cut file shows where.
    /// Returns where it stopped: at or past the end of the bytes when they ran out.
    @discardableResult
    static func walk(_ s: Source, _ base: Int, _ body: (Segment) -> Bool) -> Int {
        var i = base + 2
        for _ in 0..<4096 {
            var h = s.bytes(i, 4)
            if h.count >= 1 && h[0] != 0xFF {
                // Junk between segments: libav's decoder looks for the next marker, so do the same (a little way).
                guard let skip = s.bytes(i, 4096).firstIndex(of: 0xFF) else { return i + 4096 < s.size ? i : s.size }
                i += skip
                h = s.bytes(i, 4)
            }
            guard h.count >= 2 else { return s.size }
            let marker = h[1]
            if marker == 0xFF { i += 1; continue }                              // fill byte
            if marker == 0x01 || (0xD0...0xD7).contains(marker) { i += 2; continue }  // no length
            guard h.count == 4 else { return s.size }
            let length = be16(h, 2)
            guard length >= 2 else { return i }
            let start = i + 4, end = min(s.size, i + 2 + length)
            guard start <= end, body(Segment(marker: marker, payload: start..<end)) else { return i }
            if marker == 0xDA || marker == 0xD9 { return i }
            i += 2 + length
        }
        return i
    }
}

/// ISO base media (MP4, MOV, M4A, HEIF): the ftyp brand, then the tracks of moov (handler type from mdia/hdlr,
/// display size from tkhd). Boxes are walked by their headers with seeks; only tkhd and hdlr are read.
enum ISOMedia {
    struct Track { var handler = ""; var width = 0; var height = 0 }

    static func header(_ s: Source, _ base: Int) throws(MediaHeaderError) -> MediaHeader {
        let b = s.bytes(base, 12)
        var format = MediaHeader.Format.mp4
        var audioBrand = false
        if b.count >= 12 && Array(b[4..<8]) == ascii("ftyp") {
            let brand = String(decoding: b[8..<12], as: UTF8.self)
            if brand == "qt  " { format = .quicktime }
            if ["heic", "heix", "heim", "heis", "hevc", "mif1", "msf1", "avif", "avis"].contains(brand) {
                return MediaHeader(format: .heif, kinds: [])
            }
            audioBrand = ["M4A ", "M4B ", "M4P ", "F4A ", "F4B "].contains(brand)
        }
        var tracks: [Track]?
        var at = base
        for _ in 0..<1024 {
            guard at < s.size else { break }
            guard let (type, start, end) = box(s, at) else { throw .truncated(format) }
            if type == "moov" {
                // A moov cut short (a copy still being written) is as unusable as a missing one.
                guard end <= s.size else { throw .truncated(format) }
                tracks = children(s, start, end).filter { $0.type == "trak" }.map { track(s, $0.start, $0.end) }
                break
            }
            // A box that runs past the end before moov was seen: the file is cut (libav: "moov atom not found").
            guard end <= s.size else { throw .truncated(format) }
            at = end
        }
        guard let tracks else {
            // No moov at all: a fragmented stream's init segment elsewhere, or not a movie; libav will tell.
            throw .malformed(format, "no moov box (the index of its tracks)")
        }
        var kinds: Set<MediaHeader.Kind> = []
        if tracks.contains(where: { $0.handler == "soun" }) { kinds.insert(.audio) }
        let video = tracks.first { $0.handler == "vide" }
        if video != nil { kinds.insert(.video) }
        if audioBrand && video == nil { kinds = [.audio] }
        let shown = video.flatMap { $0.width > 0 && $0.height > 0 ? $0 : nil }
        return MediaHeader(format: format, kinds: kinds, width: shown?.width, height: shown?.height)
    }

    /// A box at `at`: its type and the range of its content. nil when the header itself is cut or nonsense.
    static func box(_ s: Source, _ at: Int) -> (type: String, start: Int, end: Int)? {
        let h = s.bytes(at, 16)
        guard h.count >= 8 else { return nil }
        var size = be32(h, 0), start = at + 8
        if size == 1 {
            guard h.count == 16 else { return nil }
            size = be32(h, 8) << 32 | be32(h, 12)
            start = at + 16
        } else if size == 0 {
            size = s.size - at
        }
        guard size >= start - at else { return nil }
        return (String(decoding: h[4..<8], as: UTF8.self), start, at + size)
    }

    static func children(_ s: Source, _ start: Int, _ end: Int) -> [(type: String, start: Int, end: Int)] {
        var out: [(String, Int, Int)] = []
        var at = start
        while at + 8 <= end, out.count < 4096, let b = box(s, at), b.end <= end {
            out.append(b)
            at = b.end
        }
        return out
    }

    static func track(_ s: Source, _ start: Int, _ end: Int) -> Track {
        var t = Track()
        for child in children(s, start, end) {
            if child.type == "tkhd" {
                // Version 0 keeps times in 32 bits, version 1 in 64: width and height (16.16 fixed) sit at 76 or 88.
                let v = s.bytes(child.start, 1).first ?? 0
                let o = child.start + (v == 1 ? 88 : 76)
                let wh = s.bytes(o, 8)
                if wh.count == 8 { t.width = be32(wh, 0) >> 16; t.height = be32(wh, 4) >> 16 }
            } else if child.type == "mdia" {
                for m in children(s, child.start, child.end) where m.type == "hdlr" {
                    t.handler = String(decoding: s.bytes(m.start + 8, 4), as: UTF8.self)
                }
            }
        }
        return t
    }
}
