import Foundation

/// A scene's card as an ASS script: the panel, the key phrase revealed word by word as the voice reaches it, a
/// figure counting up, list items arriving as they are spoken, a quote on its own card. Times are seconds from the
/// scene's first frame; `time(offset)` gives when the voice reaches a Unicode-scalar offset of the narration.
public struct CardScript: Sendable {
    public var idea: SceneIdea
    public var layout: CardLayout
    public var palette: CardPalette
    /// The scene's length in seconds.
    public var duration: Double
    /// Phrase cards alternate between two layouts scene by scene, so consecutive idea scenes differ in shape.
    public var variant: Int
    public var font = "DejaVu Sans"
    /// Nothing shows before this (seconds): the first scene's card waits for the title card to leave.
    public var notBefore: Double = 0
    /// A Material Icons name drawn on the card (by the font's ligature), or nil: type only. Phrase, figure and list cards
    /// show it; a quote card does not (the quote is the picture, and an icon beside someone's words would speak for them).
    public var icon: String?

    public init(idea: SceneIdea, layout: CardLayout, palette: CardPalette, duration: Double, variant: Int) {
        self.idea = idea; self.layout = layout; self.palette = palette; self.duration = duration; self.variant = variant
    }

    public func document(time voice: (Int) -> Double) -> String {
        let time = { (offset: Int) in max(notBefore, voice(offset)) }
        var events: [String] = []
        switch idea.kind {
        case .number: events = numberCard(time)
        case .list: events = listCard(time)
        case .quote: events = quoteCard(time)
        case .phrase: events = phraseCard(time)
        }
        return header + events.joined(separator: "\n") + "\n"
    }

    // MARK: cards

    private func phraseCard(_ time: (Int) -> Double) -> [String] {
        let l = layout
        let text = idea.keyPhrase.text
        let size = l.fitting(text, fraction: 0.13, maxLines: 3)
        var out: [String] = []
        let iconSize = Int(Double(size) * 1.8)
        if let icon, variant % 2 == 0 || l.isPortrait {
            // Above the phrase, arriving with it.
            let iy = l.top + (l.cardHeight - Int(Double(size) * 2.6) - iconSize) / 2 + iconSize / 2 - iconSize / 3
            out.append(event(layer: 1, "{\\an5\\pos(\(l.width / 2),\(max(l.top + iconSize / 2, iy)))\\fn\(IconFont.family)\\fs\(iconSize)\\bord0\\shad0\\c\(palette.accentASS)\\fad(300,0)}" + icon))
        } else if let icon {
            // Beside a left-aligned phrase, at the card's right.
            out.append(event(layer: 1, "{\\an6\\pos(\(l.right - Int(l.unit * 0.03)),\(l.centreY))\\fn\(IconFont.family)\\fs\(Int(Double(iconSize) * 1.3))\\bord0\\shad0\\c\(palette.accentASS)\\fad(300,0)}" + icon))
        }
        if variant % 2 == 0 {
            // Centred, with an accent rule growing under it once the phrase is spoken.
            let y = l.centreY + (icon == nil ? 0 : iconSize / 2)
            out.append(event(layer: 1, "{\\an5\\pos(\(l.width / 2),\(y))\\fs\(size)\\b1\\c\(palette.textASS)}" + reveal(idea.keyPhrase, time)))
            let lines = estimatedLines(text, size: size)
            let ruleY = y + Int(Double(lines) * Double(size) * 0.62) + size / 3
            let ruleW = min(l.cardWidth / 2, Int(Double(size) * 4))
            let t0 = ms(time(idea.keyPhrase.offset + idea.keyPhrase.text.unicodeScalars.count) - notBefore)
            out.append(event(layer: 1, "{\\an7\\pos(\((l.width - ruleW) / 2),\(ruleY))\\p1\\bord0\\shad0\\c\(palette.accentASS)\\fscx0\\t(\(t0),\(t0 + 400),\\fscx100)}"
                             + rect(ruleW, max(4, size / 8))))
        } else {
            // Left-aligned beside a vertical accent bar.
            let x = l.left + Int(l.unit * 0.05)
            let size2 = l.fitting(text, fraction: 0.12, maxLines: 3, widthShare: icon == nil || l.isPortrait ? 0.9 : 0.65)
            let lines = estimatedLines(text, size: size2, share: 0.9)
            let blockH = Int(Double(lines) * Double(size2) * 1.2)
            let y = l.centreY - blockH / 2 + (icon != nil && l.isPortrait ? iconSize / 2 : 0)
            out.append(event(layer: 1, "{\\an7\\pos(\(l.left),\(y))\\p1\\bord0\\shad0\\c\(palette.accentASS)\\fscy0\\t(0,350,\\fscy100)}" + rect(max(6, size2 / 6), blockH)))
            out.append(event(layer: 1, "{\\an7\\pos(\(x),\(y))\\fs\(size2)\\b1\\q0\\c\(palette.textASS)}" + reveal(idea.keyPhrase, time), marginL: x, marginR: l.width - l.right))
        }
        return out
    }

