import Foundation
import Manifest
import MediaHeaders
import Testing

/// Real files made by the ffmpeg CLI (and a few written byte by byte), read by their headers only.
@Suite struct MediaHeadersTests {
    let dir = Folder()

    @Test func picturesSayTheirFormatAndSize() throws {
        for (name, format) in [("a.png", MediaHeader.Format.png), ("a.jpg", .jpeg), ("a.webp", .webp), ("a.bmp", .bmp), ("a.gif", .gif)] {
            let path = try dir.ffmpeg(name, ["-f", "lavfi", "-i", "testsrc2=s=320x180", "-frames:v", "1"])
            let h = try MediaHeaders.read(path: path)
            #expect(h.format == format && h.width == 320 && h.height == 180 && h.kinds.contains(.image), "\(name): \(h)")
        }
        // Lossless WebP has its own header (VP8L).
        let lossless = try dir.ffmpeg("l.webp", ["-f", "lavfi", "-i", "testsrc2=s=98x52", "-frames:v", "1", "-lossless", "1"])
        let h = try MediaHeaders.read(path: lossless)
        #expect(h.width == 98 && h.height == 52)
    }

    @Test func soundIsAudio() throws {
        for (name, format) in [("a.wav", MediaHeader.Format.wav), ("a.mp3", .mp3), ("a.flac", .flac), ("a.ogg", .ogg), ("a.m4a", .mp4), ("a.aac", .aac)] {
            let path = try dir.ffmpeg(name, ["-f", "lavfi", "-i", "sine=d=0.5"])
            let h = try MediaHeaders.read(path: path)
            #expect(h.format == format && h.kinds == [.audio], "\(name): \(h)")
        }
        // An MP3 with an ID3v2 tag in front (ffmpeg writes one when given a title).
        let tagged = try dir.ffmpeg("t.mp3", ["-f", "lavfi", "-i", "sine=d=0.5", "-metadata", "title=Song", "-id3v2_version", "3"])
        #expect(try MediaHeaders.read(path: tagged).format == .mp3)
        // One cut from a stream, with junk before its first frame: found by two frames in a row.
        let plain = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try dir.ffmpeg("p.mp3", ["-f", "lavfi", "-i", "sine=d=0.5", "-write_xing", "0"]))))
        #expect(try MediaHeaders.parse(Array("junk".utf8) + [0x12, 0x00, 0x07] + plain).format == .mp3)
    }

    @Test func clipsAreVideoWithTheirSize() throws {
        let mp4 = try dir.ffmpeg("a.mp4", ["-f", "lavfi", "-i", "testsrc2=s=160x90:d=0.5", "-f", "lavfi", "-i", "sine=d=0.5", "-pix_fmt", "yuv420p", "-shortest"])
        let h = try MediaHeaders.read(path: mp4)
        #expect(h.format == .mp4 && h.kinds == [.video, .audio] && h.width == 160 && h.height == 90, "\(h)")
        // moov after mdat (no faststart) is found by seeking past the media data.
        let mov = try dir.ffmpeg("a.mov", ["-f", "lavfi", "-i", "testsrc2=s=64x48:d=0.5", "-pix_fmt", "yuv420p"])
        let q = try MediaHeaders.read(path: mov)
        #expect(q.format == .quicktime && q.kinds == [.video] && q.width == 64 && q.height == 48, "\(q)")
        let mkv = try dir.ffmpeg("a.webm", ["-f", "lavfi", "-i", "testsrc2=s=64x48:d=0.2", "-c:v", "libvpx", "-b:v", "100k"])
        #expect(try MediaHeaders.read(path: mkv).format == .webm)
        // An MP4 holding sound only is not a clip.
        let soundOnly = try dir.ffmpeg("s.mp4", ["-f", "lavfi", "-i", "sine=d=0.5"])
        #expect(try MediaHeaders.read(path: soundOnly).kinds == [.audio])
        // Cut before its index: unusable, and said so.
        let data = try Data(contentsOf: URL(fileURLWithPath: mov))
        #expect(throws: MediaHeaderError.truncated(.quicktime)) { try MediaHeaders.parse(Array(data.prefix(data.count / 2))) }
    }

    @Test func aJPEGTurnedByEXIFReportsItsShownSize() throws {
        let path = try dir.ffmpeg("a.jpg", ["-f", "lavfi", "-i", "testsrc2=s=64x32", "-frames:v", "1"])
        var b = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        // APP1 "Exif\0\0" + a little-endian TIFF block whose IFD0 holds Orientation (0x0112) = 6 (turned 90°).
        let tiff: [UInt8] = [0x49, 0x49, 0x2A, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0]
        let payload = Array("Exif".utf8) + [0, 0] + tiff
        let length = payload.count + 2
        b.insert(contentsOf: [0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)] + payload, at: 2)
        let h = try MediaHeaders.parse(b)
        #expect(h.orientation == 6 && h.width == 32 && h.height == 64, "\(h)")
        // Junk between segments is skipped to the next marker, as libav's decoder does.
        b.insert(contentsOf: [0x00, 0x12, 0x34], at: 2 + 4 + payload.count)
        #expect(try MediaHeaders.parse(b).height == 64)
    }

    @Test func refusalsAreTyped() throws {
        #expect(throws: MediaHeaderError.unknownFormat(seen: "text")) { try MediaHeaders.parse(Array("this is not a PNG\n".utf8)) }
        #expect(throws: MediaHeaderError.unknownFormat(seen: "an empty file")) { try MediaHeaders.parse([]) }
        let png = try dir.ffmpeg("a.png", ["-f", "lavfi", "-i", "testsrc2=s=32x32", "-frames:v", "1"])
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: png)))
        #expect(throws: MediaHeaderError.truncated(.png)) { try MediaHeaders.parse(Array(bytes.prefix(20))) }
        #expect(throws: MediaHeaderError.tooLarge(.png, width: 20_000, height: 20_000, limit: MediaLimits.maxPictureSide)) {
            try MediaHeaders.parse(Self.pngHeader(width: 20_000, height: 20_000))
        }
        #expect(throws: MediaHeaderError.zeroDimensions(.png, width: 0, height: 10)) { try MediaHeaders.parse(Self.pngHeader(width: 0, height: 10)) }
        #expect(throws: MediaHeaderError.unreadable("not a regular file")) { try MediaHeaders.read(path: dir.url.path) }
        let jpg = try dir.ffmpeg("b.jpg", ["-f", "lavfi", "-i", "testsrc2=s=32x32", "-frames:v", "1"])
        let j = [UInt8](try Data(contentsOf: URL(fileURLWithPath: jpg)))
        #expect(throws: MediaHeaderError.truncated(.jpeg)) { try MediaHeaders.parse(Array(j.prefix(30))) }
    }

    /// A PNG signature and IHDR only: the header of a picture nobody should have to decode.
    static func pngHeader(width: Int, height: Int) -> [UInt8] {
        func be32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + be32(13) + Array("IHDR".utf8) + be32(width) + be32(height)
            + [8, 6, 0, 0, 0] + [0, 0, 0, 0]
    }
}

