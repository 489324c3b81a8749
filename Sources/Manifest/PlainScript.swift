import Foundation

/// A plain script: paragraphs become scenes, everything else takes the defaults. In Markdown the first
/// `# heading` is the title, `![alt](file)` sets the scene's image, and inline formatting is dropped.
enum PlainScript {
    static func document(_ text: String, markdown: Bool, file: String) throws(ManifestErrors) -> DocNode {
        var title: String?
        var scenes: [DocNode] = []
        var lineNumber = 0
        var paragraph: [String] = []
        var image: String?
        var startLine = 1

        func flush() {
            let narration = paragraph.joined(separator: " ").trimmingCharacters(in: .whitespaces)
            if !narration.isEmpty || image != nil {
                var pairs: [(key: String, node: DocNode)] = [(key: "narration", node: DocNode(value: .scalar(text: narration, plain: false), line: startLine))]
                if let image { pairs.append((key: "image", node: DocNode(value: .scalar(text: image, plain: false), line: startLine))) }
                scenes.append(DocNode(value: .map(pairs), line: startLine))
            }
            paragraph = []
            image = nil
        }

        for raw in text.components(separatedBy: .newlines) {
            lineNumber += 1
            var line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { flush(); continue }
            if paragraph.isEmpty && image == nil { startLine = lineNumber }
            if markdown {
                if line.hasPrefix("#") {
                    let heading = line.drop(while: { $0 == "#" }).trimmingCharacters(in: .whitespaces)
                    if title == nil && line.hasPrefix("# ") { title = heading }
                    flush()
                    continue
                }
                if let (alt, path) = imageReference(line) {
                    image = path
                    line = alt
                }
                line = stripInline(line)
            }
            if !line.isEmpty { paragraph.append(line) }
        }
        flush()
        var top: [(key: String, node: DocNode)] = []
        if let title { top.append((key: "title", node: DocNode(value: .scalar(text: title, plain: false), line: 1))) }
        top.append((key: "scenes", node: DocNode(value: .list(scenes), line: 1)))
        return DocNode(value: .map(top), line: 1)
    }

    /// `![alt](path)` on a line of its own (or leading one): returns the alt text and the path.
    private static func imageReference(_ line: String) -> (String, String)? {
        guard line.hasPrefix("!["), let close = line.range(of: "]("), let end = line.range(of: ")", range: close.upperBound..<line.endIndex) else { return nil }
        let alt = String(line[line.index(line.startIndex, offsetBy: 2)..<close.lowerBound])
        let path = String(line[close.upperBound..<end.lowerBound])
        let rest = String(line[end.upperBound...]).trimmingCharacters(in: .whitespaces)
        return (rest, path.isEmpty ? alt : path)
    }

    private static func stripInline(_ line: String) -> String {
        var s = line
        // [text](url) -> text
        while let open = s.range(of: "["), let mid = s.range(of: "](", range: open.upperBound..<s.endIndex),
              let close = s.range(of: ")", range: mid.upperBound..<s.endIndex) {
            s.replaceSubrange(open.lowerBound..<close.upperBound, with: s[open.upperBound..<mid.lowerBound])
        }
        if s.hasPrefix("> ") { s.removeFirst(2) }
        if s.hasPrefix("- ") || s.hasPrefix("* ") { s.removeFirst(2) }
        return s.replacingOccurrences(of: "**", with: "").replacingOccurrences(of: "__", with: "")
            .replacingOccurrences(of: "`", with: "").replacingOccurrences(of: "*", with: "")
    }
}