    private func numberCard(_ time: (Int) -> Double) -> [String] {
        guard let a = idea.amount else { return phraseCard(time) }
        let l = layout
        // The unit is set at under half the figure's size: fit the figure plus that share of the unit's letters.
        let fitted = a.prefix + digits(a) + String(repeating: "x", count: Int(Double(a.suffix.count) * 0.45))
        let big = l.fitting(fitted, fraction: 0.2, maxLines: 1)
        let small = max(12, Int(Double(big) * 0.45))
        var y = l.top + Int(Double(l.cardHeight) * 0.42)
        let t0 = max(notBefore, time(a.offset) - 0.15)
        var out = [panel(fadeIn: 0)]
        // The icon above the figure, arriving with it. Where the card is short (16:9) the figure moves down to make room,
        // by at most an eighth of the card (the key phrase under it must still fit), and the icon shrinks for the rest.
        if let icon {
            let gap = l.cardHeight / 24
            var iconSize = min(Int(Double(big) * 1.1), l.cardHeight / 4)
            let short = l.top + gap + iconSize + gap + big / 2 - y
            if short > 0 {
                let shift = min(short, l.cardHeight / 8)
                y += shift
                iconSize -= short - shift
            }
            if iconSize >= 24 { out.append(iconEvent(icon, x: l.width / 2, y: y - big / 2 - gap - iconSize / 2, size: iconSize, from: t0)) }
        }
        let head = "{\\an5\\pos(\(l.width / 2),\(y))\\b1\\c\(palette.textASS)}"
        func line(_ figure: String) -> String {
            "{\\fs\(big)}\(esc(a.prefix + figure)){\\fs\(small)\\c\(palette.accentASS)}\(esc(a.suffix))"
        }
        if a.isYear {
            out.append(event(layer: 2, head + "{\\fad(250,0)\\fscx80\\fscy80\\t(0,300,\\fscx100\\fscy100)}" + line(digits(a)), from: t0))
        } else {
            // Count up over a second from when the figure is spoken, eased out, then hold the script's own text.
            let steps = 18, span = 1.0
            for k in 0..<steps {
                let p = Double(k) / Double(steps)
                let eased = 1 - pow(1 - p, 3)
                out.append(event(layer: 2, head + line(format(a.value * eased, like: a)), from: t0 + p * span, to: t0 + (p + 1 / Double(steps)) * span))
            }
            out.append(event(layer: 2, head + line(digits(a)), from: t0 + span))
        }
        // The key phrase under the figure, when it is not the figure itself.
        if !a.text.contains(idea.keyPhrase.text) {
            let ks = l.fitting(idea.keyPhrase.text, fraction: 0.065, maxLines: 2)
            let ky = y + big / 2 + ks + l.cardHeight / 16
            out.append(event(layer: 2, "{\\an8\\pos(\(l.width / 2),\(ky))\\fs\(ks)\\c\(palette.softASS)}" + reveal(idea.keyPhrase, time)))
        }
        return out
    }

