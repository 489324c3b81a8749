import Foundation

/// The narration-over-music mix: ducking, EBU R128 loudness and a peak limiter, in plain Swift
/// (deterministic, and cheaper than a filter graph for one stereo buffer).
public enum AudioMix {
    /// Mixes mono narration (already at the bed's rate) over an interleaved stereo bed. The bed dips by
    /// `duckDecibels` wherever the voice is active, with smooth attack and release.
    public static func duck(voice: [Float], bed: [Float], sampleRate: Int, bedGain: Float, duckDecibels: Float = -10) -> [Float] {
        let frames = bed.count / 2
        var out = [Float](repeating: 0, count: frames * 2)
        let attack = Float(exp(-1 / (0.02 * Double(sampleRate))))
        let release = Float(exp(-1 / (0.35 * Double(sampleRate))))
        let threshold: Float = 0.01
        let duck = Float(pow(10, Double(duckDecibels) / 20))
        // Look ahead by the attack time, so the bed is already down when the first syllable lands.
        let lookahead = Int(0.05 * Double(sampleRate))
        var envelope: Float = 0
        for i in 0..<frames {
            let ahead = i + lookahead < voice.count ? abs(voice[i + lookahead]) : 0
            let level = max(ahead, i < voice.count ? abs(voice[i]) : 0)
            envelope = level > envelope ? attack * envelope + (1 - attack) * level : release * envelope + (1 - release) * level
            let active = min(1, envelope / threshold)
            let g = bedGain * (1 - active * (1 - duck))
            let v = i < voice.count ? voice[i] : 0
            out[2 * i] = v + bed[2 * i] * g
            out[2 * i + 1] = v + bed[2 * i + 1] * g
        }
        return out
    }

    /// Integrated loudness (LUFS) of interleaved stereo, per ITU-R BS.1770-4 with EBU R128 gating.
    public static func integratedLoudness(_ samples: [Float], sampleRate: Int) -> Double {
        let frames = samples.count / 2
        guard frames > 0 else { return -.infinity }
        // K-weighting: a high shelf then a high-pass, coefficients derived for any sample rate.
        let k = kWeighting(sampleRate: Double(sampleRate))
        var filtered = [Double](repeating: 0, count: frames)
        for ch in 0..<2 {
            var s1 = Biquad(k.0), s2 = Biquad(k.1)
            for i in 0..<frames {
                let y = s2.process(s1.process(Double(samples[2 * i + ch])))
                filtered[i] += y * y
            }
        }
        // 400 ms blocks, 75% overlap.
        let block = Int(0.4 * Double(sampleRate)), hop = block / 4
        guard frames >= block else {
            let mean = filtered.reduce(0, +) / Double(frames)
            return -0.691 + 10 * log10(max(mean, 1e-12))
        }
        var powers: [Double] = []
        var start = 0
        while start + block <= frames {
            var sum = 0.0
            for i in start..<(start + block) { sum += filtered[i] }
            powers.append(sum / Double(block))
            start += hop
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

    /// Peak limiter: gain follows the max of the next 5 ms, releases over 80 ms.
    static func limit(_ samples: inout [Float], sampleRate: Int, ceiling: Float) {
        let frames = samples.count / 2
        let look = max(1, sampleRate / 200)
        var peaks = [Float](repeating: 0, count: frames)
        for i in 0..<frames { peaks[i] = max(abs(samples[2 * i]), abs(samples[2 * i + 1])) }
        guard peaks.max() ?? 0 > ceiling else { return }
        // Required gain per frame, then the running minimum over the look-ahead window.
        let need = peaks.map { $0 > ceiling ? ceiling / $0 : 1 }
        // Sliding-window minimum over the look-ahead (monotonic deque: linear time).
        var window = need
        var deque: [Int] = []
        var head = 0
        for j in stride(from: frames - 1, through: 0, by: -1) {
            while deque.count > head, need[deque[deque.count - 1]] >= need[j] { deque.removeLast() }
            deque.append(j)
            if head >= deque.count { head = deque.count - 1 }
            while deque[head] >= j + look { head += 1 }
            window[j] = need[deque[head]]
        }
        let release = Float(exp(-1 / (0.08 * Double(sampleRate))))
        var g: Float = 1
        for i in 0..<frames {
            g = window[i] < g ? window[i] : release * g + (1 - release) * window[i]
            samples[2 * i] *= g; samples[2 * i + 1] *= g
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
