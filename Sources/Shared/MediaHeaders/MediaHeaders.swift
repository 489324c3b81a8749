#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Sniffs a file's format and geometry from its header. Reads a few kilobytes at most: containers are walked box by
/// box with seeks, never loaded.
public enum MediaHeaders {
    /// The header of the file at `path`; pictures are checked against `MediaLimits.maxPictureSide`.
    public static func read(path: String) throws(MediaHeaderError) -> MediaHeader {
        // O_NONBLOCK: a FIFO named like a picture must not hang the supervisor; it is refused below.
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw .unreadable(String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .unreadable(String(cString: strerror(errno))) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw .unreadable("not a regular file") }
        let source = Source(size: Int(st.st_size)) { offset, count in
            var out = [UInt8](repeating: 0, count: count)
            let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(offset)) }
            return n > 0 ? Array(out.prefix(n)) : []
        }
        return try parse(source)
    }

    /// The header of a file held in memory (tests, and anything already read).
    public static func parse(_ bytes: [UInt8]) throws(MediaHeaderError) -> MediaHeader {
        try parse(Source(size: bytes.count) { offset, count in
            offset < bytes.count ? Array(bytes[offset..<min(bytes.count, offset + count)]) : []
        })
    }

    static func parse(_ s: Source) throws(MediaHeaderError) -> MediaHeader {
        let header = try sniff(s, at: 0)
        if header.kinds.contains(.image), let w = header.width, let h = header.height {
            if w <= 0 || h <= 0 { throw .zeroDimensions(header.format, width: w, height: h) }
            if max(w, h) > MediaLimits.maxPictureSide { throw .tooLarge(header.format, width: w, height: h, limit: MediaLimits.maxPictureSide) }
        }
        return header
    }

    static func sniff(_ s: Source, at base: Int) throws(MediaHeaderError) -> MediaHeader {
        let b = s.bytes(base, 64)
        func starts(_ magic: [UInt8], at o: Int = 0) -> Bool { b.count >= o + magic.count && Array(b[o..<(o + magic.count)]) == magic }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return try png(s, base) }
        if starts([0xFF, 0xD8, 0xFF]) { return try JPEG.header(s, base) }
        if starts(ascii("GIF87a")) || starts(ascii("GIF89a")) {
            guard b.count >= 10 else { throw .truncated(.gif) }
            return MediaHeader(format: .gif, kinds: [.image, .video], width: le16(b, 6), height: le16(b, 8))
        }
        if starts(ascii("RIFF")) || starts(ascii("RF64")) {
            guard b.count >= 12 else { throw .truncated(.wav) }
            if starts(ascii("WEBP"), at: 8) { return try webp(b) }
            if starts(ascii("WAVE"), at: 8) { return try wav(s, base) }
            if starts(ascii("AVI "), at: 8) { return MediaHeader(format: .avi, kinds: [.video, .audio]) }
        }
        // "BM" and a known DIB header size (the file-size field is often left 0).
        if starts(ascii("BM")) && b.count >= 18 && [12, 16, 40, 52, 56, 64, 108, 124].contains(le32(b, 14)) { return try bmp(b) }
        if starts(ascii("fLaC")) {
            // The STREAMINFO block follows at once: 4 bytes of block header, 34 of data.
            guard s.size - base >= 42 else { throw .truncated(.flac) }
            return MediaHeader(format: .flac, kinds: [.audio])
        }
        if starts(ascii("OggS")) { return try ogg(b) }
        if starts(ascii("ID3")) {
            // ID3v2: 10 bytes, then a syncsafe size (7 bits a byte), then the audio (MP3, sometimes FLAC or AAC).
            guard b.count >= 10 else { throw .truncated(.mp3) }
            let size = (Int(b[6]) & 0x7F) << 21 | (Int(b[7]) & 0x7F) << 14 | (Int(b[8]) & 0x7F) << 7 | (Int(b[9]) & 0x7F)
            let after = base + 10 + size + (b[5] & 0x10 != 0 ? 10 : 0)
            guard after < s.size else { throw .truncated(.mp3) }
            let inner = try audioAfterTag(s, at: after)
            return inner
        }
        if let frame = mpegAudioFrame(b, 0) { return MediaHeader(format: frame, kinds: [.audio]) }
        if starts(ascii("ftyp"), at: 4) || ["moov", "mdat", "wide", "free", "skip"].contains(where: { starts(ascii($0), at: 4) }) {
            return try ISOMedia.header(s, base)
        }
        if starts([0x1A, 0x45, 0xDF, 0xA3]) {
            // EBML: the DocType says webm or matroska; the tracks would need a walk of the segment.
            let webm = b.count >= 8 && indexOf(ascii("webm"), in: b) != nil
            return MediaHeader(format: webm ? .webm : .matroska, kinds: [.video, .audio])
        }
        if starts([0x00, 0x00, 0x01, 0xBA]) || starts([0x00, 0x00, 0x01, 0xB3]) { return MediaHeader(format: .mpegPS, kinds: [.video, .audio]) }
        if b.first == 0x47 {
            let sync = s.bytes(base + 188, 1) + s.bytes(base + 376, 1)
            if sync == [0x47, 0x47] { return MediaHeader(format: .mpegTS, kinds: [.video, .audio]) }
        }
        // MP3s cut from streams may start with junk: two frames in a row, found near the start, are MPEG audio.
        if chainedMP3Frame(s.bytes(base, 8192)) { return MediaHeader(format: .mp3, kinds: [.audio]) }
        throw .unknownFormat(seen: describe(b))
    }

    /// A layer III frame header followed by another exactly one frame later, within `b`.
    static func chainedMP3Frame(_ b: [UInt8]) -> Bool {
        let kbps = [[0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],   // MPEG-1
                    [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160]]       // MPEG-2 and 2.5
        let rates = [[44_100, 48_000, 32_000], [22_050, 24_000, 16_000], [11_025, 12_000, 8_000]]
        func length(_ o: Int) -> Int? {
            guard mpegAudioFrame(b, o) == .mp3, (b[o + 1] >> 1) & 3 == 1 else { return nil }
            let version = (b[o + 1] >> 3) & 3, mpeg1 = version == 3
            let bitrate = kbps[mpeg1 ? 0 : 1][Int(b[o + 2] >> 4)] * 1000
            let rate = rates[mpeg1 ? 0 : version == 2 ? 1 : 2][Int((b[o + 2] >> 2) & 3)]
            guard bitrate > 0 else { return nil }
            return (mpeg1 ? 144 : 72) * bitrate / rate + Int((b[o + 2] >> 1) & 1)
        }
        var o = 0
        while o + 4 <= b.count {
            if let n = length(o), o + n + 4 <= b.count, length(o + n) != nil { return true }
            o += 1
        }
        return false
    }

    // MARK: Pictures

    static func png(_ s: Source, _ base: Int) throws(MediaHeaderError) -> MediaHeader {
        // Signature, then the IHDR chunk first: length 13, "IHDR", width and height as big-endian 32-bit.
        let b = s.bytes(base, 33)
        guard b.count >= 24 else { throw .truncated(.png) }
        guard Array(b[12..<16]) == ascii("IHDR") else { throw .malformed(.png, "its first chunk is not IHDR") }
        guard b.count >= 33 else { throw .truncated(.png) }
        return MediaHeader(format: .png, kinds: [.image], width: be32(b, 16), height: be32(b, 20))
    }

    static func webp(_ b: [UInt8]) throws(MediaHeaderError) -> MediaHeader {
        guard b.count >= 30 else { throw .truncated(.webp) }
        let chunk = String(decoding: b[12..<16], as: UTF8.self)
        let w: Int, h: Int
        switch chunk {
        case "VP8 ":
            // Lossy: a 3-byte frame tag, the start code 9D 01 2A, then 14-bit width and height.
            guard Array(b[23..<26]) == [0x9D, 0x01, 0x2A] else { throw .malformed(.webp, "no VP8 start code") }
            w = le16(b, 26) & 0x3FFF; h = le16(b, 28) & 0x3FFF
        case "VP8L":
            // Lossless: the signature 0x2F, then width-1 and height-1 in 14 bits each.
            guard b[20] == 0x2F else { throw .malformed(.webp, "no VP8L signature") }
            let bits = le32(b, 21)
            w = (bits & 0x3FFF) + 1; h = ((bits >> 14) & 0x3FFF) + 1
        case "VP8X":
            // Extended: flags and reserved bytes, then canvas width-1 and height-1 in 24 bits each.
            w = le24(b, 24) + 1; h = le24(b, 27) + 1
        default:
            throw .malformed(.webp, "an unknown first chunk \"\(chunk)\"")
        }
        return MediaHeader(format: .webp, kinds: [.image], width: w, height: h)
    }

    static func bmp(_ b: [UInt8]) throws(MediaHeaderError) -> MediaHeader {
        guard b.count >= 26 else { throw .truncated(.bmp) }
        let dib = le32(b, 14)
        if dib == 12 { return MediaHeader(format: .bmp, kinds: [.image], width: le16(b, 18), height: le16(b, 20)) }
        guard dib >= 16 else { throw .malformed(.bmp, "a DIB header of \(dib) bytes") }
        // Signed 32-bit: a negative height means the rows run top-down.
        let w = Int(Int32(bitPattern: UInt32(le32(b, 18)))), h = Int(Int32(bitPattern: UInt32(le32(b, 22))))
        return MediaHeader(format: .bmp, kinds: [.image], width: abs(w), height: abs(h))
    }

    // MARK: Sound

    static func wav(_ s: Source, _ base: Int) throws(MediaHeaderError) -> MediaHeader {
        // Chunks after "RIFF size WAVE": the "fmt " chunk says the encoding, channels and rate.
        var at = base + 12
        for _ in 0..<64 {
            let h = s.bytes(at, 8)
            guard h.count == 8 else { break }
            let size = le32(h, 4)
            if Array(h[0..<4]) == ascii("fmt ") {
                let f = s.bytes(at + 8, 16)
                guard f.count == 16 else { throw .truncated(.wav) }
                guard le16(f, 2) > 0, le32(f, 4) > 0 else { throw .malformed(.wav, "\(le16(f, 2)) channels at \(le32(f, 4)) Hz") }
                return MediaHeader(format: .wav, kinds: [.audio])
            }
            at += 8 + size + (size & 1)
        }
        throw .truncated(.wav)
    }

    static func ogg(_ b: [UInt8]) throws(MediaHeaderError) -> MediaHeader {
        // The first page carries one packet that names the codec; Theora is video, the rest are sound.
        guard b.count >= 28 else { throw .truncated(.ogg) }
        let first = 27 + Int(b[26])
        guard b.count > first + 7 else { throw .truncated(.ogg) }
        let theora = Array(b[first..<(first + 7)]) == [0x80] + ascii("theora")
        return MediaHeader(format: .ogg, kinds: theora ? [.video] : [.audio])
    }

    /// After an ID3v2 tag: MPEG audio or ADTS (after any padding), or another audio format wearing a tag.
    static func audioAfterTag(_ s: Source, at start: Int) throws(MediaHeaderError) -> MediaHeader {
        let b = s.bytes(start, 4096)
        if b.starts(with: ascii("fLaC")) { return MediaHeader(format: .flac, kinds: [.audio]) }
        guard let i = b.firstIndex(where: { $0 != 0 }) else { throw .truncated(.mp3) }
        if let frame = mpegAudioFrame(b, i) { return MediaHeader(format: frame, kinds: [.audio]) }
        guard b.count - i >= 4 else { throw .truncated(.mp3) }
        throw .malformed(.mp3, "no audio frame after the ID3 tag")
    }

    /// An MPEG audio frame header at `o`: 11 sync bits, then version, layer, bitrate and rate that are not reserved.
    static func mpegAudioFrame(_ b: [UInt8], _ o: Int) -> MediaHeader.Format? {
        guard b.count >= o + 4, b[o] == 0xFF, b[o + 1] & 0xE0 == 0xE0 else { return nil }
        let version = (b[o + 1] >> 3) & 3, layer = (b[o + 1] >> 1) & 3
        if layer == 0 { return version & 2 != 0 && (b[o + 2] >> 2) & 0xF < 13 ? .aac : nil }  // ADTS: MPEG-4/2, a known rate index
        let bitrate = b[o + 2] >> 4, rate = (b[o + 2] >> 2) & 3
        guard version != 1, bitrate != 0xF, rate != 3 else { return nil }
        return .mp3
    }

    // MARK: Bytes

    /// What unrecognised bytes look like, for a message: a person renamed a text file, or something binary.
    static func describe(_ b: [UInt8]) -> String {
        if b.isEmpty { return "an empty file" }
        let texty = b.allSatisfy { $0 == 9 || $0 == 10 || $0 == 13 || (32..<127).contains($0) || $0 >= 0x80 }
        if texty {
            let head = String(decoding: b.prefix(16), as: UTF8.self).lowercased()
            if head.hasPrefix("<!doctype html") || head.hasPrefix("<html") { return "an HTML page" }
            if head.hasPrefix("<?xml") || head.hasPrefix("<svg") { return "XML text (an SVG?)" }
            return "text"
        }
        return "bytes " + b.prefix(8).map { hex($0) }.joined(separator: " ")
    }
}

