import Foundation

/// Aligning two renderings of the same words in time: frame features (cepstra of log mel band energies, with
/// the mean taken out so level and microphone matter less) and a dynamic time warp between them, kept to a band
/// around the diagonal so a few minutes of speech stay in memory and time. As aeneas does it, without its C.
enum DTW {
    /// Feature frames per second (10 ms hop).
    static let framesPerSecond = 100
    /// The weight of c0 (level) among the cepstra.
    static let energyWeight: Float = 0.5

    /// One feature vector per 10 ms of `samples` (mono).
    static func features(_ samples: [Float], sampleRate: Int) -> [[Float]] {
        let hop = max(1, sampleRate / framesPerSecond)
        var size = 1
        while size < Int(0.025 * Double(sampleRate)) { size <<= 1 }
        let window = (0..<size).map { Float(0.5 - 0.5 * cos(2 * Double.pi * Double($0) / Double(size - 1))) }
        let bank = melBank(size: size, sampleRate: sampleRate, bands: 26, low: 80, high: min(7_600, Double(sampleRate) / 2))
        let count = samples.isEmpty ? 0 : (samples.count + hop - 1) / hop
        let cepstra = 13
        var frames: [[Float]] = []
        frames.reserveCapacity(count)
        var re = [Float](repeating: 0, count: size), im = [Float](repeating: 0, count: size)
        for f in 0..<count {
            let start = f * hop - size / 2
            for k in 0..<size {
                let i = start + k
                re[k] = i >= 0 && i < samples.count ? samples[i] * window[k] : 0
                im[k] = 0
            }
            fft(&re, &im)
            let power = (0...(size / 2)).map { re[$0] * re[$0] + im[$0] * im[$0] }
            let logs = bank.map { band in log(band.reduce(Float(1e-8)) { $0 + $1.weight * power[$1.bin] }) }
            // A DCT-II of the log energies; c0 (the frame's level) at half weight: it marks pauses and onsets,
            // but loudness differs between takes more than spectra do.
            frames.append((0..<cepstra).map { c in
                var s: Float = 0
                for (m, v) in logs.enumerated() { s += v * Float(cos(Double.pi * Double(c) * (Double(m) + 0.5) / Double(logs.count))) }
                return c == 0 ? s * energyWeight : s
            })
        }
        // Cepstral mean normalisation: a different voice or room shifts every frame alike.
        guard !frames.isEmpty else { return frames }
        var mean = [Float](repeating: 0, count: cepstra)
        for v in frames { for c in 0..<cepstra { mean[c] += v[c] } }
        for c in 0..<cepstra { mean[c] /= Float(frames.count) }
        let normalised = frames.map { v in (0..<cepstra).map { v[$0] - mean[$0] } }
        // With each coefficient's change over ±20 ms: where a sound begins matters more than what it is.
        return normalised.indices.map { t in
            let a = normalised[max(0, t - 2)], b = normalised[min(normalised.count - 1, t + 2)]
            return normalised[t] + (0..<cepstra).map { (b[$0] - a[$0]) / 2 }
        }
    }

