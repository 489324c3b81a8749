import Foundation

/// The narration-over-music mix: ducking, EBU R128 loudness and a peak limiter, in plain Swift
/// (deterministic, and cheaper than a filter graph for one stereo buffer).
public enum AudioMix {
    /// Mixes mono narration (already at the bed's rate) over an interleaved stereo bed, in place. The bed dips by
    /// `duckDecibels` wherever the voice is active, with smooth attack and release.
    public static func duck(voice: [Float], into bed: inout [Float], sampleRate: Int, bedGain: Float, duckDecibels: Float = -10) {
        var ducker = Ducker(sampleRate: sampleRate, bedGain: bedGain, duckDecibels: duckDecibels)
        ducker.mix(voice: voice, at: 0, into: &bed, frames: 0..<(bed.count / 2))
    }

    /// Ducking as a stream: `mix` one stretch of the bed after another with the narration that falls in it; the
    /// envelope carries over, so a job is mixed scene by scene without one voice buffer as long as the video.
    public struct Ducker {
        let attack: Float, release: Float, duck: Float, bedGain: Float
        let threshold: Float = 0.01
        /// Look ahead by the attack time, so the bed is already down when the first syllable lands.
        let lookahead: Int
        var envelope: Float = 0

        public init(sampleRate: Int, bedGain: Float, duckDecibels: Float = -10) {
            attack = Float(exp(-1 / (0.02 * Double(sampleRate))))
            release = Float(exp(-1 / (0.35 * Double(sampleRate))))
            duck = Float(pow(10, Double(duckDecibels) / 20))
            self.bedGain = bedGain
            lookahead = Int(0.05 * Double(sampleRate))
        }

        /// Mixes `voice`, which starts at frame `at`, over `bed`'s frames `frames` (the voice is silent outside
        /// its own samples).
        public mutating func mix(voice: [Float], at offset: Int, into bed: inout [Float], frames: Range<Int>) {
            @inline(__always) func v(_ i: Int) -> Float {
                let k = i - offset
                return k >= 0 && k < voice.count ? voice[k] : 0
            }
            for i in frames.clamped(to: 0..<(bed.count / 2)) {
                let level = max(abs(v(i + lookahead)), abs(v(i)))
                envelope = level > envelope ? attack * envelope + (1 - attack) * level : release * envelope + (1 - release) * level
                let active = min(1, envelope / threshold)
                let g = bedGain * (1 - active * (1 - duck))
                let s = v(i)
                bed[2 * i] = s + bed[2 * i] * g
                bed[2 * i + 1] = s + bed[2 * i + 1] * g
            }
        }
    }

    /// Integrated loudness (LUFS) of interleaved stereo, per ITU-R BS.1770-4 with EBU R128 gating. Streams:
    /// memory is one number per 100 ms, not a copy of the signal.
    public static func integratedLoudness(_ samples: [Float], sampleRate: Int) -> Double {
        let frames = samples.count / 2
        guard frames > 0 else { return -.infinity }
        // K-weighting: a high shelf then a high-pass, coefficients derived for any sample rate.
        let k = kWeighting(sampleRate: Double(sampleRate))
        var filters = [(Biquad(k.0), Biquad(k.1)), (Biquad(k.0), Biquad(k.1))]
        // 400 ms blocks with 75% overlap are four consecutive 100 ms hops: sum the squares per hop.
        let hop = max(1, Int(0.1 * Double(sampleRate)))
        var hops: [Double] = []
        var sum = 0.0, inHop = 0
        for i in 0..<frames {
            for ch in 0..<2 {
                let y = filters[ch].1.process(filters[ch].0.process(Double(samples[2 * i + ch])))
                sum += y * y
            }
            inHop += 1
            if inHop == hop { hops.append(sum); sum = 0; inHop = 0 }
        }
        guard hops.count >= 4 else {
            return -0.691 + 10 * log10(max((hops.reduce(0, +) + sum) / Double(frames), 1e-12))
        }
        let blockLength = Double(4 * hop)
        let powers: [Double] = (0...(hops.count - 4)).map { (j: Int) -> Double in
            let total: Double = hops[j] + hops[j + 1] + hops[j + 2] + hops[j + 3]
            return total / blockLength
        }
        let loud = { (p: Double) in -0.691 + 10 * log10(max(p, 1e-12)) }
        let absGated = powers.filter { loud($0) > -70 }
        guard !absGated.isEmpty else { return -70 }
        let relative = loud(absGated.reduce(0, +) / Double(absGated.count)) - 10
        let gated = absGated.filter { loud($0) > relative }
        return loud(gated.reduce(0, +) / Double(max(1, gated.count)))
    }