    private func listCard(_ time: (Int) -> Double) -> [String] {
        let l = layout
        let items = Array(idea.items.prefix(6))
        let longest = items.map(\.text).max { $0.count < $1.count } ?? ""
        let rowShare = 1 / (Double(items.count) + 1.2)
        let beside = icon != nil && !l.isPortrait
        let size = min(l.fitting(longest, fraction: 0.075, maxLines: 1, widthShare: beside ? 0.62 : 0.8), Int(Double(l.cardHeight) * rowShare / 1.35))
        let rowH = Int(Double(size) * 1.55)
        let leadSize = max(12, min(Int(Double(size) * 0.7), l.fitting(idea.keyPhrase.text, fraction: 0.05, maxLines: 1)))
        let leadH = Int(Double(leadSize) * 1.8)
        let blockH = rowH * items.count + leadH
        var y = l.centreY - blockH / 2 + leadH + rowH / 2
        let x = l.left + Int(Double(size) * 1.6)
        var out = [panel(fadeIn: 0)]
        if let icon {
            let first = max(notBefore, time(idea.keyPhrase.offset) - 0.1)
            if beside {
                let iconSize = min(l.cardHeight / 2, Int(Double(l.cardWidth) * 0.22))
                out.append(iconEvent(icon, x: l.right - Int(Double(l.cardWidth) * 0.04) - iconSize / 2, y: l.centreY, size: iconSize, from: first))
            } else {
                // Portrait: above the list, as large as the room over it allows (up to a quarter of the card's width).
                let room = l.centreY - blockH / 2 - size / 2 - l.top
                let iconSize = min(l.cardWidth / 4, room)
                if iconSize >= 24 { out.append(iconEvent(icon, x: l.width / 2, y: l.centreY - blockH / 2 - size / 2 - iconSize / 2, size: iconSize, from: first)) }
            }
        }
        // The words that lead into the list, over it, as they are spoken.
        out.append(event(layer: 2, "{\\an1\\pos(\(l.left + size / 3),\(l.centreY - blockH / 2 + leadSize))\\fs\(leadSize)\\b1\\c\(palette.accentASS)}" + reveal(idea.keyPhrase, time)))
        for (n, item) in items.enumerated() {
            let t = max(0, time(item.offset) - 0.1)
            // A numbered disc, then the item sliding in from the left as it is spoken.
            let r = Int(Double(size) * 0.5)
            out.append(event(layer: 2, "{\\an5\\pos(\(l.left + r + size / 3),\(y))\\p1\\bord0\\shad0\\c\(palette.accentASS)\\fad(150,0)}" + circle(r), from: t))
            out.append(event(layer: 3, "{\\an5\\pos(\(l.left + r + size / 3),\(y))\\fs\(Int(Double(size) * 0.62))\\b1\\bord0\\shad0\\c\(palette.panelASS)\\fad(150,0)}\(n + 1)", from: t))
            out.append(event(layer: 2, "{\\an4\\move(\(x - size),\(y),\(x),\(y),0,250)\\fs\(size)\\b1\\c\(palette.textASS)\\fad(200,0)}" + esc(item.text), from: t))
            y += rowH
        }
        return out
    }

    private func quoteCard(_ time: (Int) -> Double) -> [String] {
        let l = layout
        guard let q = idea.items.first else { return phraseCard(time) }
        let size = l.fitting(q.text, fraction: 0.09, maxLines: l.isPortrait ? 7 : 4, widthShare: 0.8)
        let lines = estimatedLines(q.text, size: size, share: 0.8)
        let markSize = Int(Double(size) * 3)
        // Clear of the opening mark (about 0.45 of its size wide, set a third of the text size in).
        let x = l.left + max(Int(Double(l.cardWidth) * 0.1), Int(Double(size) * 1.9))
        let blockH = Int(Double(lines) * Double(size) * 1.25)
        let y = l.centreY - blockH / 2
        var out = [panel(fadeIn: 0, tint: true)]
        out.append(event(layer: 2, "{\\an7\\pos(\(l.left + size / 3),\(y - markSize / 3))\\fn DejaVu Serif\\fs\(markSize)\\b1\\bord0\\shad0\\c\(palette.accentASS)\\fad(300,0)}\u{201C}"))
        out.append(event(layer: 2, "{\\an7\\pos(\(x),\(y))\\fn DejaVu Serif\\fs\(size)\\c\(palette.textASS)}" + reveal(q, time),
                         marginL: x, marginR: l.width - l.right + l.cardWidth / 20))
        if let who = idea.attribution {
            let t = time(q.offset + q.text.unicodeScalars.count)
            out.append(event(layer: 2, "{\\an9\\pos(\(l.right - l.cardWidth / 20),\(y + blockH + size / 2))\\fs\(Int(Double(size) * 0.75))\\b1\\c\(palette.accentASS)\\fad(250,0)}\u{2014} " + esc(who), from: t))
        }
        return out
    }

    // MARK: pieces

    /// The text with each word fading in as the voice reaches it.
    private func reveal(_ item: SceneIdea.Item, _ time: (Int) -> Double) -> String {
        var out = ""
        var offset = item.offset
        for (i, word) in item.text.split(separator: " ", omittingEmptySubsequences: false).enumerated() {
            // `\\t` times count from the event's start, which is `notBefore`.
            let t = ms(max(0, time(offset) - 0.08 - notBefore))
            out += (i > 0 ? " " : "") + "{\\alpha&HFF&\\t(\(t),\(t + 220),\\alpha&H00&)}" + esc(String(word))
            offset += word.unicodeScalars.count + 1
        }
        return out
    }

