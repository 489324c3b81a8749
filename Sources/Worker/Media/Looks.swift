import Foundation

/// Designed backgrounds for scenes with no picture, drawn in Swift at a fraction of the frame's size (they are
/// soft, so the graph's bicubic upscale looks the same as drawing them full size) and kept moving for as long as
/// the scene lasts. `gradient` is libavfilter's own source and is not drawn here.
final class LookFrames: FrameIterator {
    static let divisor: [Background.Look: Int] = [.bokeh: 4, .shapes: 3, .flow: 8]

    let width: Int, height: Int
    private let background: Background
    private let fps: Int
    private let frames: Int
    /// The next frame to draw (tests move it far along to check long scenes).
    var index = 0
    private let palette: [(Float, Float, Float)]
    private let discs: [Disc]
    private let shapes: [Shape]
    private var pixels: [Float]

    struct Disc { var x, y, r, vx, vy, alpha: Float; var color: (Float, Float, Float) }
    struct Shape { var x, y, size, angle, spin, vx, vy, alpha: Float; var sides: Int; var color: (Float, Float, Float) }

    /// SplitMix64: Media's own small seeded generator (the same seed gives the same picture everywhere).
    struct Mix {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func unit() -> Float { Float(next() >> 40) / Float(1 << 24) }
    }

    /// The size a look is drawn at for a frame of `width`x`height`.
    static func size(_ look: Background.Look, width: Int, height: Int) -> (width: Int, height: Int) {
        let d = divisor[look] ?? 4
        return (max(16, width / d / 2 * 2), max(16, height / d / 2 * 2))
    }

    init(background: Background, frameWidth: Int, frameHeight: Int, fps: Int, frames: Int) {
        (width, height) = Self.size(background.look, width: frameWidth, height: frameHeight)
        self.background = background
        self.fps = fps
        self.frames = frames
        let colors = background.colors.isEmpty ? [0x334455, 0x556677, 0x778899] : background.colors
        palette = colors.map { (Float(($0 >> 16) & 0xFF) / 255, Float(($0 >> 8) & 0xFF) / 255, Float($0 & 0xFF) / 255) }
        pixels = [Float](repeating: 0, count: width * height * 3)
        let w = Float(width), h = Float(height)
        var r = Mix(state: UInt64(truncatingIfNeeded: background.seed) &* 0x2545_F491_4F6C_DD1D &+ 17)
        let p = palette
        func lighter(_ c: (Float, Float, Float), _ k: Float) -> (Float, Float, Float) { (c.0 + (1 - c.0) * k, c.1 + (1 - c.1) * k, c.2 + (1 - c.2) * k) }
        // Speeds are in frame heights per second: slow enough to rest the eye, fast enough to see over a minute.
        discs = (0..<22).map { i in
            Disc(x: r.unit() * w, y: r.unit() * h, r: (0.05 + 0.12 * r.unit()) * h, vx: (r.unit() - 0.5) * 0.06 * h, vy: (r.unit() - 0.7) * 0.04 * h,
                 alpha: 0.12 + 0.25 * r.unit(), color: lighter(p[i % p.count], 0.35 + 0.4 * r.unit()))
        }
        shapes = (0..<7).map { i in
            Shape(x: r.unit() * w, y: r.unit() * h, size: (0.18 + 0.3 * r.unit()) * h, angle: r.unit() * 6.283, spin: (r.unit() - 0.5) * 0.25,
                  vx: (r.unit() - 0.5) * 0.03 * h, vy: (r.unit() - 0.5) * 0.03 * h, alpha: 0.10 + 0.16 * r.unit(), sides: [3, 4, 6][Int(r.next() % 3)],
                  color: lighter(p[(i + 1) % p.count], 0.2 + 0.5 * r.unit()))
        }
    }

    func next() throws -> [UInt8]? {
        guard index < frames else { return nil }
        let t = Float(index) / Float(fps)
        index += 1
        switch background.look {
        case .bokeh: drawBokeh(t)
        case .shapes: drawShapes(t)
        case .flow, .gradient: drawFlow(t)
        }
        return pixels.map { UInt8(max(0, min(255, $0 * 255 + 0.5))) }
    }

