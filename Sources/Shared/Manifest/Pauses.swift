import Foundation

/// Pauses written in a narration: `[pause 0.8s]` (or `[pause 500ms]`), and a blank line inside it (a paragraph
/// end, a shorter pause). The narration keeps its length with each mark blanked to spaces, so captions and
/// word offsets stay where they were and never show the markup; the voice stops for the pause at its place.
public enum Pauses {
    public static let paragraph = 0.6
    public static let range = 0.05...10.0

    /// The narration with its marks blanked, its pauses, and a problem for each mark that cannot be read.
    static func parse(_ narration: String) -> (text: String, pauses: [JobManifest.Scene.Pause], problems: [(found: String, expected: String)]) {
        var scalars = Array(narration.unicodeScalars)
        var pauses: [JobManifest.Scene.Pause] = []
        var problems: [(String, String)] = []
        var i = 0
        while i < scalars.count {
            if scalars[i] == "[", let close = scalars[i...].firstIndex(of: "]") ?? Optional(scalars.count),
               String(String.UnicodeScalarView(scalars[i..<min(scalars.count, i + 6)])).lowercased() == "[pause" {
                let mark = String(String.UnicodeScalarView(scalars[i..<min(scalars.count, close + 1)]))
                if let seconds = seconds(mark), range.contains(seconds) {
                    pauses.append(.init(offset: i, seconds: seconds))
                    for k in i...close { scalars[k] = " " }
                    i = close + 1
                    continue
                }
                problems.append(("\"\(mark)\"", "a pause mark such as [pause 0.8s] or [pause 500ms], from \(range.lowerBound) to \(range.upperBound) seconds"))
                i = close + 1
                continue
            }
            // A blank line: the end of a paragraph.
            if scalars[i] == "\n" {
                var j = i + 1
                while j < scalars.count, scalars[j] == " " || scalars[j] == "\t" || scalars[j] == "\r" { j += 1 }
                if j < scalars.count, scalars[j] == "\n" {
                    pauses.append(.init(offset: i, seconds: paragraph))
                    while j < scalars.count, scalars[j].properties.isWhitespace { j += 1 }
                    i = j
                    continue
                }
            }
            i += 1
        }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return (String(view), pauses, problems)
    }

    /// `[pause 0.8s]`, `[pause 0.8 s]`, `[pause 800ms]`, `[pause 2]` (seconds).
    static func seconds(_ mark: String) -> Double? {
        guard mark.hasSuffix("]") else { return nil }
        var body = mark.dropFirst("[pause".count).dropLast().trimmingCharacters(in: .whitespaces).lowercased()
        var scale = 1.0
        if body.hasSuffix("ms") { scale = 0.001; body.removeLast(2) } else if body.hasSuffix("s") { body.removeLast() }
        guard let v = Double(body.trimmingCharacters(in: .whitespaces)), v.isFinite else { return nil }
        return v * scale
    }

    /// The narration cut at its pauses: each part with its offset (Unicode scalars) and the pause after it.
    public static func split(_ narration: String, _ pauses: [JobManifest.Scene.Pause]) -> [(text: String, offset: Int, pauseAfter: Double)] {
        let scalars = Array(narration.unicodeScalars)
        var parts: [(String, Int, Double)] = []
        var start = 0
        for p in pauses.sorted(by: { $0.offset < $1.offset }) where p.offset >= start && p.offset <= scalars.count {
            parts.append((String(String.UnicodeScalarView(scalars[start..<p.offset])), start, p.seconds))
            start = p.offset
        }
        parts.append((String(String.UnicodeScalarView(scalars[start...])), start, 0))
        return parts
    }
}