/// Random access to a file's bytes; a read past the end returns what there is.
struct Source {
    let size: Int
    let read: (Int, Int) -> [UInt8]
    init(size: Int, read: @escaping (Int, Int) -> [UInt8]) { self.size = size; self.read = read }
    func bytes(_ offset: Int, _ count: Int) -> [UInt8] {
        offset >= 0 && offset < size && count > 0 ? read(offset, min(count, size - offset)) : []
    }
}

func ascii(_ s: String) -> [UInt8] { Array(s.utf8) }
func be16(_ b: [UInt8], _ o: Int) -> Int { Int(b[o]) << 8 | Int(b[o + 1]) }
func be32(_ b: [UInt8], _ o: Int) -> Int { be16(b, o) << 16 | be16(b, o + 2) }
func le16(_ b: [UInt8], _ o: Int) -> Int { Int(b[o]) | Int(b[o + 1]) << 8 }
func le24(_ b: [UInt8], _ o: Int) -> Int { le16(b, o) | Int(b[o + 2]) << 16 }
func le32(_ b: [UInt8], _ o: Int) -> Int { le16(b, o) | le16(b, o + 2) << 16 }
func hex(_ v: UInt8) -> String { let d = Array("0123456789ABCDEF"); return String([d[Int(v >> 4)], d[Int(v & 15)]]) }
func indexOf(_ needle: [UInt8], in hay: [UInt8]) -> Int? {
    guard hay.count >= needle.count else { return nil }
    return (0...(hay.count - needle.count)).first { Array(hay[$0..<($0 + needle.count)]) == needle }
}