/// Each asset of a manifest against what its field expects, as the supervisor checks it at pick-up.
@Suite struct AssetHeaderCheckTests {
    let dir = Folder()

    func problems(_ yaml: String) throws -> [ManifestError] {
        let path = dir.write("job.yaml", yaml)
        let m = try ManifestLoader.load(path: path)
        return AssetHeaderCheck.problems(in: m, file: "job.yaml")
    }

    @Test func goodAssetsPass() throws {
        _ = try dir.ffmpeg("pic.jpg", ["-f", "lavfi", "-i", "testsrc2=s=64x48", "-frames:v", "1"])
        _ = try dir.ffmpeg("clip.mp4", ["-f", "lavfi", "-i", "testsrc2=s=64x48:d=0.3", "-pix_fmt", "yuv420p"])
        _ = try dir.ffmpeg("song.flac", ["-f", "lavfi", "-i", "sine=d=0.3"])
        let p = try problems("music: {file: song.flac}\nscenes:\n  - narration: a\n    image: pic.jpg\n  - narration: b\n    video: clip.mp4\n")
        #expect(p.isEmpty, "\(p)")
    }

    @Test func eachBadAssetNamesItsFieldWhatWasFoundAndWhatWasExpected() throws {
        dir.write("notes.png", "just some notes\n")
        try Data(MediaHeadersTests.pngHeader(width: 10, height: 10).prefix(20)).write(to: dir.url.appendingPathComponent("cut.png"))
        try Data(MediaHeadersTests.pngHeader(width: 20_000, height: 20_000)).write(to: dir.url.appendingPathComponent("huge.png"))
        _ = try dir.ffmpeg("pic.png", ["-f", "lavfi", "-i", "testsrc2=s=64x48", "-frames:v", "1"])
        try FileManager.default.copyItem(atPath: dir.url.appendingPathComponent("pic.png").path, toPath: dir.url.appendingPathComponent("song.wav").path)
        _ = try dir.ffmpeg("voice.mp4", ["-f", "lavfi", "-i", "sine=d=0.3"])
        let p = try problems("""
            music: {file: song.wav}
            scenes:
              - {narration: a, image: notes.png}
              - {narration: b, image: cut.png}
              - {narration: c, image: huge.png}
              - {narration: d, video: voice.mp4}
              - {narration: e, image: pic.png}

            """)
        #expect(p.map(\.field) == ["scenes[0].image", "scenes[1].image", "scenes[2].image", "scenes[3].video", "music.file"])
        #expect(p.map(\.code) == [.unreadableAsset, .unreadableAsset, .outOfRange, .unreadableAsset, .unreadableAsset])
        #expect(p[0].description.contains("notes.png, text, not a media format") && p[0].description.contains("expected a JPEG, PNG"), "\(p[0])")
        #expect(p[1].description.contains("cut short"), "\(p[1])")
        #expect(p[2].description.contains("20000x20000") && p[2].description.contains("at most 16384"), "\(p[2])")
        #expect(p[3].description.contains("sound only") && p[3].description.contains("expected a video file"), "\(p[3])")
        #expect(p[4].description.contains("song.wav, which is a PNG picture") && p[4].description.contains("expected an audio file"), "\(p[4])")
    }
}

