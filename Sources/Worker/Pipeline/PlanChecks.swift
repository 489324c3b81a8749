import Engines
import Foundation
import Manifest
import Media
import MediaHeaders

/// Voices checked at plan: a voice espeak-ng does not know is an invalid manifest (exit 2, with a
/// did-you-mean), not a failure when speech starts; a voice given a script it cannot read is a warning.
enum VoiceCheck {
    /// Each distinct voice with the field that names it.
    static func voices(_ m: JobManifest) -> [(field: String, voice: JobManifest.Voice)] {
        var out: [(String, JobManifest.Voice)] = [("voice", m.voice)]
        for (i, scene) in m.scenes.enumerated() where scene.voice != m.voice { out.append(("scenes[\(i)].voice", scene.voice)) }
        return out
    }

    static func validate(_ m: JobManifest, file: String) throws(PipelineError) {
        var errors: [ManifestError] = []
        for (field, voice) in voices(m) where voice.engine != .piper {
            if let expected = EspeakVoices.problem(with: voice.voice) {
                errors.append(ManifestError(.invalidValue, file: file, field: field + ".voice", found: "\"\(voice.voice)\"", expected: expected))
            }
        }
        if !errors.isEmpty { throw PipelineError(ManifestErrors(errors: errors)) }
    }

    static func warnings(_ m: JobManifest) -> [String] {
        m.scenes.enumerated().compactMap { i, scene in
            let scripts = ScriptFit.unreadable(scene.narration, language: scene.voice.voice, engine: scene.voice.engine)
            guard !scripts.isEmpty else { return nil }
            let field = scene.voice == m.voice ? "voice.voice" : "scenes[\(i)].voice.voice"
            return "scenes[\(i)]: the narration has \(scripts.map(\.rawValue).joined(separator: " and ")), which the voice \"\(scene.voice.voice)\" cannot read aloud (it spells them out or skips them); set \(field) to a voice for that language, such as \(suggestion(scripts[0], voice: scene.voice.voice))"
        }
    }

    private static func suggestion(_ s: ScriptFit.Script, voice: String) -> String {
        switch s {
        case .han where voice.lowercased().hasPrefix("ja"): "ja with the Kokoro voice (`prostudio models install kokoro-ja`), or the kanji written in kana (espeak-ng's ja reads kana only)"
        case .han: "cmn (Mandarin) or yue (Cantonese)"
        case .kana: "ja (espeak-ng reads kana only; write kanji in kana)"
        case .hangul: "ko"
        case .arabic: "ar or fa"
        case .hebrew: "he"
        case .cyrillic: "ru, uk or bg"
        case .greek: "el"
        case .thai: "th"
        case .devanagari: "hi or mr"
        }
    }
}

/// Scene images, clips and the music file opened at plan: a file libav cannot read is an invalid manifest naming its
/// field (not a failure at compose after speech and music ran); a picture enlarged more than twice is a warning.
/// The supervisor's header check (`AssetHeaderCheck`, no libav) runs first with the same limits, so what it refuses
/// at pick-up is refused here in the same words; the decode below catches what a header cannot show.
enum AssetCheck {
    static let maxSide = MediaLimits.maxPictureSide

    static func validate(_ m: JobManifest, file: String) throws(PipelineError) {
        var errors: [ManifestError] = []
        // One problem per field: an asset its header already refuses is not decoded (a 20000x20000 PNG would take gigabytes).
        var refused = Set<String>()
        for asset in AssetHeaderCheck.assets(of: m) {
            if let problem = AssetHeaderCheck.problem(path: asset.path, field: asset.field, expected: asset.expected, file: file) {
                errors.append(problem)
                refused.insert(asset.field)
            }
        }
        for (i, scene) in m.scenes.enumerated() {
            guard let image = scene.image, !refused.contains("scenes[\(i)].image") else { continue }
            let name = (image as NSString).lastPathComponent
            do {
                let info = try MediaReader.imageInfo(image)
                if max(info.width, info.height) > maxSide {
                    errors.append(ManifestError(.outOfRange, file: file, field: "scenes[\(i)].image", found: "\(name) at \(info.width)x\(info.height)",
                                                expected: "a picture at most \(maxSide) pixels on a side"))
                }
            } catch {
                errors.append(ManifestError(.unreadableAsset, file: file, field: "scenes[\(i)].image", found: "\(name), which is not a picture libav can read (\(error))",
                                            expected: "a JPEG, PNG, WebP or BMP image"))
            }
        }
        for (i, scene) in m.scenes.enumerated() {
            guard let video = scene.video, !refused.contains("scenes[\(i)].video") else { continue }
            let info = try? MediaReader.probe(video)
            if let v = info?.first(.video), v.width > 0 {
                if scene.start >= max(info?.duration ?? 0, v.duration) && max(info?.duration ?? 0, v.duration) > 0 {
                    errors.append(ManifestError(.outOfRange, file: file, field: "scenes[\(i)].start", found: "\(scene.start) s",
                                                expected: "a time inside the clip, which lasts \(String(format: "%.2f", max(info?.duration ?? 0, v.duration))) s"))
                }
            } else {
                errors.append(ManifestError(.unreadableAsset, file: file, field: "scenes[\(i)].video", found: "\((video as NSString).lastPathComponent), which holds no video libav can read",
                                            expected: "a video file (MP4, MOV, MKV, WebM, ...)"))
            }
        }
        if let music = m.music.file, m.music.engine == .file, !refused.contains("music.file") {
            let info = try? MediaReader.probe(music)
            if info?.first(.audio) == nil {
                errors.append(ManifestError(.unreadableAsset, file: file, field: "music.file", found: "\((music as NSString).lastPathComponent), which holds no audio libav can read",
                                            expected: "an audio file (WAV, MP3, FLAC, Ogg, Opus, M4A)"))
            }
        }
        if !errors.isEmpty { throw PipelineError(ManifestErrors(errors: errors)) }
    }

    static func warnings(_ m: JobManifest) -> [String] {
        m.scenes.enumerated().compactMap { i, scene in
            guard let image = scene.image, let info = try? MediaReader.imageInfo(image) else { return nil }
            let still = Still(path: image, fit: scene.visuals.fit.flatMap { Still.Fit(rawValue: $0.rawValue) },
                              move: KenBurns(zoomIn: true, zoom: 0, panX: 0, panY: 0), backdrop: Background(colors: [], speed: 0, seed: 0))
            let factor = still.upscale(info, width: m.output.width, height: m.output.height)
            guard factor > 2 else { return nil }
            return "scenes[\(i)].image: \((image as NSString).lastPathComponent) is \(info.width)x\(info.height) and is shown \(String(format: "%.1f", factor))x enlarged in the \(m.output.width)x\(m.output.height) frame, so it will look soft; use a picture at least \(Int((Double(info.width) * factor / 2).rounded())) pixels wide"
        }
    }
}