    /// A slow vertical wash from the first colour (darkened) to the second.
    private func wash(_ t: Float) {
        let a = palette[0], b = palette[min(1, palette.count - 1)]
        let drift = 0.1 * sin(t * 0.05)
        for y in 0..<height {
            let k = min(1, max(0, Float(y) / Float(height - 1) + drift))
            let c = (0.55 * (a.0 + (b.0 - a.0) * k), 0.55 * (a.1 + (b.1 - a.1) * k), 0.55 * (a.2 + (b.2 - a.2) * k))
            pixels.withUnsafeMutableBufferPointer { p in
                let row = p.baseAddress! + 3 * y * width
                for x in 0..<width { row[3 * x] = c.0; row[3 * x + 1] = c.1; row[3 * x + 2] = c.2 }
            }
        }
    }

    /// `v` wrapped into [-margin, size + margin).
    private func wrap(_ v: Float, _ size: Float, _ margin: Float) -> Float {
        let span = size + 2 * margin
        let r = (v + margin).truncatingRemainder(dividingBy: span)
        return (r < 0 ? r + span : r) - margin
    }

    /// The pixel rows (or columns) within `radius` of `centre`, clipped to the picture; empty when it is outside.
    private func pixelRange(_ centre: Float, _ radius: Float, _ size: Int) -> Range<Int> {
        let lo = max(0, Int((centre - radius).rounded(.down)) - 1), hi = min(size, Int((centre + radius).rounded(.up)) + 2)
        return lo < hi ? lo..<hi : 0..<0
    }

    /// `p[i...i+2]` moved towards `c` by `a`.
    @inline(__always) private static func blend(_ p: UnsafeMutablePointer<Float>, _ i: Int, _ c: (Float, Float, Float), _ a: Float) {
        p[i] += (c.0 - p[i]) * a
        p[i + 1] += (c.1 - p[i + 1]) * a
        p[i + 2] += (c.2 - p[i + 2]) * a
    }

    /// Per row of a disc or shape: each pixel's distance (from the disc's centre, or inside the shape's edges),
    /// computed eight pixels at a time. Each lane does the scalar arithmetic in the same order (no fused
    /// multiply-adds in Swift), so the pictures are the same to the bit as pixel-by-pixel code.
    private var distances: [Float] = []
    private static let lanes = SIMD8<Float>(0, 1, 2, 3, 4, 5, 6, 7)

    /// Soft out-of-focus lights drifting across the frame and wrapping round.
    private func drawBokeh(_ t: Float) {
        wash(t)
        let w = Float(width), h = Float(height)
        if distances.count < width + 8 { distances = [Float](repeating: 0, count: width + 8) }
        let width = self.width
        pixels.withUnsafeMutableBufferPointer { pixels in
            distances.withUnsafeMutableBufferPointer { distances in
                let p = pixels.baseAddress!, dist = distances.baseAddress!, lanes = Self.lanes
                for d in discs {
                    let span = w + 2 * d.r, spanY = h + 2 * d.r
                    let cx = (d.x + d.vx * t).truncatingRemainder(dividingBy: span), cy = (d.y + d.vy * t).truncatingRemainder(dividingBy: spanY)
                    let x = (cx < 0 ? cx + span : cx) - d.r, y = (cy < 0 ? cy + spanY : cy) - d.r
                    // Brightness breathes slowly so still stretches still move.
                    let alpha = d.alpha * (0.75 + 0.25 * sin(t * 0.4 + d.x))
                    let columns = pixelRange(x, d.r, width)
                    let n = columns.count, first = columns.lowerBound
                    for py in pixelRange(y, d.r, height) {
                        let dy2 = (Float(py) - y) * (Float(py) - y)
                        var k = 0
                        while k + 8 <= n {
                            let dx = SIMD8<Float>(repeating: Float(first + k)) + lanes - x
                            UnsafeMutableRawPointer(dist + k).storeBytes(of: (dx * dx + dy2).squareRoot() / d.r, as: SIMD8<Float>.self)
                            k += 8
                        }
                        while k < n {
                            let dx = Float(first + k) - x
                            dist[k] = (dx * dx + dy2).squareRoot() / d.r
                            k += 1
                        }
                        for k in 0..<n where dist[k] < 1 {
                            let edge = min(1, (1 - dist[k]) / 0.25)
                            Self.blend(p, 3 * (py * width + first + k), d.color, alpha * edge)
                        }
                    }
                }
            }
        }
    }

