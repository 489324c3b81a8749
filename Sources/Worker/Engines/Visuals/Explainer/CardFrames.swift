import Foundation
import Manifest
import Media

/// A job's card colours: one hue per job (from its seed, as the procedural looks choose theirs), turned a little
/// scene by scene; the style decides how deep the background is. Text stays near white on a dark ground so it
/// reads at any hue.
public struct CardPalette: Sendable, Equatable {
    /// 0xRRGGBB.
    public var top: UInt32, bottom: UInt32, panel: UInt32, accent: UInt32, text: UInt32, soft: UInt32

    public init(jobSeed: UInt64, scene: Int, style: JobManifest.Style) {
        let hue = Double(jobSeed % 360) + Double(scene % 3) * 14
        let (s, l): (Double, Double)
        switch style {
        case .soft: (s, l) = (0.35, 0.24)
        case .vivid: (s, l) = (0.7, 0.26)
        case .dark: (s, l) = (0.4, 0.1)
        case .mono: (s, l) = (0, 0.18)
        }
        top = Self.hsl(hue, s, l + 0.06)
        bottom = Self.hsl(hue + 25, s, max(0.04, l - 0.1))
        panel = Self.hsl(hue, s * 0.8, max(0.03, l - 0.14))
        accent = style == .mono ? 0xE8E8E8 : Self.hsl(hue + 160, 0.75, 0.62)
        text = 0xFAFAF7
        soft = 0xD8DCE0
    }

    var textASS: String { Self.ass(text) }
    var accentASS: String { Self.ass(accent) }
    var panelASS: String { Self.ass(panel) }
    var softASS: String { Self.ass(soft) }

    /// `&HBBGGRR&`, ASS's colour order.
    static func ass(_ c: UInt32) -> String { String(format: "&H%02X%02X%02X&", c & 0xFF, (c >> 8) & 0xFF, (c >> 16) & 0xFF) }

    static func hsl(_ h: Double, _ s: Double, _ l: Double) -> UInt32 {
        let hh = (h.truncatingRemainder(dividingBy: 360) + 360).truncatingRemainder(dividingBy: 360) / 60
        let c = (1 - abs(2 * l - 1)) * s, x = c * (1 - abs(hh.truncatingRemainder(dividingBy: 2) - 1)), m = l - c / 2
        let rgb: (Double, Double, Double)
        switch Int(hh) {
        case 0: rgb = (c, x, 0)
        case 1: rgb = (x, c, 0)
        case 2: rgb = (0, c, x)
        case 3: rgb = (0, x, c)
        case 4: rgb = (x, 0, c)
        default: rgb = (c, 0, x)
        }
        let v = [rgb.0, rgb.1, rgb.2].map { UInt32((min(1, max(0, $0 + m)) * 255).rounded()) }
        return v[0] << 16 | v[1] << 8 | v[2]
    }
}

/// The card's frames: a slowly drifting two-colour gradient (made once, as yuv420p rows taller than the frame, then
/// copied at a moving offset) with the card's ASS script painted on top by libass.
final class CardFrames: FrameIterator {
    private let width: Int, height: Int, fps: Int, frames: Int
    private let painter: ScriptPainter
    private let rows: [UInt8]
    private let chromaRows: [UInt8]
    private let extra: Int
    private var index = 0

    init(script: String, palette: CardPalette, width: Int, height: Int, fps: Int, frames: Int) throws(MediaError) {
        self.width = width; self.height = height; self.fps = fps; self.frames = frames
        painter = try ScriptPainter(script: script, width: width, height: height)
        // A gradient 1.5 frames tall, drifting a quarter of a frame over the scene.
        extra = height / 4
        let total = height + extra
        var y = [UInt8](repeating: 0, count: total)
        var uv = [UInt8](repeating: 0, count: 2 * ((total + 1) / 2))
        func yuv(_ c: UInt32) -> (Double, Double, Double) {
            // BT.709 limited range, as the encoder is tagged and the caption blend draws.
            let v = Colour.limited(Double((c >> 16) & 0xFF), Double((c >> 8) & 0xFF), Double(c & 0xFF))
            return (v.y, v.u, v.v)
        }
        let a = yuv(palette.top), b = yuv(palette.bottom)
        for i in 0..<total {
            let t = Double(i) / Double(max(1, total - 1))
            // Smoothstep keeps the ends calm and the change in the middle.
            let k = t * t * (3 - 2 * t)
            y[i] = UInt8(a.0 + (b.0 - a.0) * k)
            if i % 2 == 0 {
                uv[i] = UInt8(a.1 + (b.1 - a.1) * k)
                uv[i + 1] = UInt8(a.2 + (b.2 - a.2) * k)
            }
        }
        rows = y
        chromaRows = uv
    }

    func next() throws -> [UInt8]? {
        guard index < frames else { return nil }
        let shift = Int(Double(extra) * Double(index) / Double(max(1, frames))) & ~1
        let cw = (width + 1) / 2, ch = (height + 1) / 2
        var frame = [UInt8](repeating: 0, count: width * height + 2 * cw * ch)
        frame.withUnsafeMutableBufferPointer { buf in
            let base = buf.baseAddress!
            for r in 0..<height { (base + r * width).update(repeating: rows[r + shift], count: width) }
            let u = base + width * height, v = u + cw * ch
            for r in 0..<ch {
                let src = 2 * ((2 * r + shift) / 2)
                (u + r * cw).update(repeating: chromaRows[src], count: cw)
                (v + r * cw).update(repeating: chromaRows[src + 1], count: cw)
            }
        }
        painter.paint(&frame, milliseconds: Int64((Double(index) * 1000 / Double(fps)).rounded()))
        index += 1
        return frame
    }
}
