import Foundation
import MediaHeaders

/// Each asset's header against what its field expects (a picture for `image`, a video for `video`, sound for
/// `music.file`), without libav: the supervisor runs it at pick-up so a bad job is rejected before any worker,
/// and the worker's plan runs it before its full decode so both report the same problem the same way.
public enum AssetHeaderCheck {
    /// The assets of `m` with their fields, in the order problems are reported.
    public static func assets(of m: JobManifest) -> [(field: String, path: String, expected: MediaHeader.Kind)] {
        var out: [(String, String, MediaHeader.Kind)] = []
        for (i, scene) in m.scenes.enumerated() {
            if let image = scene.image { out.append(("scenes[\(i)].image", image, .image)) }
            if let video = scene.video { out.append(("scenes[\(i)].video", video, .video)) }
            if let audio = scene.narrationAudio { out.append(("scenes[\(i)].narration_audio", audio, .audio)) }
        }
        if let music = m.music.file, m.music.engine == .file { out.append(("music.file", music, .audio)) }
        return out
    }

    /// One problem per asset whose header is refused; empty when every header fits its field.
    public static func problems(in m: JobManifest, file: String) -> [ManifestError] {
        assets(of: m).compactMap { problem(path: $0.path, field: $0.field, expected: $0.expected, file: file) }
    }

    /// The problem with one asset, or nil when its header is what `expected` asks for.
    public static func problem(path: String, field: String, expected: MediaHeader.Kind, file: String) -> ManifestError? {
        let name = (path as NSString).lastPathComponent
        let header: MediaHeader
        do {
            header = try MediaHeaders.read(path: path)
        } catch {
            if case .tooLarge(_, _, _, let limit) = error {
                return ManifestError(.outOfRange, file: file, field: field, found: "\(name), \(error)",
                                     expected: "a picture at most \(limit) pixels on a side")
            }
            return ManifestError(.unreadableAsset, file: file, field: field, found: "\(name), \(error)", expected: wanted(expected))
        }
        guard header.kinds.contains(expected) else {
            let holds = header.kinds == [.audio] ? " with sound only" : header.kinds == [.video] && expected == .audio ? " with no sound" : ""
            return ManifestError(.unreadableAsset, file: file, field: field, found: "\(name), which is \(header.format.name)\(holds)",
                                 expected: wanted(expected) + hint(header, expected))
        }
        return nil
    }

    static func wanted(_ kind: MediaHeader.Kind) -> String {
        switch kind {
        case .image: "a JPEG, PNG, WebP or BMP image"
        case .video: "a video file (MP4, MOV, MKV, WebM, AVI, MPEG, GIF)"
        case .audio: "an audio file (WAV, MP3, FLAC, Ogg, Opus, M4A, AAC)"
        }
    }

    /// When the file is fine but in the wrong field, say which field takes it.
    static func hint(_ header: MediaHeader, _ expected: MediaHeader.Kind) -> String {
        if header.format == .heif { return " (export the photo as JPEG)" }
        if expected == .video && header.kinds.contains(.image) { return " (a still picture goes in the scene's image field)" }
        if expected == .image && header.kinds.contains(.video) { return " (a clip goes in the scene's video field)" }
        return ""
    }
}
