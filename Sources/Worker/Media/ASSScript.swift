import Foundation

/// A timed caption: one to a few lines of words, each word with the time it is spoken (for the
/// word-highlight look). The words are the script's own, character for character.
public struct Cue: Sendable, Equatable, Codable {
    public struct Word: Sendable, Equatable, Codable {
        public var text: String
        /// A space stood before this word in the script (false inside Chinese or Japanese text).
        public var spaceBefore: Bool
        public var start: Double
        public var end: Double
        public init(text: String, spaceBefore: Bool = true, start: Double, end: Double) {
            self.text = text; self.spaceBefore = spaceBefore; self.start = start; self.end = end
        }
    }

    public var start: Double
    public var end: Double
    public var lines: [[Word]]

    public init(start: Double, end: Double, lines: [[Word]]) { self.start = start; self.end = end; self.lines = lines }

    /// A cue from plain text, one line per `\n`, every word timed as the whole cue.
    public init(start: Double, end: Double, text: String) {
        self.init(start: start, end: end, lines: text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.split(separator: " ").enumerated().map { Word(text: String($1), spaceBefore: $0 > 0, start: start, end: end) }
        })
    }

    public var lineTexts: [String] { lines.map(Self.join) }
    /// The lines joined with `\n`.
    public var text: String { lineTexts.joined(separator: "\n") }

    static func join(_ words: [Word]) -> String {
        var s = ""
        for (i, w) in words.enumerated() {
            if i > 0 && w.spaceBefore { s += " " }
            s += w.text
        }
        return s
    }
}

/// How burned captions look. Colours are 0xRRGGBB.
public struct CaptionStyle: Sendable, Equatable {
    public enum Position: Sendable, Equatable { case bottom, middle, top }
    public var font: String
    /// Pixels at the output height.
    public var size: Int
    public var color: UInt32
    /// Outline width in pixels (0: none). Ignored under a box.
    public var outline: Double
    public var outlineColor: UInt32
    /// A background box behind each line, with its colour and opacity (0...1); nil: outlined text.
    public var box: (color: UInt32, opacity: Double)?
    public var position: Position
    /// Distance from the frame's edge, in pixels.
    public var margin: Int
    /// Colour of the word being spoken (`highlight: word`); nil: no highlight.
    public var highlight: UInt32?

    public init(font: String = "DejaVu Sans", size: Int, color: UInt32 = 0xFFFFFF, outline: Double, outlineColor: UInt32 = 0x101010,
                box: (color: UInt32, opacity: Double)? = nil, position: Position = .bottom, margin: Int, highlight: UInt32? = nil) {
        self.font = font; self.size = size; self.color = color; self.outline = outline; self.outlineColor = outlineColor
        self.box = box; self.position = position; self.margin = margin; self.highlight = highlight
    }

    public static func == (a: CaptionStyle, b: CaptionStyle) -> Bool {
        a.font == b.font && a.size == b.size && a.color == b.color && a.outline == b.outline && a.outlineColor == b.outlineColor
            && a.box?.color == b.box?.color && a.box?.opacity == b.box?.opacity && a.position == b.position && a.margin == b.margin
            && a.highlight == b.highlight
    }
}

/// Text drawn over the picture that is not a caption: the title card and scene headings (lower thirds).
public struct TextOverlay: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// Large, centred, fading in and out: the video's title over its opening.
        case title
        /// Smaller, at the lower left above the captions, fading in and out: a scene's heading.
        case lowerThird
        /// The thumbnail's title: large, on a translucent dark box so it reads on any picture, no fade.
        case poster
    }
    public var text: String
    public var start: Double
    public var end: Double
    public var kind: Kind
    public init(text: String, start: Double, end: Double, kind: Kind) { self.text = text; self.start = start; self.end = end; self.kind = kind }
}

/// Advanced SubStation text: the caption format libass burns in and mov_text reads its style from.
public enum ASSScript {
    /// A complete script for `cues` in `style`, and `overlays` in styles derived from it. With a highlight colour
    /// each word gets its own event, the same text with only that word recoloured, so the layout never moves while
    /// the colour follows the voice.
    public static func document(cues: [Cue], overlays: [TextOverlay] = [], width: Int, height: Int, style: CaptionStyle) -> String {
        var text = header(width: width, height: height, style: style)
        text += overlayStyles(width: width, height: height, style: style)
        text += "\n[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
        for o in overlays where o.end > o.start {
            text += "Dialogue: 1,\(time(o.start)),\(time(o.end)),\(styleName(o.kind)),,0,0,0,,\(overlayBody(o, width: width, height: height))\n"
        }
        for cue in cues {
            guard let highlight = style.highlight else {
                text += dialogue(cue.start, cue.end, body(cue.lines))
                continue
            }
            let words = cue.lines.flatMap { $0 }
            var k = 0
            for (li, line) in cue.lines.enumerated() {
                for wi in line.indices {
                    // Each word's event runs until the next word starts; the first opens the cue, the last closes it.
                    let from = k == 0 ? cue.start : max(cue.start, min(cue.end, words[k].start))
                    let to = k == words.count - 1 ? cue.end : max(from, min(cue.end, words[k + 1].start))
                    if to > from { text += dialogue(from, to, body(cue.lines, highlight: (li, wi, highlight, style.color))) }
                    k += 1
                }
            }
        }
        return text
    }