    /// For each frame of `a`, the frame of `b` the warp path matches it to (the middle of its run), from a DTW
    /// restricted to `band` frames either side of the straight line from start to end.
    static func warp(_ a: [[Float]], _ b: [[Float]], band: Int? = nil) -> [Double] {
        let n = a.count, m = b.count
        guard n > 0, m > 0 else { return [Double](repeating: 0, count: n) }
        // Up to 10 s either side of proportional timing (a fifth of the length, at least 2 s): the memory stays
        // about 2,000 bytes a frame however long the scene.
        let width = max(band ?? min(1_000, max(200, max(n, m) / 5)), 2)
        func centre(_ i: Int) -> Int { n == 1 ? 0 : Int((Double(i) * Double(m - 1) / Double(n - 1)).rounded()) }
        let lo = (0..<n).map { max(0, centre($0) - width) }
        let hi = (0..<n).map { min(m - 1, centre($0) + width) }
        // Costs of the previous and current rows over their band; moves: 0 diagonal, 1 from above (i-1), 2 from left.
        var moves = [[UInt8]]()
        moves.reserveCapacity(n)
        var previous = [Float](), previousLo = 0
        for i in 0..<n {
            var row = [Float](repeating: .infinity, count: hi[i] - lo[i] + 1)
            var move = [UInt8](repeating: 0, count: row.count)
            for j in lo[i]...hi[i] {
                var d: Float = 0
                let x = a[i], y = b[j]
                for c in 0..<x.count { let t = x[c] - y[c]; d += t * t }
                d = d.squareRoot()
                if i == 0 && j == 0 { row[0] = d; continue }
                func prev(_ j: Int) -> Float { i > 0 && j >= previousLo && j < previousLo + previous.count ? previous[j - previousLo] : .infinity }
                let diag = j > 0 ? prev(j - 1) : .infinity
                let up = prev(j)
                let left = j > lo[i] ? row[j - 1 - lo[i]] : .infinity
                // The diagonal step counts its distance twice (symmetric DTW): no bias toward stretching.
                var best = diag + 2 * d, step: UInt8 = 0
                if up + d < best { best = up + d; step = 1 }
                if left + d < best { best = left + d; step = 2 }
                row[j - lo[i]] = best
                move[j - lo[i]] = step
            }
            moves.append(move)
            previous = row; previousLo = lo[i]
        }
        // Back from the end: each frame of `a` gets the middle of the frames of `b` it was matched with.
        var first = [Int](repeating: m - 1, count: n), last = [Int](repeating: 0, count: n)
        var i = n - 1, j = m - 1
        while true {
            first[i] = min(first[i], j); last[i] = max(last[i], j)
            if i == 0 && j == 0 { break }
            guard j >= lo[i], j <= hi[i] else { break }
            switch moves[i][j - lo[i]] {
            case 0: i -= 1; j -= 1
            case 1: i -= 1
            default: j -= 1
            }
            if i < 0 || j < 0 { break }
        }
        return (0..<n).map { Double(first[$0] + last[$0]) / 2 }
    }

    /// `time` seconds into the rendering `a` mapped through `path` (from `warp`) to seconds into `b`.
    static func map(_ time: Double, through path: [Double]) -> Double {
        guard !path.isEmpty else { return time }
        let x = max(0, time * Double(framesPerSecond))
        let k = min(path.count - 1, Int(x))
        let next = min(path.count - 1, k + 1)
        let frac = min(1, x - Double(k))
        return (path[k] + (path[next] - path[k]) * frac) / Double(framesPerSecond)
    }

    private static func melBank(size: Int, sampleRate: Int, bands: Int, low: Double, high: Double) -> [[(bin: Int, weight: Float)]] {
        func mel(_ f: Double) -> Double { 2595 * log10(1 + f / 700) }
        func hz(_ m: Double) -> Double { 700 * (pow(10, m / 2595) - 1) }
        let edges = (0...(bands + 1)).map { hz(mel(low) + (mel(high) - mel(low)) * Double($0) / Double(bands + 1)) }
        let binHz = Double(sampleRate) / Double(size)
        return (0..<bands).map { b in
            let (l, c, h) = (edges[b], edges[b + 1], edges[b + 2])
            return (0...(size / 2)).compactMap { k -> (Int, Float)? in
                let f = Double(k) * binHz
                let w = f <= l || f >= h ? 0 : (f <= c ? (f - l) / (c - l) : (h - f) / (h - c))
                return w > 0 ? (k, Float(w)) : nil
            }
        }
    }

    /// In-place radix-2 FFT (`re.count` a power of two).
    private static func fft(_ re: inout [Float], _ im: inout [Float]) {
        let n = re.count
        var j = 0
        for i in 1..<n {
            var bit = n >> 1
            while j & bit != 0 { j ^= bit; bit >>= 1 }
            j |= bit
            if i < j { re.swapAt(i, j); im.swapAt(i, j) }
        }
        var len = 2
        while len <= n {
            let angle = -2 * Double.pi / Double(len)
            let wr = Float(cos(angle)), wi = Float(sin(angle))
            var start = 0
            while start < n {
                var cr: Float = 1, ci: Float = 0
                for k in 0..<(len / 2) {
                    let a = start + k, b = a + len / 2
                    let tr = re[b] * cr - im[b] * ci, ti = re[b] * ci + im[b] * cr
                    re[b] = re[a] - tr; im[b] = im[a] - ti
                    re[a] += tr; im[a] += ti
                    let nr = cr * wr - ci * wi
                    ci = cr * wi + ci * wr; cr = nr
                }
                start += len
            }
            len <<= 1
        }
    }
}
