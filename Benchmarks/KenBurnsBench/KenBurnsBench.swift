// The Ken Burns resample alone (issue 30): the SIMD kernel Media draws with, its scalar passes, and the Swift
// resample it replaced, on the same canvas and windows in one run, checked byte for byte against each other.
//
//     swift build -c release --product KenBurnsBench && .build/release/KenBurnsBench [image] [--frames N] [--runs R]
//
// Prints, per frame size, the median milliseconds a frame (Y, U and V) of each over R runs of N frames of a zoom-in
// from 1 to 1.2 with a pan (the largest move the procedural engine makes), and how many bytes differ.
import Foundation
@_spi(Benchmarks) import Media

@main struct KenBurnsBench {
    static func main() throws {
        var args = Array(CommandLine.arguments.dropFirst())
        func option(_ name: String, _ fallback: Int) -> Int {
            guard let i = args.firstIndex(of: name), i + 1 < args.count, let v = Int(args[i + 1]) else { return fallback }
            args.removeSubrange(i...(i + 1))
            return v
        }
        let frames = option("--frames", 240), runs = option("--runs", 3)
        let image = args.first ?? "inbox.example/explainer/portrait.jpg"
        guard FileManager.default.fileExists(atPath: image) else {
            FileHandle.standardError.write(Data("KenBurnsBench: no picture at \(image) (run from the repository root, or name one)\n".utf8))
            exit(2)
        }
        let still = Still(path: image, fit: .cover, move: KenBurns(startZoom: 1, endZoom: 1.2, panX: 0.6, panY: 0.3),
                          backdrop: Background(colors: [0], speed: 0, seed: 0))
        print("Ken Burns resample, \(frames) frames x \(runs) runs, median ms a frame (Y+U+V); picture \(image)")
        for (w, h) in [(1280, 720), (1920, 1080), (1080, 1920)] {
            let probe = try KenBurnsProbe(still: still, width: w, height: h, frames: frames, fps: 24)
            let scalarProbe = try KenBurnsProbe(still: still, width: w, height: h, frames: frames, fps: 24)
            scalarProbe.scalar = true
            let bytes = w * h + 2 * (w / 2) * (h / 2)
            var fast = [UInt8](repeating: 0, count: bytes), plain = fast, old = fast
            var times: [String: [Double]] = [:]
            var differing = 0, differingScalar = 0
            let (cw, ch) = probe.canvasSize
            let canvas = probe.canvas
            var swiftResample = SwiftResample()
            for run in 0..<runs {
                // A fresh pair of iterators each run: each draws its frames once.
                let p = run == 0 ? probe : try KenBurnsProbe(still: still, width: w, height: h, frames: frames, fps: 24)
                let s = run == 0 ? scalarProbe : try KenBurnsProbe(still: still, width: w, height: h, frames: frames, fps: 24)
                s.scalar = true
                var t = (simd: 0.0, scalar: 0.0, swift: 0.0)
                for n in 0..<frames {
                    let a = clock()
                    _ = try fast.withUnsafeMutableBufferPointer { try p.next(into: $0.baseAddress!, width: w, height: h) }
                    let b = clock()
                    _ = try plain.withUnsafeMutableBufferPointer { try s.next(into: $0.baseAddress!, width: w, height: h) }
                    let c = clock()
                    let win = p.window(n)
                    old.withUnsafeMutableBufferPointer { dst in
                        let y = dst.baseAddress!, u = y + w * h, v = u + (w / 2) * (h / 2)
                        let sx = win.w / Double(w), sy = win.h / Double(h)
                        canvas.y.withUnsafeBufferPointer { swiftResample.run($0.baseAddress!, cw, ch, into: y, w, w, h, win.x, win.y, sx, sy) }
                        canvas.u.withUnsafeBufferPointer { swiftResample.run($0.baseAddress!, cw / 2, ch / 2, into: u, w / 2, w / 2, h / 2, win.x / 2, win.y / 2, sx, sy) }
                        canvas.v.withUnsafeBufferPointer { swiftResample.run($0.baseAddress!, cw / 2, ch / 2, into: v, w / 2, w / 2, h / 2, win.x / 2, win.y / 2, sx, sy) }
                    }
                    let d = clock()
                    t.simd += Double(b - a); t.scalar += Double(c - b); t.swift += Double(d - c)
                    if run == 0 {
                        differing += zip(fast, old).reduce(0) { $0 + ($1.0 != $1.1 ? 1 : 0) }
                        differingScalar += zip(plain, old).reduce(0) { $0 + ($1.0 != $1.1 ? 1 : 0) }
                    }
                }
                let per = 1000 / Double(CLOCKS_PER_SEC) / Double(frames)
                times["simd", default: []].append(t.simd * per)
                times["scalar", default: []].append(t.scalar * per)
                times["swift", default: []].append(t.swift * per)
            }
            func median(_ k: String) -> Double { times[k]!.sorted()[times[k]!.count / 2] }
            let line = String(format: "%4dx%-4d  swift (before) %.3f  scalar kernel %.3f  simd kernel %.3f  -> %.2fx faster; bytes differing from before: simd %d, scalar %d (of %d)%@",
                              w, h, median("swift"), median("scalar"), median("simd"), median("swift") / median("simd"),
                              differing, differingScalar, bytes * frames, probe.simd ? "" : "  [no AVX2: simd is the scalar kernel]")
            print(line)
        }
    }
}