/// A fresh folder per test, removed at the end; media made with the ffmpeg CLI.
final class Folder: Sendable {
    let url: URL
    init() {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("prostudio-headers-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }

    @discardableResult
    func write(_ name: String, _ text: String) -> String {
        let path = url.appendingPathComponent(name).path
        try! text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    struct Failed: Error, CustomStringConvertible { let description: String }

    func ffmpeg(_ name: String, _ args: [String]) throws -> String {
        let path = url.appendingPathComponent(name).path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
        p.arguments = ["-loglevel", "error", "-nostdin", "-y"] + args + [path]
        let err = Pipe()
        p.standardError = err
        try p.run()
        let message = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw Failed(description: "ffmpeg \(args): " + String(decoding: message, as: UTF8.self)) }
        return path
    }
}

/// Every file in the fuzz corpus (`Tests/Fuzz/corpus/media`, the fuzzer's finds `crash-*` included) is sniffed
/// without a trap; the tiny files ffmpeg made are recognised.
struct MediaFuzzCorpusTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/corpus/media").path

    @Test func everyCorpusFileIsSniffedWithoutATrap() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.folder).filter { !$0.hasPrefix(".") }.sorted()
        #expect(names.count >= 20)
        for name in names {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.folder + "/" + name)))
            let header = try? MediaHeaders.parse(bytes)
            for segment in JPEG.segments(bytes) where segment.marker == 0xE1 && segment.payload.count > 6 {
                _ = JPEG.ifd0(Array(bytes[segment.payload].dropFirst(6)))
            }
            if name.hasPrefix("tiny.") { #expect(header != nil, "\(name)") }
        }
    }
}
