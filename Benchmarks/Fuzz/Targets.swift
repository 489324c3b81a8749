import Foundation
import Manifest
import MediaHeaders

/// One parser under fuzz: its corpus folder (`Tests/Fuzz/corpus/<name>/`), what its inputs look like, and how one
/// input is run. A run that returns is a pass; a trap, or an invariant checked here failing (`fatalError`), is a find.
struct FuzzTarget: Sendable {
    let name: String
    let shape: InputShape
    let prepare: @Sendable () -> (@Sendable ([UInt8]) -> Void)
}

enum Targets {
    static var all: [FuzzTarget] { manifestTargets + [media] + apiTargets }

    static let manifestTokens = ["scenes:", "narration: ", "voice: ", "rate: ", "pitch: ", "visuals: ", "output: ", "width: ",
                                 "height: ", "aspect: ", "fps: ", "music: ", "captions: ", "size: ", "seed: ", "defaults:\n  ",
                                 "transitions: ", "duration: ", "focus: ", "sfx: ", "at: ", "poster: ", "time: ", "steps: ",
                                 "min_score: ", "\"rate\": ", "\"scenes\": ", "![x](a.png)", "\n# ", "\n## ", "\n- ", "\n1. "]

    /// The manifest loader on a real file, as the supervisor, the API and `validate` call it, for each format;
    /// and what the loader promises besides not trapping: a refusal lists at most 51 problems in bounded text.
    static let manifestTargets: [FuzzTarget] = ["yaml", "json", "md", "txt"].map { ext in
        FuzzTarget(name: "manifest-\(ext)", shape: InputShape(text: true, tokens: manifestTokens)) {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("prostudio-fuzz-\(getpid())-\(ext)").path
            try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let path = dir + "/job.\(ext)"
            return { input in
                guard FileManager.default.createFile(atPath: path, contents: Data(input)) else { fatalError("fuzz: cannot write \(path)") }
                do throws(ManifestErrors) {
                    _ = try ManifestLoader.load(path: path)
                } catch {
                    check(error)
                }
                if ext == "yaml" {
                    // The daemon config's `defaults:` mapping goes through the same decoder.
                    do throws(ManifestErrors) { _ = try ManifestDefaults.fromConfig(yaml: String(decoding: input, as: UTF8.self), file: path) } catch { check(error) }
                }
            }
        }
    }

    static func check(_ error: ManifestErrors) {
        guard !error.errors.isEmpty, error.errors.count <= ManifestLimits.listedProblems + 1 else {
            fatalError("fuzz: \(error.errors.count) problems listed; at most \(ManifestLimits.listedProblems + 1)")
        }
        let size = error.description.utf8.count
        guard size <= 128 << 10 else { fatalError("fuzz: \(size) bytes of error text") }
    }

    /// The media header sniffer on bytes in memory, and the JPEG segment and EXIF readers Library calls directly.
    static let media = FuzzTarget(name: "media", shape: InputShape(text: false, markers: [
        [0xFF, 0xE1], [0xFF, 0xC0], Array("moov".utf8), Array("trak".utf8), Array("tkhd".utf8), Array("ftyp".utf8),
        Array("fmt ".utf8), Array("IHDR".utf8), Array("VP8".utf8), Array("ID3".utf8), Array("OggS".utf8), Array("Exif".utf8),
    ])) {
        { input in
            _ = try? MediaHeaders.parse(input)
            for segment in JPEG.segments(input) where segment.marker == 0xE1 && segment.payload.count > 6 {
                _ = JPEG.ifd0(Array(input[segment.payload].dropFirst(6)))
            }
        }
    }

    static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }
}
