import Foundation
import Spawn
import Manifest
import Media

/// Display text checked at plan: a title or heading no size can fit inside the frame's safe area is an invalid
/// manifest naming the field and the limit; a character no installed font can draw is a warning naming it.
enum TextCheck {
    /// The title (on the card and the thumbnail) and every heading, with the field that holds it and its role.
    static func texts(_ m: JobManifest) -> [(field: String, text: String, role: TitleLayout.Role)] {
        var out: [(String, String, TitleLayout.Role)] = []
        if let title = m.title, !title.isEmpty {
            if m.titleCard { out.append(("title", title, .title)) }
            if m.poster.title { out.append(("title", title, .poster)) }
        }
        for (i, scene) in m.scenes.enumerated() {
            if let h = scene.heading, !h.isEmpty { out.append(("scenes[\(i)].heading", h, .heading)) }
        }
        return out
    }

    static func validate(_ m: JobManifest, file: String) throws(PipelineError) {
        var errors: [ManifestError] = []
        var named = Set<String>()
        for (field, text, role) in texts(m) where !named.contains(field) {
            let (w, h) = role == .poster ? PosterSize.of(m) : (m.output.width, m.output.height)
            guard TitleLayout.fit(text, role: role, width: w, height: h) == nil else { continue }
            named.insert(field)
            let what = role == .heading ? "a heading" : role == .poster ? "a thumbnail title" : "a title"
            let longest = text.split(whereSeparator: { $0.isWhitespace }).map(String.init).max { $0.count < $1.count } ?? text
            errors.append(ManifestError(.outOfRange, file: file, field: field,
                                        found: "\(text.count) characters (longest word \"\(longest.prefix(40))\")",
                                        expected: "\(what) that fits the \(w)x\(h) frame's safe area at its smallest size: at most about \(TitleLayout.capacity(role, width: w, height: h)) characters on \(role == .heading ? 2 : 4) lines, no word wider than a line"))
        }
        if !errors.isEmpty { throw PipelineError(ManifestErrors(errors: errors)) }
    }

    /// One warning per field whose text has characters no installed font has (libass would draw boxes).
    static func warnings(_ m: JobManifest) -> [String] {
        var fields: [(String, String)] = texts(m).map { ($0.field, $0.text) }
        if m.captions.mode == .burn {
            for (i, scene) in m.scenes.enumerated() { fields.append(("scenes[\(i)].narration", scene.narration)) }
        }
        var seen = Set<String>()
        var missingCache: [Unicode.Scalar: Bool] = [:]
        return fields.compactMap { field, text in
            guard seen.insert(field).inserted else { return nil }
            let missing = drawable(text).filter { scalar in
                if let known = missingCache[scalar] { return known }
                let gone = !FontCoverage.has(scalar)
                missingCache[scalar] = gone
                return gone
            }
            guard !missing.isEmpty else { return nil }
            let list = missing.prefix(8).map { "\"\($0)\" (U+\(String($0.value, radix: 16, uppercase: true)))" }.joined(separator: ", ")
            return "\(field): no installed font has \(list); it would be drawn as a box: install a font that has it (scripts/setup installs fonts-symbola for emoji) or leave it out"
        }
    }

    /// The distinct characters of `text` a font must draw (not spaces, joiners, variation selectors or marks).
    static func drawable(_ text: String) -> [Unicode.Scalar] {
        var seen = Set<Unicode.Scalar>()
        return text.unicodeScalars.filter { s in
            guard !s.isASCII else { return false }
            switch s.properties.generalCategory {
            case .nonspacingMark, .enclosingMark, .format, .control, .spaceSeparator, .lineSeparator, .paragraphSeparator: return false
            default: break
            }
            if (0xFE00...0xFE0F).contains(s.value) || (0x1F3FB...0x1F3FF).contains(s.value) { return false }
            return seen.insert(s).inserted
        }
    }
}

/// Whether fontconfig (what libass asks for fallback fonts) knows a font with a character.
enum FontCoverage {
    static func has(_ scalar: Unicode.Scalar) -> Bool {
        // Without fontconfig's tools there is nothing to ask: no warning rather than a false one.
        guard let run = try? ChildProcess.run("/usr/bin/fc-list", arguments: [":charset=\(String(scalar.value, radix: 16))", "family"])
        else { return true }
        let listed = run.stdout
        return !listed.allSatisfy { $0 == 10 || $0 == 32 }
    }
}

/// The thumbnail's size: the platform's for the video's shape (1280x720 for 16:9, 1080x1920 for 9:16, 1080x1080
/// square), the video's own size for other shapes.
public enum PosterSize {
    public static func of(_ m: JobManifest) -> (width: Int, height: Int) { of(width: m.output.width, height: m.output.height) }

    public static func of(width: Int, height: Int) -> (width: Int, height: Int) {
        let aspect = Double(width) / Double(height)
        if abs(aspect - 16.0 / 9) < 0.02 { return (1280, 720) }
        if abs(aspect - 9.0 / 16) < 0.02 { return (1080, 1920) }
        if abs(aspect - 1) < 0.02 { return (1080, 1080) }
        return (width - width % 2, height - height % 2)
    }
}
