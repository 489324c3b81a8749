import Foundation

/// A title or heading set to fit: the size it is drawn at and its lines.
public struct TitleFit: Sendable, Equatable {
    public var size: Int
    public var lines: [String]
}

/// Sets display text (the title card, scene headings, the thumbnail's title) inside the frame's safe area: wrapped
/// into balanced lines, at the largest size that fits, down to a floor below which it would no longer read as a
/// title. Widths are estimated from the bold sans-serif the styles name (DejaVu Sans Bold: lower case about 0.62
/// em across, capitals and digits about 0.72, wide capitals 0.9, CJK and emoji a full em), on the generous side so
/// the drawn text is never wider than the estimate.
public enum TitleLayout {
    public enum Role: Sendable, Equatable {
        /// The title card over the video's opening: up to 4 lines in the middle half of the frame.
        case title
        /// A scene's heading (lower third): up to 2 lines.
        case heading
        /// The thumbnail's title: up to 4 lines over up to 60% of the frame's height, larger than the card.
        case poster

        var maxLines: Int { self == .heading ? 2 : 4 }
        /// Largest and smallest size as a fraction of the frame's short side.
        var sizes: (max: Double, min: Double) {
            switch self {
            case .title: (1.0 / 9, 1.0 / 24)
            case .heading: (1.0 / 20, 1.0 / 30)
            case .poster: (1.0 / 6, 1.0 / 22)
            }
        }
        var heightShare: Double {
            switch self {
            case .title: 0.5
            case .heading: 0.2
            case .poster: 0.6
            }
        }
    }

    /// Line height as a multiple of the size (libass with DejaVu: ascent + descent ~1.17).
    static let lineHeight = 1.2

    /// Em widths of one character in bold sans-serif.
    static func advance(_ ch: Character) -> Double {
        guard let s = ch.unicodeScalars.first else { return 0 }
        if ch == " " { return 0.35 }
        if "MWmw@%".contains(ch) { return 0.95 }
        if ch.isUppercase || ch.isNumber { return 0.76 }
        if "iljtfr.,;:'!|()[]\"".contains(ch) { return 0.42 }
        if s.value >= 0x1100 && (s.properties.isEmojiPresentation || s.properties.isEmoji && s.value > 0x2000 || isWide(s.value)) { return 1.05 }
        return 0.66
    }

    static func isWide(_ v: UInt32) -> Bool {
        switch v {
        case 0x1100...0x115F, 0x2E80...0xA4CF, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x1F000...0x3FFFD: return true
        default: return false
        }
    }

    static func width(_ text: some StringProtocol) -> Double { text.reduce(0) { $0 + advance($1) } }

    /// The safe area's size for `role` in a `width` x `height` frame: the side margins the caption style keeps
    /// (a twelfth each: inside the 90% action-safe area every platform respects) and the role's share of the height.
    static func room(_ role: Role, width: Int, height: Int) -> (width: Double, height: Double) {
        (Double(width - 2 * (width / 12)), Double(height) * role.heightShare)
    }

    /// The largest size at which `text` fits, with its lines; nil when it does not fit even at the role's smallest
    /// size.
    public static func fit(_ text: String, role: Role, width: Int, height: Int) -> TitleFit? {
        let short = Double(min(width, height))
        let top = max(12, Int(short * role.sizes.max)), bottom = max(12, Int(short * role.sizes.min))
        let room = room(role, width: width, height: height)
        let words = tokens(text)
        guard !words.isEmpty else { return nil }
        var size = top
        while size >= bottom {
            let lineCount = min(role.maxLines, Int(room.height / (Double(size) * lineHeight)))
            if lineCount >= 1, let lines = wrap(words, columns: room.width / Double(size), maxLines: lineCount) {
                return TitleFit(size: size, lines: lines)
            }
            size -= max(1, size / 20)
        }
        return nil
    }

    /// Words, where a wide (CJK) character is a word of its own so that unspaced text can wrap too.
    static func tokens(_ text: String) -> [(text: String, spaceBefore: Bool)] {
        var out: [(String, Bool)] = []
        for (k, word) in text.split(whereSeparator: \.isWhitespace).enumerated() {
            var current = ""
            var first = true
            for ch in word {
                if let v = ch.unicodeScalars.first?.value, isWide(v), !ch.unicodeScalars.first!.properties.isEmoji, !current.isEmpty {
                    out.append((current, first && k > 0)); first = false; current = ""
                }
                current.append(ch)
            }
            if !current.isEmpty { out.append((current, first && k > 0)) }
        }
        return out
    }

    /// Balanced lines of at most `columns` ems: the fewest lines greedy wrapping needs, then the narrowest
    /// limit that keeps that count, so the lines come out of similar length. Nil when a word is wider than a
    /// line or more than `maxLines` lines are needed.
    static func wrap(_ words: [(text: String, spaceBefore: Bool)], columns: Double, maxLines: Int) -> [String]? {
        guard let lines = greedy(words, columns: columns), lines.count <= maxLines else { return nil }
        if lines.count == 1 { return lines }
        var lo = words.map { width($0.text) }.max() ?? 0, hi = columns
        var best = lines
        for _ in 0..<20 {
            let mid = (lo + hi) / 2
            if let l = greedy(words, columns: mid), l.count <= lines.count { best = l; hi = mid } else { lo = mid }
        }
        return best
    }

    static func greedy(_ words: [(text: String, spaceBefore: Bool)], columns: Double) -> [String]? {
        var lines: [String] = []
        var current = ""
        for w in words {
            guard width(w.text) <= columns else { return nil }
            let candidate = current.isEmpty ? w.text : current + (w.spaceBefore ? " " : "") + w.text
            if width(candidate) <= columns { current = candidate } else { lines.append(current); current = w.text }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    /// The most characters of typical text (lower case with spaces) `role` can hold in this frame: the limit a
    /// refused title is told.
    public static func capacity(_ role: Role, width: Int, height: Int) -> Int {
        let size = Double(max(12, Int(Double(min(width, height)) * role.sizes.min)))
        let room = room(role, width: width, height: height)
        let lines = min(role.maxLines, Int(room.height / (size * lineHeight)))
        return Int(room.width / size / 0.64) * lines
    }
}