    /// Large translucent polygons turning and drifting slowly, edges anti-aliased by their distance.
    private func drawShapes(_ t: Float) {
        wash(t)
        if distances.count < width + 8 { distances = [Float](repeating: 0, count: width + 8) }
        let width = self.width
        pixels.withUnsafeMutableBufferPointer { pixels in
            distances.withUnsafeMutableBufferPointer { distances in
                let p = pixels.baseAddress!, inside = distances.baseAddress!, lanes = Self.lanes
                for s in shapes {
                    // Drifting shapes wrap round like the bokeh lights, so an hour-long scene still has them in view.
                    let cx = wrap(s.x + s.vx * t, Float(width), s.size), cy = wrap(s.y + s.vy * t, Float(height), s.size)
                    let angle = s.angle + s.spin * t
                    let corners = (0..<s.sides).map { k -> (Float, Float) in
                        let a = angle + Float(k) * 2 * .pi / Float(s.sides)
                        return (cx + s.size * cos(a), cy + s.size * sin(a))
                    }
                    // Each edge once per frame: its start and its direction (the edge vector, and its length to divide by).
                    let edges = (0..<s.sides).map { k -> (ax: Float, ay: Float, ex: Float, ey: Float, len: Float) in
                        let (ax, ay) = corners[k], (bx, by) = corners[(k + 1) % s.sides]
                        let ex = bx - ax, ey = by - ay
                        return (ax, ay, ex, ey, (ex * ex + ey * ey).squareRoot())
                    }
                    let columns = pixelRange(cx, s.size, width)
                    for py in pixelRange(cy, s.size, height) {
                        // Only the columns where no edge's distance is below -1.5 by exact line maths (in Double, a pixel
                        // to spare each side): float rounding moves a distance by far less than the 0.5 margin, so every
                        // pixel left out is one the test below (inside > -1) would have left out.
                        var lo = Double(columns.lowerBound), hi = Double(columns.upperBound)
                        for e in edges {
                            // distance(px) = (across + ax * ey - px * ey) / len > -1.5  <=>  px * ey < c
                            let ey = Double(e.ey)
                            let c = (Double(py) - Double(e.ay)) * Double(e.ex) + Double(e.ax) * ey + 1.5 * Double(e.len)
                            if ey > 0 { hi = min(hi, c / ey + 1) } else if ey < 0 { lo = max(lo, c / ey - 1) } else if c <= 0 { hi = lo }
                        }
                        let bounds = (Double(columns.lowerBound), Double(columns.upperBound))
                        let first = Int(min(max(lo, bounds.0), bounds.1).rounded(.down))
                        let n = Int(min(max(hi, bounds.0), bounds.1).rounded(.up)) - first
                        guard n > 0 else { continue }
                        // Signed distance inside: the smallest distance to an edge (positive inside a convex polygon).
                        for k in 0..<n { inside[k] = .greatestFiniteMagnitude }
                        for e in edges {
                            // The row's half of the cross product, once a row: the same product each pixel took.
                            let across = (Float(py) - e.ay) * e.ex
                            var k = 0
                            while k + 8 <= n {
                                let px = SIMD8<Float>(repeating: Float(first + k)) + lanes
                                let d = ((px - e.ax) * e.ey - across) / e.len * -1
                                let slot = UnsafeMutableRawPointer(inside + k)
                                slot.storeBytes(of: pointwiseMin(slot.loadUnaligned(as: SIMD8<Float>.self), d), as: SIMD8<Float>.self)
                                k += 8
                            }
                            while k < n {
                                inside[k] = min(inside[k], ((Float(first + k) - e.ax) * e.ey - across) / e.len * -1)
                                k += 1
                            }
                        }
                        for k in 0..<n where inside[k] > -1 {
                            Self.blend(p, 3 * (py * width + first + k), s.color, s.alpha * min(1, inside[k] + 0.5))
                        }
                    }
                }
            }
        }
    }