/// The Swift resample Media drew Ken Burns frames with before the kernel (main e4b75db's KenBurnsFrames.resample),
/// kept verbatim as the "before" of this bench: per-column taps in Double, a gather per tap into 32-bit rows, then
/// a vectorised vertical blend.
struct SwiftResample {
    var left: [Int32] = [], right: [Int32] = [], weight: [UInt32] = []
    var rows: [[UInt32]] = [[], []]
    var rowSource = [-1, -1]

    mutating func run(_ src: UnsafePointer<UInt8>, _ sw: Int, _ sh: Int, into dst: UnsafeMutablePointer<UInt8>, _ stride: Int, _ dw: Int, _ dh: Int,
                      _ x0: Double, _ y0: Double, _ scaleX: Double, _ scaleY: Double) {
        if left.count != dw {
            left = [Int32](repeating: 0, count: dw); right = [Int32](repeating: 0, count: dw)
            weight = [UInt32](repeating: 0, count: dw)
            rows = [[UInt32](repeating: 0, count: dw), [UInt32](repeating: 0, count: dw)]
        }
        rowSource = [-1, -1]
        for ox in 0..<dw {
            let sx = min(Double(sw - 1), max(0, x0 + (Double(ox) + 0.5) * scaleX - 0.5))
            let l = Int(sx)
            left[ox] = Int32(l)
            right[ox] = Int32(min(sw - 1, l + 1))
            weight[ox] = UInt32((sx - Double(l)) * 256 + 0.5)
        }
        var c = self
        defer { self = c }
        func row(_ k: Int, keep: Int) -> Int {
            if c.rowSource[0] == k { return 0 }
            if c.rowSource[1] == k { return 1 }
            let slot = c.rowSource[0] == keep ? 1 : 0
            let r = src + k * sw
            c.left.withUnsafeBufferPointer { left in
                c.right.withUnsafeBufferPointer { right in
                    c.weight.withUnsafeBufferPointer { weight in
                        c.rows[slot].withUnsafeMutableBufferPointer { out in
                            for ox in 0..<dw {
                                let a = UInt32(r[Int(left[ox])]), b = UInt32(r[Int(right[ox])]), w = weight[ox]
                                out[ox] = a &* (256 &- w) &+ b &* w
                            }
                        }
                    }
                }
            }
            c.rowSource[slot] = k
            return slot
        }
        for oy in 0..<dh {
            let sy = min(Double(sh - 1), max(0, y0 + (Double(oy) + 0.5) * scaleY - 0.5))
            let top = Int(sy)
            let fy = UInt32((sy - Double(top)) * 256 + 0.5)
            let t = row(top, keep: top + 1)
            let b = row(min(sh - 1, top + 1), keep: top)
            let out = dst + oy * stride
            c.rows[t].withUnsafeBufferPointer { upper in
                c.rows[b].withUnsafeBufferPointer { lower in
                    for ox in 0..<dw {
                        out[ox] = UInt8(truncatingIfNeeded: (upper[ox] &* (256 &- fy) &+ lower[ox] &* fy &+ 32768) >> 16)
                    }
                }
            }
        }
    }
}