    /// An icon glyph (drawn by the icon font's ligature) centred at (x, y), fading in at `from`.
    private func iconEvent(_ icon: String, x: Int, y: Int, size: Int, from: Double) -> String {
        event(layer: 2, "{\\an5\\pos(\(x),\(y))\\fn\(IconFont.family)\\fs\(size)\\bord0\\shad0\\c\(palette.accentASS)\\fad(300,0)}" + icon, from: from)
    }

    /// The card's panel: a translucent box over the card area.
    private func panel(fadeIn: Int, tint: Bool = false) -> String {
        let l = layout
        let pad = Int(l.unit * 0.02)
        return event(layer: 0, "{\\an7\\pos(\(l.left - pad),\(l.top - pad))\\p1\\bord0\\shad0\\c\(tint ? palette.accentASS : palette.panelASS)\\alpha&H\(tint ? "D0" : "60")&\\fad(300,0)}"
                     + rect(l.cardWidth + 2 * pad, l.cardHeight + 2 * pad))
    }

    private func rect(_ w: Int, _ h: Int) -> String { "m 0 0 l \(w) 0 \(w) \(h) 0 \(h){\\p0}" }
    private func circle(_ r: Int) -> String {
        let k = Int(Double(r) * 0.5523), d = 2 * r
        return "m \(r) 0 b \(r + k) 0 \(d) \(r - k) \(d) \(r) b \(d) \(r + k) \(r + k) \(d) \(r) \(d) b \(r - k) \(d) 0 \(r + k) 0 \(r) b 0 \(r - k) \(r - k) 0 \(r) 0{\\p0}"
    }

    private func estimatedLines(_ text: String, size: Int, share: Double = 1) -> Int {
        let ems = text.reduce(0.0) { $0 + ($1.isUppercase ? 0.75 : ($1 == " " ? 0.3 : 0.62)) }
        return max(1, Int(ceil(ems * Double(size) / (Double(layout.cardWidth) * share * 0.95))))
    }

    private func digits(_ a: SceneIdea.Amount) -> String {
        String(a.text.dropFirst(a.prefix.count).dropLast(a.suffix.count))
    }

    /// The counting figure written like the script's: the same decimals, thousands commas when it used them.
    private func format(_ v: Double, like a: SceneIdea.Amount) -> String {
        let plain = String(format: "%.\(a.decimals)f", v)
        guard digits(a).contains(",") else { return plain }
        let parts = plain.split(separator: ".", maxSplits: 1)
        var whole = Array(parts[0])
        var i = whole.count - 3
        while i > 0 { whole.insert(",", at: i); i -= 3 }
        return String(whole) + (parts.count > 1 ? "." + parts[1] : "")
    }

    private func ms(_ s: Double) -> Int { Int((s * 1000).rounded()) }

    private func event(layer: Int, _ text: String, from: Double? = nil, to: Double? = nil, marginL: Int = 0, marginR: Int = 0) -> String {
        let from = max(notBefore, from ?? notBefore)
        return "Dialogue: \(layer),\(stamp(from)),\(stamp(to ?? duration + 1)),Card,,\(marginL == 0 ? layout.left : marginL),\(marginR == 0 ? layout.width - layout.right : marginR),0,,\(text)"
    }

    private func stamp(_ s: Double) -> String {
        let cs = max(0, Int((s * 100).rounded()))
        return String(format: "%d:%02d:%02d.%02d", cs / 360_000, cs / 6000 % 60, cs / 100 % 60, cs % 100)
    }

    /// Braces and backslashes would be read as ASS tags.
    private func esc(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\u{29F5}").replacingOccurrences(of: "{", with: "(").replacingOccurrences(of: "}", with: ")")
    }

    private var header: String {
        let outline = max(1, Int(layout.unit / 360))
        return """
        [Script Info]
        ScriptType: v4.00+
        PlayResX: \(layout.width)
        PlayResY: \(layout.height)
        WrapStyle: 0
        ScaledBorderAndShadow: yes

        [V4+ Styles]
        Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding
        Style: Card,\(font),\(Int(layout.unit / 12)),\(palette.textASS),\(palette.textASS),&H60000000,&H80000000,0,0,0,0,100,100,0,0,1,\(outline),\(outline),7,\(layout.left),\(layout.width - layout.right),0,1

        [Events]
        Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text

        """
    }
}
