import Engines
import Foundation
import Spawn
import Manifest
import Media

/// The manifest's `captions:` as the style Media burns.
enum CaptionLook {
    static func style(for m: JobManifest) -> CaptionStyle {
        let c = m.captions
        let width = m.output.width, height = m.output.height
        let margin: Int
        switch c.position {
        // Short-form platforms lay their buttons and descriptions over the bottom fifth of a vertical video.
        case .bottom: margin = height > width ? height / 5 : max(8, height / 18)
        case .top, .middle: margin = max(8, height / 18)
        }
        return CaptionStyle(font: c.font, size: c.size, color: rgb(c.color), outline: c.outline ?? Double(max(1, c.size / 12)),
                            box: c.box.map { (rgb($0.color), $0.opacity) },
                            position: c.position == .top ? .top : c.position == .middle ? .middle : .bottom, margin: margin,
                            highlight: c.highlight == .word ? rgb(c.highlightColor) : nil)
    }

    /// A warning when fontconfig does not have the family `captions.font` names (libass would quietly draw the
    /// captions in another font). Nil when it does, or when fontconfig's `fc-match` cannot be run.
    static func fontWarning(_ m: JobManifest) -> String? {
        let family = m.captions.font
        guard m.captions.mode == .burn, family != JobManifest.Captions.defaultFont else { return nil }
        guard let run = try? ChildProcess.run("/usr/bin/fc-match", arguments: ["-f", "%{family}", family]), run.status == 0 else { return nil }
        let matched = String(decoding: run.stdout, as: UTF8.self)
        let families = matched.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard !families.contains(family.lowercased()) else { return nil }
        return "captions.font: the font \"\(family)\" is not installed, so captions would be drawn in \"\(families.first ?? "?")\"; install it or name one `fc-list : family` shows"
    }

    /// `#RRGGBB` (the decoder has normalised it) as 0xRRGGBB.
    static func rgb(_ hex: String) -> UInt32 { UInt32(hex.dropFirst(), radix: 16) ?? 0xFFFFFF }
}

/// The job's language, as the caption track and the WebVTT file label it.
struct CaptionLanguage {
    /// BCP 47 as the voice gives it (`en-us`).
    var bcp47: String
    /// ISO 639-2 for the MP4 track (`eng`); `und` when unknown.
    var iso639_2: String

    init(voice: String) {
        bcp47 = voice
        let base = voice.lowercased().split(separator: "-").first.map(String.init) ?? ""
        iso639_2 = Self.codes[base] ?? "und"
    }

    static let codes: [String: String] = [
        "en": "eng", "fr": "fra", "de": "deu", "es": "spa", "it": "ita", "pt": "por", "nl": "nld", "ja": "jpn", "zh": "zho",
        "cmn": "zho", "yue": "zho", "ko": "kor", "ar": "ara", "he": "heb", "ru": "rus", "uk": "ukr", "pl": "pol", "sv": "swe",
        "da": "dan", "nb": "nor", "no": "nor", "fi": "fin", "tr": "tur", "el": "ell", "hi": "hin", "cs": "ces", "hu": "hun",
        "ro": "ron", "th": "tha", "vi": "vie", "id": "ind", "ca": "cat", "bg": "bul", "hr": "hrv", "sk": "slk", "sl": "slv",
    ]
}
