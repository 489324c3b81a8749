import Foundation
import Media

/// Where a card may draw in a frame: inside the title-safe area (5% in from each edge) and above the room the
/// burned captions (two lines) and a heading's lower third take at the bottom, computed as Media's caption styles
/// size them (CaptionStyle's defaults and ASSScript.overlayStyles), so the three never overlap at 16:9, 9:16 or 1:1.
public struct CardLayout: Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// The card's box, in pixels.
    public var left: Int, right: Int, top: Int, bottom: Int
    /// The unit every size is drawn from: the frame's short side.
    public var unit: Double

    /// `captions`: the burned captions' style and most lines (nil: none burned; the default style's room is kept for
    /// headings all the same).
    public init(width: Int, height: Int, captions: (style: CaptionStyle, maxLines: Int)? = nil) {
        self.width = width; self.height = height
        let short = min(width, height)
        unit = Double(short)
        let style = captions?.style ?? CaptionStyle(size: max(12, short / 16), outline: 2, margin: max(8, height / 18))
        let lines = Double(captions?.maxLines ?? 2)
        let lowerSize = max(12, short / 20)
        // A heading's box sits above the caption lines (ASSScript.overlayStyles), a line and a half of its size tall.
        let heading = style.margin + Int(Double(style.size) * 1.3 * lines) + lowerSize / 2 + Int(Double(lowerSize) * 1.6)
        left = max(width / 20, width / 12)
        right = width - left
        top = height / 20 + (height > width ? height / 12 : 0)
        if captions != nil, style.position == .top {
            // Captions at the top: the card starts under them and keeps clear of the heading at the bottom.
            top = max(top, style.margin + Int(Double(style.size) * 1.3 * lines) + height / 40)
            bottom = height - max(8, height / 18) - Int(Double(lowerSize) * 2.2) - height / 40
        } else {
            bottom = height - heading - height / 40
        }
    }

    public var cardWidth: Int { right - left }
    public var cardHeight: Int { bottom - top }
    /// The card's size class: portrait frames stack, landscape ones may put the icon beside the text.
    public var isPortrait: Bool { height > width }
    public var centreY: Int { (top + bottom) / 2 }

    /// Font size for `fraction` of the short side, never taller than `lines` lines fit in the card.
    public func size(_ fraction: Double, lines: Int = 1) -> Int {
        let wanted = unit * fraction
        let fits = Double(cardHeight) / (Double(max(1, lines)) * 1.25)
        return max(12, Int(min(wanted, fits)))
    }

    /// A size at which `text`, wrapped to at most `maxLines` lines of the card's width, fits: bold sans glyphs average
    /// about 0.6 of the size across (0.75 for wide capitals), as ASSScript.titleSize assumes.
    public func fitting(_ text: String, fraction: Double, maxLines: Int, widthShare: Double = 1) -> Int {
        let ems = text.reduce(0.0) { $0 + ($1.isUppercase || $1 == "W" || $1 == "M" ? 0.75 : ($1 == " " ? 0.3 : 0.62)) }
        let longest = text.split(separator: " ").map { w in w.reduce(0.0) { $0 + ($1.isUppercase ? 0.75 : 0.62) } }.max() ?? 1
        let room = Double(cardWidth) * widthShare
        var s = Double(size(fraction, lines: maxLines))
        // Shrink until the whole text fits the lines and the longest word fits one line.
        while s > 12 && (ems * s / room > Double(maxLines) * 0.92 || longest * s > room || ceil(ems * s / room) * s * 1.25 > Double(cardHeight)) { s *= 0.92 }
        return max(12, Int(s))
    }
}
