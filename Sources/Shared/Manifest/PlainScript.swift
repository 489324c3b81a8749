import Foundation

/// A plain script: paragraphs become scenes, everything else takes the defaults. In Markdown the first
/// `# heading` is the title; a later heading starts a new scene and is shown as its `heading` (a lower third);
/// an image on its own line (`![alt](file)`) belongs to the paragraph after it (or, at the end, the one before);
/// each list item is a sentence of its own; inline formatting is dropped.
enum PlainScript {
    /// What a script's front matter may set: the job's own fields, never its scenes (those are the text).
    static let frontMatterKeys = ["title", "seed", "voice", "output", "visuals", "music", "captions", "transitions", "poster", "lexicon", "chapters"]

    /// A script that starts with a `---` line holds YAML up to the next `---` (or `...`) line: the manifest's
    /// fields for the whole job (`voice: {voice: fr}`). Returns them, and the text after them with the number of
    /// lines they took, so later lines keep their numbers.
    static func frontMatter(_ text: String, file: String) throws(ManifestErrors) -> (pairs: [(key: String, node: DocNode)], body: String, lines: Int) {
        let lines = text.components(separatedBy: "\n")
        guard lines.first?.trimmingCharacters(in: .whitespaces) == "---",
              let end = lines.dropFirst().firstIndex(where: { ["---", "..."].contains($0.trimmingCharacters(in: .whitespaces)) }) else {
            return ([], text, 0)
        }
        // A blank first line keeps the YAML's line numbers those of the file.
        let yaml = "\n" + lines[1..<end].joined(separator: "\n")
        let body = lines[(end + 1)...].joined(separator: "\n")
        guard !lines[1..<end].allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) else { return ([], body, end + 1) }
        let doc = try DocumentParser.parseYAML(yaml, file: file)
        guard case .map(let pairs) = doc.value else {
            throw ManifestErrors(errors: [ManifestError(.wrongType, file: file, field: nil, line: 2, found: "front matter that is not a mapping",
                                                        expected: "`key: value` lines between the two `---` lines")])
        }
        let refused = pairs.filter { !frontMatterKeys.contains($0.key) }.map { pair in
            ManifestError(.unknownField, file: file, field: pair.key, line: pair.node.line,
                          found: "`\(pair.key)` in a script's front matter",
                          expected: "one of \(frontMatterKeys.joined(separator: ", ")) (the scenes are the script's paragraphs)")
        }
        if !refused.isEmpty { throw ManifestErrors(errors: refused) }
        return (pairs, body, end + 1)
    }

    static func document(_ text: String, markdown: Bool, file: String) throws(ManifestErrors) -> DocNode {
        let (front, body, frontLines) = try frontMatter(text.replacingOccurrences(of: "\r\n", with: "\n"), file: file)
        let frontTitle = front.contains { $0.key == "title" }
        var title: String?
        var scenes: [(pairs: [(key: String, node: DocNode)], line: Int)] = []
        var lineNumber = frontLines
        var paragraph: [String] = []
        var pendingImage: (path: String, line: Int)?
        var pendingHeading: (text: String, line: Int)?
        var startLine = 1

        func scalar(_ s: String, _ line: Int) -> DocNode { DocNode(value: .scalar(text: s, plain: false), line: line) }

        func flush() {
            let narration = paragraph.joined(separator: " ").trimmingCharacters(in: .whitespaces)
            paragraph = []
            guard !narration.isEmpty else { return }
            var pairs: [(key: String, node: DocNode)] = [(key: "narration", node: scalar(narration, startLine))]
            if let image = pendingImage { pairs.append((key: "image", node: scalar(image.path, image.line))) }
            if let heading = pendingHeading { pairs.append((key: "heading", node: scalar(heading.text, heading.line))) }
            pendingImage = nil
            pendingHeading = nil
            scenes.append((pairs, startLine))
        }

        // CRLF is one line end: split as two (CR, then LF) it left an empty line after each, and every line of a
        // Windows script became a scene of its own. A lone CR (old Mac) is a line end of .newlines already.
        for raw in body.components(separatedBy: .newlines) {
            lineNumber += 1
            var line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { flush(); continue }
            if markdown {
                if line.hasPrefix("#") {
                    flush()
                    let heading = stripInline(line.drop(while: { $0 == "#" }).trimmingCharacters(in: .whitespaces))
                    if title == nil && !frontTitle && scenes.isEmpty && line.hasPrefix("# ") {
                        title = heading
                    } else if !heading.isEmpty {
                        pendingHeading = (heading, lineNumber)
                    }
                    continue
                }
                if let (alt, path) = imageReference(line) {
                    // An image line of its own ends the paragraph before it and waits for the next one.
                    if alt.isEmpty { flush() }
                    pendingImage = (path, lineNumber)
                    line = alt
                    if line.isEmpty { continue }
                }
                let item = line.hasPrefix("- ") || line.hasPrefix("* ") || line.hasPrefix("+ ") || isNumberedItem(line)
                line = stripInline(line)
                // A list item is a sentence of its own: "Drink water" and "Stop by 2 pm" must not run together.
                if item, let last = line.last, !".!?:;…".contains(last) { line += "." }
            }
            if paragraph.isEmpty { startLine = lineNumber }
            if !line.isEmpty { paragraph.append(line) }
        }
        flush()
        // An image or heading after the last paragraph belongs to it, when it has none of its own.
        if let image = pendingImage, !scenes.isEmpty, !scenes[scenes.count - 1].pairs.contains(where: { $0.key == "image" }) {
            scenes[scenes.count - 1].pairs.append((key: "image", node: scalar(image.path, image.line)))
        }
        var top = front
        if let title { top.append((key: "title", node: scalar(title, 1))) }
        top.append((key: "scenes", node: DocNode(value: .list(scenes.map { DocNode(value: .map($0.pairs), line: $0.line) }), line: 1)))
        return DocNode(value: .map(top), line: 1)
    }

    private static func isNumberedItem(_ line: String) -> Bool {
        let digits = line.prefix { $0.isNumber }
        return !digits.isEmpty && line.dropFirst(digits.count).hasPrefix(". ")
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
        if s.hasPrefix("- ") || s.hasPrefix("* ") || s.hasPrefix("+ ") { s.removeFirst(2) }
        if isNumberedItem(s) { s = String(s.drop { $0.isNumber }.dropFirst(2)) }
        return s.replacingOccurrences(of: "**", with: "").replacingOccurrences(of: "__", with: "")
            .replacingOccurrences(of: "`", with: "").replacingOccurrences(of: "*", with: "")
    }
}