    /// Gain to `target` LUFS, then a look-ahead limiter keeps sample peaks under `ceiling` dBFS.
    public static func normalize(_ samples: inout [Float], sampleRate: Int, target: Double = -16, ceiling: Double = -1.5) {
        let loudness = integratedLoudness(samples, sampleRate: sampleRate)
        guard loudness.isFinite, loudness > -70 else { return }
        let gain = Float(pow(10, (target - loudness) / 20))
        for i in samples.indices { samples[i] *= gain }
        limit(&samples, sampleRate: sampleRate, ceiling: Float(pow(10, ceiling / 20)))
    }

    /// Peak limiter: gain follows the max of the next 5 ms, releases over 80 ms. In place, with memory for the
    /// 5 ms look-ahead only.
    static func limit(_ samples: inout [Float], sampleRate: Int, ceiling: Float) {
        let frames = samples.count / 2
        let look = max(1, sampleRate / 200)
        func need(_ j: Int) -> Float {
            let peak = max(abs(samples[2 * j]), abs(samples[2 * j + 1]))
            return peak > ceiling ? ceiling / peak : 1
        }
        // Sliding minimum of `need` over [i, i + look): a monotonic deque of frame indices, as a ring.
        var ring = [Int](repeating: 0, count: look + 1)
        var needs = [Float](repeating: 1, count: look + 1)
        var head = 0, count = 0
        func push(_ j: Int) {
            let n = need(j)
            while count > 0, needs[(head + count - 1) % ring.count] >= n { count -= 1 }
            ring[(head + count) % ring.count] = j
            needs[(head + count) % ring.count] = n
            count += 1
        }
        for j in 0..<min(look, frames) { push(j) }
        let release = Float(exp(-1 / (0.08 * Double(sampleRate))))
        var g: Float = 1
        for i in 0..<frames {
            // Read the frame entering the window before frame i is scaled.
            if i + look - 1 < frames && i > 0 { push(i + look - 1) }
            while count > 0, ring[head] < i { head = (head + 1) % ring.count; count -= 1 }
            let target = count > 0 ? needs[head] : 1
            g = target < g ? target : release * g + (1 - release) * target
            if g < 1 { samples[2 * i] *= g; samples[2 * i + 1] *= g }
        }
    }

    struct Biquad {
        var b0, b1, b2, a1, a2: Double
        var z1 = 0.0, z2 = 0.0
        init(_ c: (Double, Double, Double, Double, Double)) { (b0, b1, b2, a1, a2) = c }
        mutating func process(_ x: Double) -> Double {
            let y = b0 * x + z1
            z1 = b1 * x - a1 * y + z2
            z2 = b2 * x - a2 * y
            return y
        }
    }

    /// BS.1770 pre-filter and RLB high-pass for any rate (the standard lists 48 kHz values only).
    static func kWeighting(sampleRate fs: Double) -> ((Double, Double, Double, Double, Double), (Double, Double, Double, Double, Double)) {
        var f0 = 1681.974450955533, g = 3.999843853973347, q = 0.7071752369554196
        var k = tan(Double.pi * f0 / fs)
        let vh = pow(10, g / 20), vb = pow(vh, 0.4996667741545416)
        var a0 = 1 + k / q + k * k
        let shelf = ((vh + vb * k / q + k * k) / a0, 2 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0,
                     2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0)
        f0 = 38.13547087602444; q = 0.5003270373238773; g = 0
        k = tan(Double.pi * f0 / fs)
        a0 = 1 + k / q + k * k
        let highpass = (1.0, -2.0, 1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0)
        return (shelf, highpass)
    }
}