    /// Flowing colour: three octaves of value noise moving through time, mapped onto the palette.
    private func drawFlow(_ t: Float) {
        let scale: Float = 3 / Float(height)
        let z = t * 0.08
        // Each octave's coordinates are a column's plus a row's (the same sums noise() was once given per pixel), so
        // the lattice cells, fractions and corner values are found once a frame, not hashed eight times a pixel.
        var octaves: [Octave] = [], amps: [Float] = []
        var amp: Float = 0.55, freq: Float = 1
        for o in 0..<3 {
            octaves.append(Octave(xs: (0..<width).map { Float($0) * scale * freq + z * Float(o + 1) * 0.7 },
                                  ys: (0..<height).map { Float($0) * scale * freq - z * 0.5 }, z: z + Float(o) * 17,
                                  lattice: lattice))
            amps.append(amp)
            amp *= 0.5; freq *= 2.1
        }
        let width = self.width
        pixels.withUnsafeMutableBufferPointer { p in
            for y in 0..<height {
                for x in 0..<width {
                    var v: Float = 0
                    for o in 0..<3 { v += amps[o] * octaves[o].noise(x, y) }
                    // Octave sums cluster around the middle: stretch them so the clouds read against each other.
                    let k = min(1, max(0, (v / 0.96 - 0.5) * 2.4 + 0.5))
                    let c = k < 0.5 ? mix(palette[0], palette[min(1, palette.count - 1)], k * 2)
                                    : mix(palette[min(1, palette.count - 1)], palette[min(2, palette.count - 1)], k * 2 - 1)
                    let i = 3 * (y * width + x)
                    p[i] = c.0; p[i + 1] = c.1; p[i + 2] = c.2
                }
            }
        }
    }

    /// One octave of value noise in 3-D over a frame whose pixels sit at `xs[x]`, `ys[y]` and one `z`: each column's
    /// and row's lattice cell and smoothed fraction, and the lattice values of every cell they reach (two z layers).
    private struct Octave {
        let cellX: [Int], smoothX: [Float], cellY: [Int], smoothY: [Float], smoothZ: Float
        let nx: Int, ny: Int
        let corners: [Float]

        init(xs: [Float], ys: [Float], z: Float, lattice: (Int, Int, Int) -> Float) {
            func s(_ f: Float) -> Float { f * f * (3 - 2 * f) }
            let xi = xs.map { Int($0.rounded(.down)) }, yi = ys.map { Int($0.rounded(.down)) }, zi = Int(z.rounded(.down))
            let x0 = xi.min() ?? 0, y0 = yi.min() ?? 0
            nx = (xi.max() ?? 0) - x0 + 2
            ny = (yi.max() ?? 0) - y0 + 2
            cellX = xi.map { $0 - x0 }
            cellY = yi.map { $0 - y0 }
            smoothX = zip(xs, xi).map { s($0 - Float($1)) }
            smoothY = zip(ys, yi).map { s($0 - Float($1)) }
            smoothZ = s(z - Float(zi))
            var corners = [Float](repeating: 0, count: 2 * nx * ny)
            for c in 0..<2 {
                for b in 0..<ny { for a in 0..<nx { corners[(c * ny + b) * nx + a] = lattice(x0 + a, y0 + b, zi + c) } }
            }
            self.corners = corners
        }

        /// The noise at pixel (`x`, `y`): trilinear over the cell's corners with smooth weights.
        @inline(__always) func noise(_ x: Int, _ y: Int) -> Float {
            func lerp(_ a: Float, _ b: Float, _ k: Float) -> Float { a + (b - a) * k }
            let i = cellY[y] * nx + cellX[x], layer = nx * ny
            let sx = smoothX[x], sy = smoothY[y]
            let c00 = lerp(corners[i], corners[i + 1], sx), c10 = lerp(corners[i + nx], corners[i + nx + 1], sx)
            let c01 = lerp(corners[layer + i], corners[layer + i + 1], sx), c11 = lerp(corners[layer + i + nx], corners[layer + i + nx + 1], sx)
            return lerp(lerp(c00, c10, sy), lerp(c01, c11, sy), smoothZ)
        }
    }

    private func mix(_ a: (Float, Float, Float), _ b: (Float, Float, Float), _ k: Float) -> (Float, Float, Float) {
        (a.0 + (b.0 - a.0) * k, a.1 + (b.1 - a.1) * k, a.2 + (b.2 - a.2) * k)
    }

    /// The noise's lattice value at cell (a, b, c): a hash of the seed and the cell.
    private func lattice(_ a: Int, _ b: Int, _ c: Int) -> Float {
        var h = UInt64(bitPattern: Int64(a &* 73_856_093 ^ b &* 19_349_663 ^ c &* 83_492_791)) ^ UInt64(truncatingIfNeeded: background.seed)
        h = (h ^ (h >> 33)) &* 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        return Float(h & 0xFFFF) / 65535
    }
}
