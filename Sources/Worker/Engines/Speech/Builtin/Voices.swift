import Foundation
import Synchronization

/// The voices this espeak-ng knows (from the helper's VOICES mode), to refuse a misspelt voice when the
/// manifest is checked instead of when the job runs.
public enum EspeakVoices {
    struct Entry: Sendable { var language: String; var name: String; var file: String }

    private static let cache = Mutex<[Entry]?>(nil)

    static func entries() -> [Entry] {
        if let known = cache.withLock({ $0 }) { return known }
        guard let (status, reply, _) = try? EspeakHelper.run(Data("VOICES\n".utf8)), status == 0 else { return [] }
        let entries = String(decoding: reply, as: UTF8.self).split(separator: "\n").compactMap { line -> Entry? in
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            return f.count == 3 ? Entry(language: f[0], name: f[1], file: f[2]) : nil
        }
        cache.withLock { $0 = entries }
        return entries
    }

    /// Every voice this espeak-ng has, as (language, name), for listings (the MCP server's `list_voices`).
    public static func list() -> [(language: String, name: String)] { entries().map { ($0.language, $0.name) } }

    /// Nil when espeak-ng accepts `voice` (a language such as `en-us`, a voice name, or a voice file's name),
    /// else what to say: the expectation, with a did-you-mean where one is close. Nil too when the voice list
    /// cannot be read (the helper is missing): synthesis will then say so itself.
    public static func problem(with voice: String) -> String? {
        let all = entries()
        guard !all.isEmpty else { return nil }
        let v = voice.lowercased()
        func norm(_ s: String) -> String { s.lowercased().replacingOccurrences(of: " ", with: "_") }
        if all.contains(where: { $0.language.lowercased() == v || norm($0.name) == norm(voice) || ($0.file as NSString).lastPathComponent.lowercased() == v }) {
            return nil
        }
        var expected = "an espeak-ng voice such as en-us, en-gb, fr, de, es, cmn, ja (`espeak-ng --voices` lists them all)"
        if let guess = suggestion(for: v, in: all) { expected += " (did you mean \"\(guess)\"?)" }
        return expected
    }

    /// Codes people write for a region or language that espeak-ng names otherwise: the UK is `gb`, Latin American
    /// Spanish is `es-419`, Mandarin is `cmn`. Edit distance alone sent `en-uk` to `en-us`.
    static let aliases: [String: String] = [
        "en-uk": "en-gb", "en-en": "en-gb", "en-ie": "en-gb", "en-au": "en-gb", "en-nz": "en-gb", "en-ca": "en-us",
        "es-mx": "es-419", "es-us": "es-419", "es-ar": "es-419", "es-co": "es-419", "es-cl": "es-419", "es-es": "es",
        "pt-pt": "pt", "fr-fr": "fr", "fr-ca": "fr", "de-de": "de", "de-at": "de", "de-ch": "de", "it-it": "it",
        "zh": "cmn", "zh-cn": "cmn", "zh-tw": "cmn", "zh-hk": "yue", "jp": "ja", "ja-jp": "ja", "kr": "ko", "gr": "el",
        "cz": "cs", "dk": "da", "se": "sv", "ua": "uk",
    ]

    /// A known alias ("en-uk" -> "en-gb"), else a voice whose name starts with what was written ("english" -> "en"),
    /// else the closest language code.
    static func suggestion(for v: String, in all: [Entry]) -> String? {
        if let alias = aliases[v], all.contains(where: { $0.language.lowercased() == alias }) { return alias }
        let byName = all.filter { $0.name.lowercased().hasPrefix(v) }.map(\.language)
        if let shortest = byName.min(by: { ($0.count, $0) < ($1.count, $1) }) { return shortest }
        let scored = Set(all.map { $0.language.lowercased() }).map { ($0, distance($0, v)) }.filter { $0.1 <= 2 }
        return scored.min(by: { ($0.1, $0.0) < ($1.1, $1.0) })?.0
    }

    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var row = Array(0...b.count)
        for i in 1...max(1, a.count) where !a.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                let old = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = old
            }
        }
        return a.isEmpty ? b.count : row[b.count]
    }
}