    private static func dialogue(_ start: Double, _ end: Double, _ body: String) -> String {
        "Dialogue: 0,\(time(start)),\(time(end)),Default,,0,0,0,,\(body)\n"
    }

    private static func body(_ lines: [[Cue.Word]], highlight: (line: Int, word: Int, color: UInt32, base: UInt32)? = nil) -> String {
        lines.enumerated().map { li, line in
            var s = ""
            for (wi, w) in line.enumerated() {
                if wi > 0 && w.spaceBefore { s += " " }
                if let h = highlight, h.line == li, h.word == wi {
                    s += "{\\1c\(color(h.color))}" + escape(w.text) + "{\\1c\(color(h.base))}"
                } else {
                    s += escape(w.text)
                }
            }
            return s
        }.joined(separator: "\\N")
    }

    /// The script's header with one `Default` style.
    public static func header(width: Int, height: Int, style: CaptionStyle) -> String {
        let alignment: Int
        switch style.position {
        case .bottom: alignment = 2
        case .middle: alignment = 5
        case .top: alignment = 8
        }
        // BorderStyle 4 (libass 0.17) draws one box around the whole cue in the back colour, padded by the outline
        // width; the outline itself is made invisible. Style 3 would box each run of text separately, so a
        // highlighted word would show seams where the translucent boxes overlap.
        let borderStyle = style.box == nil ? 1 : 4
        let outlineColor = style.box == nil ? color(style.outlineColor) : color(0, alpha: 0)
        let backColor = style.box.map { color($0.color, alpha: $0.opacity) } ?? "&H80000000"
        let outline = style.box == nil ? style.outline : max(4, Double(style.size) / 4)
        let shadow = style.box == nil && style.outline > 0 ? 1 : 0
        let side = width / 12
        return """
        [Script Info]
        ScriptType: v4.00+
        PlayResX: \(width)
        PlayResY: \(height)
        WrapStyle: 2
        ScaledBorderAndShadow: yes

        [V4+ Styles]
        Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding
        Style: Default,\(style.font),\(style.size),\(color(style.color)),\(color(style.color)),\(outlineColor),\(backColor),0,0,0,0,100,100,0,0,\(borderStyle),\(number(outline)),\(shadow),\(alignment),\(side),\(side),\(style.margin),1

        """
    }

    /// The title in bold at a ninth of the frame's short side, centred; headings at the lower left, above two lines
    /// of captions, in a box.
    static func overlayStyles(width: Int, height: Int, style: CaptionStyle) -> String {
        let short = min(width, height)
        let titleSize = max(16, short / 9), lowerSize = max(12, short / 20)
        let side = width / 12
        let lowerMargin = style.margin + Int(Double(style.size) * 2.6) + lowerSize / 2
        // Captions in the middle would run across a centred title: it goes to the upper third then.
        let (titleAlignment, titleMargin) = style.position == .middle ? (8, height / 6) : (5, 0)
        return "Style: Title,\(style.font),\(titleSize),&H00FFFFFF,&H00FFFFFF,&H00101010,&H80000000,1,0,0,0,100,100,0,0,1,\(max(2, titleSize / 14)),2,\(titleAlignment),\(side),\(side),\(titleMargin),1\n"
            + "Style: Poster,\(style.font),\(short / 6),&H00FFFFFF,&H00FFFFFF,&HFF000000,\(color(0x000000, alpha: 0.6)),1,0,0,0,100,100,0,0,4,\(max(6, short / 40)),0,2,\(side),\(side),\(height / 10),1\n"
            + "Style: Lower,\(style.font),\(lowerSize),&H00FFFFFF,&H00FFFFFF,&HFF000000,\(color(0x000000, alpha: 0.55)),1,0,0,0,100,100,0,0,4,\(max(4, lowerSize / 3)),0,1,\(side),\(side),\(lowerMargin),1\n"
    }

