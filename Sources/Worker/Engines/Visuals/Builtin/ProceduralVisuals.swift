import Foundation
import Manifest
import Media

/// The embedded picture engine. A scene image gets a slow Ken Burns move; a scene without one gets a moving
/// gradient whose palette comes from its prompt and whose layout comes from its seed. This type only chooses;
/// Media draws.
public struct ProceduralVisuals: VisualsEngine {
    public init() {}

    public var identity: EngineIdentity { EngineIdentity(name: "procedural", version: "1") }

    public func picture(for scene: SceneCanvas, progress: @Sendable (Double) -> Void) throws(EngineError) -> ScenePicture {
        var rng = SeededRandom(seed: scene.seed)
        let fit = scene.visuals.fit.flatMap { Still.Fit(rawValue: $0.rawValue) }
        if let video = scene.video {
            return .clip(Clip(path: video, start: scene.videoStart, loop: scene.videoLoops, fit: fit,
                              focusX: scene.focus?.first ?? 0.5, focusY: scene.focus?.last ?? 0.5))
        }
        if let image = scene.image {
            let zoomIn = rng.unit() < 0.5
            let zoom = 0.12 + 0.08 * rng.unit()
            let panX = rng.unit() - 0.5, panY = (rng.unit() - 0.5) * 0.5
            let move: KenBurns
            switch scene.visuals.motion {
            case nil: move = KenBurns(zoomIn: zoomIn, zoom: zoom, panX: panX, panY: panY)
            case .none?: move = KenBurns(startZoom: 1, endZoom: 1, panX: 0, panY: 0)
            case .zoomIn?: move = KenBurns(zoomIn: true, zoom: zoom, panX: 0, panY: 0)
            case .zoomOut?: move = KenBurns(zoomIn: false, zoom: zoom, panX: 0, panY: 0)
            // A pan holds a steady zoom and crosses the room it leaves: the window moves left (or right).
            case .panLeft?: move = KenBurns(startZoom: 1 + zoom, endZoom: 1 + zoom, panX: -1, panY: 0)
            case .panRight?: move = KenBurns(startZoom: 1 + zoom, endZoom: 1 + zoom, panX: 1, panY: 0)
            }
            return .still(Still(path: image, fit: fit,
                                focusX: scene.focus?.first ?? 0.5, focusY: scene.focus?.last ?? 0.5,
                                move: move, backdrop: background(scene, &rng)))
        }
        return .background(background(scene, &rng))
    }

    private func background(_ scene: SceneCanvas, _ rng: inout SeededRandom) -> Background {
        let colors = Palette.colors(prompt: scene.prompt, style: scene.visuals.style, count: 3, rng: &rng)
        let speed = 0.004 + 0.008 * rng.unit()
        // One motif per job (chosen by its seed) unless the manifest names one: scenes differ by palette, not style.
        let looks = Background.Look.allCases
        let look = scene.visuals.look.flatMap { Background.Look(rawValue: $0.rawValue) } ?? looks[Int(scene.jobSeed % UInt64(looks.count))]
        return Background(look: look, colors: colors, speed: speed, seed: Int(rng.next() % 1_000_000))
    }
}

/// Prompt words to a hue, so "a stormy ocean" reads blue and "autumn forest" reads amber.
enum Palette {
    static let hues: [(words: [String], hue: Double, light: Double)] = [
        (["ocean", "sea", "water", "river", "lake", "rain", "blue", "wave", "storm"], 205, 0.45),
        (["sky", "cloud", "air", "morning", "dawn"], 195, 0.6),
        (["forest", "tree", "green", "garden", "nature", "leaf", "grass", "spring", "jungle"], 125, 0.4),
        (["sunset", "fire", "warm", "desert", "autumn", "orange", "amber", "sand"], 25, 0.5),
        (["sun", "gold", "light", "summer", "yellow", "bright"], 48, 0.55),
        (["night", "space", "star", "galaxy", "dark", "moon", "cosmic", "universe"], 245, 0.22),
        (["love", "rose", "flower", "pink", "heart", "bloom"], 335, 0.55),
        (["snow", "winter", "ice", "frost", "cold", "mountain"], 200, 0.75),
        (["city", "tech", "neon", "future", "robot", "digital", "data", "computer"], 285, 0.4),
        (["earth", "soil", "wood", "coffee", "brown", "history", "old"], 30, 0.33),
    ]

    static func colors(prompt: String?, style: JobManifest.Style, count: Int, rng: inout SeededRandom) -> [UInt32] {
        let words = (prompt ?? "").lowercased().split { !$0.isLetter }.map(String.init)
        var hue = rng.unit() * 360
        var light = 0.45
        // The first word of the prompt that names a palette wins: "autumn forest" is amber, "forest in autumn" green.
        let match = words.lazy.compactMap { w in hues.first { $0.words.contains { w.hasPrefix($0) } } }.first
        if let match {
            hue = match.hue
            light = match.light
        } else if !words.isEmpty {
            hue = Double(SeededRandom.hash(words.joined(separator: " ")) % 360)
        }
        var saturation: Double
        switch style {
        case .soft: saturation = 0.45
        case .vivid: saturation = 0.85; light = min(0.6, light + 0.05)
        case .dark: saturation = 0.5; light *= 0.45
        case .mono: saturation = 0
        }
        return (0..<count).map { i in
            let h = hue + (rng.unit() - 0.5) * 50 + Double(i) * 12
            let l = min(0.9, max(0.05, light + (rng.unit() - 0.5) * 0.3))
            return rgb(hsl(h, saturation, l))
        }
    }

    static func hsl(_ h: Double, _ s: Double, _ l: Double) -> (Double, Double, Double) {
        let hh = (h.truncatingRemainder(dividingBy: 360) + 360).truncatingRemainder(dividingBy: 360) / 60
        let c = (1 - abs(2 * l - 1)) * s
        let x = c * (1 - abs(hh.truncatingRemainder(dividingBy: 2) - 1))
        let m = l - c / 2
        let (r, g, b): (Double, Double, Double)
        switch Int(hh) {
        case 0: (r, g, b) = (c, x, 0)
        case 1: (r, g, b) = (x, c, 0)
        case 2: (r, g, b) = (0, c, x)
        case 3: (r, g, b) = (0, x, c)
        case 4: (r, g, b) = (x, 0, c)
        default: (r, g, b) = (c, 0, x)
        }
        return (r + m, g + m, b + m)
    }

    static func rgb(_ c: (Double, Double, Double)) -> UInt32 {
        let v = [c.0, c.1, c.2].map { UInt32((min(1, max(0, $0)) * 255).rounded()) }
        return v[0] << 16 | v[1] << 8 | v[2]
    }
}
