/// Which writing systems a voice's language can read aloud. A voice given text in another script spells
/// it out letter by letter ("Chinese letter") or skips it, which nobody wants to hear.
public enum ScriptFit {
    public enum Script: String, CaseIterable, Sendable {
        case han = "Chinese characters (Han)", kana = "Japanese kana", hangul = "Korean Hangul", arabic = "Arabic script",
             hebrew = "Hebrew script", cyrillic = "Cyrillic script", greek = "Greek script", thai = "Thai script",
             devanagari = "Devanagari script"

        /// Language codes (before any `-`) whose voices read the script.
        var readers: Set<String> {
            switch self {
            case .han: ["cmn", "yue", "zh", "hak"]
            case .kana: ["ja"]
            case .hangul: ["ko"]
            case .arabic: ["ar", "fa", "ur", "ps", "sd", "ug", "ku"]
            case .hebrew: ["he"]
            case .cyrillic: ["ru", "uk", "bg", "be", "mk", "sr", "kk", "ky", "ba", "tt", "cv", "mn", "tg"]
            case .greek: ["el", "grc"]
            case .thai: ["th"]
            case .devanagari: ["hi", "mr", "ne", "sa", "bpy", "kok"]
            }
        }

        static func of(_ s: Unicode.Scalar) -> Script? {
            switch s.value {
            case 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xF900...0xFAFF, 0x20000...0x3134F: .han
            case 0x3040...0x30FF, 0x31F0...0x31FF, 0xFF66...0xFF9F: .kana
            case 0x1100...0x11FF, 0xAC00...0xD7AF, 0x3130...0x318F: .hangul
            case 0x0600...0x06FF, 0x0750...0x077F, 0x08A0...0x08FF, 0xFB50...0xFDFF, 0xFE70...0xFEFF: .arabic
            case 0x0590...0x05FF: .hebrew
            case 0x0400...0x052F: .cyrillic
            case 0x0370...0x03FF: .greek
            case 0x0E00...0x0E7F: .thai
            case 0x0900...0x097F: .devanagari
            default: nil
            }
        }
    }

    /// The scripts in `text` that a voice speaking `language` (such as `en-us`) cannot read, in order of
    /// first appearance. Kokoro's Japanese reads kanji (MeCab readings); espeak-ng's spells them out. `auto` is
    /// taken to be able (it picks Kokoro when a Japanese pack is installed): the pipeline checks again once the
    /// engine is known.
    public static func unreadable(_ text: String, language: String, engine: JobManifest.Voice.Engine = .espeak) -> [Script] {
        let lang = language.lowercased().split(separator: "-").first.map(String.init) ?? ""
        let kanjiRead = lang == "ja" && (engine == .kokoro || engine == .auto)
        var found: [Script] = []
        for s in text.unicodeScalars {
            if let script = Script.of(s), !found.contains(script), !script.readers.contains(lang), !(script == .han && kanjiRead) {
                found.append(script)
            }
        }
        return found
    }
}