    /// A title or heading broken into lines and sized by `TitleLayout` to fit the safe area. Text no size fits
    /// (`validate` refuses it; this is the fallback for callers that skip it) is left to libass to wrap at the
    /// smallest size.
    static func styleName(_ kind: TextOverlay.Kind) -> String {
        switch kind {
        case .title: "Title"
        case .lowerThird: "Lower"
        case .poster: "Poster"
        }
    }

    static func overlayBody(_ o: TextOverlay, width: Int, height: Int) -> String {
        let role: TitleLayout.Role = o.kind == .title ? .title : o.kind == .poster ? .poster : .heading
        let fade = o.kind == .title ? "\\fad(400,600)" : o.kind == .poster ? "" : "\\fad(300,300)"
        guard let fit = TitleLayout.fit(o.text, role: role, width: width, height: height) else {
            return "{\(fade)\\q0\\fs\(Int(Double(min(width, height)) * role.sizes.min))}" + escape(o.text)
        }
        return "{\(fade)\\q2\\fs\(fit.size)}" + fit.lines.map(escape).joined(separator: "\\N")
    }

    /// `&HAABBGGRR`, where AA is transparency (00 opaque).
    static func color(_ rgb: UInt32, alpha opacity: Double = 1) -> String {
        let a = UInt32(((1 - min(1, max(0, opacity))) * 255).rounded())
        let r = (rgb >> 16) & 0xFF, g = (rgb >> 8) & 0xFF, b = rgb & 0xFF
        return String(format: "&H%02X%02X%02X%02X", a, b, g, r)
    }

    private static func number(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(format: "%.2f", v) }

    /// Keeps the script's text literal: braces would start override tags, a backslash an escape.
    static func escape(_ text: String) -> String {
        // A word joiner after each backslash keeps a written "\N" or "\h" from becoming a line break or a space.
        text.replacingOccurrences(of: "\\", with: "\\\u{2060}").replacingOccurrences(of: "{", with: "\\{")
            .replacingOccurrences(of: "}", with: "\\}").replacingOccurrences(of: "\n", with: "\\N")
    }

    /// `h:mm:ss.cc`
    static func time(_ seconds: Double) -> String {
        let cs = Int((max(0, seconds) * 100).rounded())
        return String(format: "%d:%02d:%02d.%02d", cs / 360_000, (cs / 6000) % 60, (cs / 100) % 60, cs % 100)
    }
}

/// SubRip, the sidecar caption format every player reads.
public enum SRT {
    public static func document(cues: [Cue]) -> String {
        var out = ""
        for (i, cue) in cues.enumerated() {
            out += "\(i + 1)\n\(time(cue.start)) --> \(time(cue.end))\n\(cue.text)\n\n"
        }
        return out
    }

    static func time(_ seconds: Double) -> String {
        let ms = Int((max(0, seconds) * 1000).rounded())
        return String(format: "%02d:%02d:%02d,%03d", ms / 3_600_000, (ms / 60_000) % 60, (ms / 1000) % 60, ms % 1000)
    }

    /// Parses SubRip text back into cues (for checks and tests).
    public static func parse(_ text: String) -> [Cue] {
        var cues: [Cue] = []
        for block in text.components(separatedBy: "\n\n") {
            let lines = block.split(separator: "\n", omittingEmptySubsequences: true)
            guard lines.count >= 3, let arrow = lines[1].range(of: " --> ") else { continue }
            guard let start = seconds(String(lines[1][..<arrow.lowerBound])), let end = seconds(String(lines[1][arrow.upperBound...])) else { continue }
            cues.append(Cue(start: start, end: end, text: lines[2...].joined(separator: "\n")))
        }
        return cues
    }

    private static func seconds(_ s: String) -> Double? {
        let parts = s.replacingOccurrences(of: ",", with: ".").split(separator: ":")
        guard parts.count == 3, let h = Double(parts[0]), let m = Double(parts[1]), let sec = Double(parts[2]) else { return nil }
        return h * 3600 + m * 60 + sec
    }
}

/// WebVTT, for web players (`<track>`).
public enum WebVTT {
    public static func document(cues: [Cue], language: String? = nil) -> String {
        var out = "WEBVTT\n"
        if let language { out += "Language: \(language)\n" }
        out += "\n"
        for (i, cue) in cues.enumerated() {
            out += "\(i + 1)\n\(time(cue.start)) --> \(time(cue.end))\n"
            out += cue.lineTexts.map(escape).joined(separator: "\n") + "\n\n"
        }
        return out
    }

    /// `&`, `<` and `>` start markup in a cue's text.
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    static func time(_ seconds: Double) -> String {
        let ms = Int((max(0, seconds) * 1000).rounded())
        return String(format: "%02d:%02d:%02d.%03d", ms / 3_600_000, (ms / 60_000) % 60, (ms / 1000) % 60, ms % 1000)
    }
}
