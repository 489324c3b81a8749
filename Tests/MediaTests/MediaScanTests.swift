import Foundation
import Testing
@testable import Media

/// The scanner the quality gate reads: black, still and silent stretches found where they were put, and loudness
/// and true peak agreeing with FFmpeg's own ebur128 meter on the same file.
@Suite(.serialized)
struct MediaScanTests {
    let dir: URL = {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("scan-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }()

    /// 4 s at 10 fps: 1 s black, 1 s moving test pattern, 1 s of one pattern frame held, 1 s moving. Sound: a 12 kHz
    /// tone whose samples never reach its peak (phase 45°: samples at 0.707 of it), silent from 2.5 to 3.5 s.
    func render() throws -> String {
        let out = dir.appendingPathComponent("s.mp4").path
        let rate = 48_000
        var audio = [Float](repeating: 0, count: 2 * 4 * rate)
        for i in 0..<(4 * rate) where i < 5 * rate / 2 || i >= 7 * rate / 2 {
            let v = Float(0.5 * sin(2 * Double.pi * 12_000 * Double(i) / Double(rate) + Double.pi / 4))
            audio[2 * i] = v; audio[2 * i + 1] = v
        }
        let graph = "color=c=black:s=320x180:r=10:d=1,format=yuv420p[a];testsrc2=s=320x180:r=10:d=1,format=yuv420p[b];"
            + "testsrc2=s=320x180:r=10,trim=end_frame=1,loop=loop=9:size=1,setpts=N/10/TB,format=yuv420p[c];"
            + "testsrc2=s=320x180:r=10:d=1,format=yuv420p[d];[a][b][c][d]concat=n=4:v=1:a=0[out]"
        let spec = CompositionSpec(outputPath: out, width: 320, height: 180, fps: 10, frameCount: 40, videoGraph: graph, images: [:],
                                   audio: audio, encoder: EncoderSettings(preset: "ultrafast", crf: 23), posterFrame: 0, posterPath: nil)
        _ = try Composer.compose(spec)
        return out
    }

    /// FFmpeg's integrated loudness and true peak of `path`.
    func ebur128(_ path: String) throws -> (lufs: Double, peak: Double) {
        let p = Process(), err = Pipe()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
        p.arguments = ["-nostats", "-i", path, "-map", "0:a", "-af", "ebur128=peak=true", "-f", "null", "-"]
        p.standardError = err
        try p.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        let summary = text.components(separatedBy: "Summary:").last ?? ""
        func number(after key: String) -> Double? {
            guard let r = summary.range(of: key) else { return nil }
            return Double(summary[r.upperBound...].trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "")
        }
        return (try #require(number(after: "I:")), try #require(number(after: "Peak:")))
    }

    @Test func blackStillAndSilentStretchesAreFoundWhereTheyAre() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try render()
        let scan = try MediaScanner.scan(path)
        #expect(scan.videoFrames == 40 && scan.decodeErrors == 0)
        #expect(abs(scan.videoEnd - 4) < 0.001, "video ends at \(scan.videoEnd)")
        #expect(scan.black.count == 1)
        if let b = scan.black.first { #expect(abs(b.start) < 0.01 && abs(b.end - 1) < 0.01, "black \(b)") }
        // The held pattern frame: one run from 2 s until the picture changes at 3.1 s (the last segment's pattern
        // starts on the same first frame); the moving pattern is never still.
        #expect(scan.frozen.count == 1, "\(scan.frozen)")
        if let f = scan.frozen.first { #expect(abs(f.start - 2) < 0.01 && abs(f.end - 3.1) < 0.01, "frozen \(f)") }
        // Black is flat: it never counts as frozen.
        #expect(scan.silent.count == 1, "\(scan.silent)")
        if let s = scan.silent.first { #expect(abs(s.start - 2.5) < 0.06 && abs(s.end - 3.5) < 0.06, "silent \(s)") }
        #expect(scan.colour == ColourTags(primaries: "bt709", transfer: "bt709", matrix: "bt709", range: "tv"))

        let reference = try ebur128(path)
        let lufs = try #require(scan.loudness), peak = try #require(scan.truePeak)
        #expect(abs(lufs - reference.lufs) < 0.2, "loudness \(lufs) LUFS, ebur128 says \(reference.lufs)")
        #expect(abs(peak - reference.peak) < 0.3, "true peak \(peak) dBTP, ebur128 says \(reference.peak)")
        // The tone's samples peak at -9 dBFS; its true peak is -6 dBTP: the meter must see between the samples.
        #expect(peak > -7 && peak < -5, "true peak \(peak)")
    }

    @Test func aFileCutShortIsSeenDecodingShort() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try render()
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let cut = dir.appendingPathComponent("cut.mp4").path
        try data.prefix(data.count * 6 / 10).write(to: URL(fileURLWithPath: cut))
        let scan = try MediaScanner.scan(cut)
        // The header (faststart: at the front) still promises 4 s; the frames decoded say otherwise.
        #expect(abs(scan.info.duration - 4) < 0.1)
        #expect(scan.videoFrames < 40 || scan.decodeErrors > 0, "\(scan.videoFrames) frames, \(scan.decodeErrors) errors")
        #expect(scan.videoEnd < 3.9)
    }
}
