import Foundation

/// Advanced SubStation text: the caption format libass burns in and mov_text reads its style from.
public enum ASSScript {
    public enum Position: Sendable { case bottom, middle, top }

    /// A complete script: captions in a white, outlined sans-serif, one style for the whole video.
    public static func document(cues: [Cue], width: Int, height: Int, fontSize: Int, position: Position) -> String {
        let alignment: Int
        switch position {
        case .bottom: alignment = 2
        case .middle: alignment = 5
        case .top: alignment = 8
        }
        var text = header(width: width, height: height, fontSize: fontSize, alignment: alignment, marginV: max(8, height / 18))
        text += "\n[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
        for cue in cues {
            text += "Dialogue: 0,\(time(cue.start)),\(time(cue.end)),Default,,0,0,0,,\(escape(cue.text))\n"
        }
        return text
    }

    static func header(width: Int, height: Int, fontSize: Int, alignment: Int, marginV: Int) -> String {
        let outline = max(1, fontSize / 12)
        return """
        [Script Info]
        ScriptType: v4.00+
        PlayResX: \(width)
        PlayResY: \(height)
        WrapStyle: 0
        ScaledBorderAndShadow: yes

        [V4+ Styles]
        Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding
        Style: Default,DejaVu Sans,\(fontSize),&H00FFFFFF,&H00FFFFFF,&H00101010,&H80000000,0,0,0,0,100,100,0,0,1,\(outline),1,\(alignment),\(width / 12),\(width / 12),\(marginV),1

        """
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "{", with: "\\{")
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
