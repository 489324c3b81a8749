import Foundation
import Synchronization

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
            mix(voice: voice, at: offset, into: &bed, startingAt: 0, frames: frames)
        }

        /// The same on a window of the bed: `window` holds the bed's frames from `base` on. The voice must hold
        /// its samples from `frames.lowerBound` up to `lookahead` past `frames.upperBound` (as far as it goes):
        /// a voice read a block at a time mixes exactly as the whole one.
        public mutating func mix(voice: [Float], at offset: Int, into window: inout [Float], startingAt base: Int, frames: Range<Int>) {
            @inline(__always) func v(_ i: Int) -> Float {
                let k = i - offset
                return k >= 0 && k < voice.count ? voice[k] : 0
            }
            for i in frames.clamped(to: base..<(base + window.count / 2)) {
                let level = max(abs(v(i + lookahead)), abs(v(i)))
                envelope = level > envelope ? attack * envelope + (1 - attack) * level : release * envelope + (1 - release) * level
                let active = min(1, envelope / threshold)
                let g = bedGain * (1 - active * (1 - duck))
                let s = v(i)
                let j = i - base
                window[2 * j] = s + window[2 * j] * g
                window[2 * j + 1] = s + window[2 * j + 1] * g
            }
        }
    }

    /// Integrated loudness (LUFS) of interleaved stereo, per ITU-R BS.1770-4 with EBU R128 gating. Streams:
    /// memory is one number per 100 ms, not a copy of the signal.
    public static func integratedLoudness(_ samples: [Float], sampleRate: Int) -> Double {
        var meter = LoudnessMeter(sampleRate: sampleRate)
        meter.add(samples)
        return meter.integrated
    }

    /// Integrated loudness measured block by block: `add` consecutive stretches of interleaved stereo, then read
    /// `integrated`. The same figure as measuring the whole signal at once.
    public struct LoudnessMeter: Sendable {
        private var filters: [(Biquad, Biquad)]
        private let hop: Int
        private var hops: [Double] = []
        private var sum = 0.0, inHop = 0, frames = 0

        public init(sampleRate: Int) {
            // K-weighting: a high shelf then a high-pass, coefficients derived for any sample rate.
            let k = kWeighting(sampleRate: Double(sampleRate))
            filters = [(Biquad(k.0), Biquad(k.1)), (Biquad(k.0), Biquad(k.1))]
            // 400 ms blocks with 75% overlap are four consecutive 100 ms hops: sum the squares per hop.
            hop = max(1, Int(0.1 * Double(sampleRate)))
        }

        public mutating func add(_ samples: [Float]) {
            let n = samples.count / 2
            // The filters and running sums in locals for the loop (stored properties cost per-sample access checks).
            var (l1, l2) = filters[0], (r1, r2) = filters[1]
            var sum = self.sum, inHop = self.inHop
            samples.withUnsafeBufferPointer { x in
                for i in 0..<n {
                    let yl = l2.process(l1.process(Double(x[2 * i])))
                    sum += yl * yl
                    let yr = r2.process(r1.process(Double(x[2 * i + 1])))
                    sum += yr * yr
                    inHop += 1
                    if inHop == hop { hops.append(sum); sum = 0; inHop = 0 }
                }
            }
            filters = [(l1, l2), (r1, r2)]
            self.sum = sum; self.inHop = inHop
            frames += n
        }

        public var integrated: Double {
            guard frames > 0 else { return -.infinity }
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
    }

    /// Gain to `target` LUFS, then a look-ahead limiter keeps sample peaks under `ceiling` dBFS.
    public static func normalize(_ samples: inout [Float], sampleRate: Int, target: Double = -16, ceiling: Double = -1.5) {
        let loudness = integratedLoudness(samples, sampleRate: sampleRate)
        let peak = Float(pow(10, ceiling / 20))
        guard let first = normalizingGain(loudness: loudness, target: target) else { return }
        let input = samples
        let gain = madeUp(first, target: target) { (g: Float) -> Double in
            var trial = input.map { $0 * g }
            limit(&trial, sampleRate: sampleRate, ceiling: peak)
            return integratedLoudness(trial, sampleRate: sampleRate)
        }
        for i in samples.indices { samples[i] *= gain }
        limit(&samples, sampleRate: sampleRate, ceiling: peak)
    }

    /// Most a second pass adds: past it the limiter squashes a voice audibly, and under target is the better fault.
    static let makeUpLimitDB = 4.0

    /// The gain after up to two make-up passes. Where the limiter holds peaks it takes loudness away (a peaky voice
    /// brought to -16 came out at -17.1 LUFS), so the limited result is measured (`measure(gain)`) and the shortfall
    /// added, at most `makeUpLimitDB` in all. More gain only makes the limiter hold more, so this never overshoots.
    static func madeUp(_ first: Float, target: Double, measure: (Float) throws -> Double) rethrows -> Float {
        var gain = first, added = 0.0
        for _ in 0..<2 {
            let measured = try measure(gain)
            let short = target - measured
            guard measured.isFinite, short > 0.2, added < makeUpLimitDB else { break }
            let step = min(short, makeUpLimitDB - added)
            added += step
            gain *= Float(pow(10, step / 20))
        }
        return gain
    }

    /// The gain that brings a mix measured at `loudness` to `target`; nil for silence (left as it is).
    public static func normalizingGain(loudness: Double, target: Double = -16) -> Float? {
        guard loudness.isFinite, loudness > -70 else { return nil }
        return Float(pow(10, (target - loudness) / 20))
    }

    /// `normalize` as a stream, for a mix spooled to a sample file and measured as it was written: the encoder
    /// pulls blocks, each read, scaled and limited on the way; memory is one block and the limiter's look-ahead.
    public static func normalized(_ mix: SampleFile.Reader, loudness: Double, sampleRate: Int, target: Double = -16,
                                  ceiling: Double = -1.5) -> AudioFeed {
        let frames = mix.count / 2
        let peak = Float(pow(10, ceiling / 20))
        guard let first = normalizingGain(loudness: loudness, target: target) else {
            let cursor = Mutex(0)
            return AudioFeed(frames: frames) { (count: Int) throws(MediaError) -> [Float] in
                let at = cursor.withLock { c in defer { c += count }; return c }
                return try mix.read((2 * at)..<(2 * min(frames, at + count)))
            }
        }
        // The make-up passes read the file again (a read error there leaves the first gain: the encoder's own read
        // then reports it).
        let gain = (try? madeUp(first, target: target) { (g: Float) throws(MediaError) -> Double in
            var limiter = Limiter(sampleRate: sampleRate, ceiling: peak)
            var meter = LoudnessMeter(sampleRate: sampleRate)
            var at = 0
            while at < frames {
                let n = min(1 << 16, frames - at)
                var block = try mix.read((2 * at)..<(2 * (at + n)))
                at += n
                for i in block.indices { block[i] *= g }
                meter.add(limiter.process(block))
            }
            meter.add(limiter.finish())
            return meter.integrated
        }) ?? first
        struct State { var read = 0; var limiter: Limiter; var ready: [Float] = [] }
        let state = Mutex(State(limiter: Limiter(sampleRate: sampleRate, ceiling: peak)))
        return AudioFeed(frames: frames) { (count: Int) throws(MediaError) -> [Float] in
            try state.withLock { (s: inout State) throws(MediaError) -> [Float] in
                // The limiter holds its look-ahead back: feed it until `count` frames are out, or the end.
                while s.ready.count < 2 * count && s.read < frames {
                    let n = min(max(count, 4096), frames - s.read)
                    var block = try mix.read((2 * s.read)..<(2 * (s.read + n)))
                    s.read += n
                    for i in block.indices { block[i] *= gain }
                    s.ready += s.limiter.process(block)
                    if s.read == frames { s.ready += s.limiter.finish() }
                }
                let n = min(2 * count, s.ready.count)
                defer { s.ready.removeFirst(n) }
                return Array(s.ready[0..<n])
            }
        }
    }

    /// Peak limiter: gain follows the max of the next 5 ms, releases over 80 ms. In place, with memory for the
    /// 5 ms look-ahead only.
    static func limit(_ samples: inout [Float], sampleRate: Int, ceiling: Float) {
        var limiter = Limiter(sampleRate: sampleRate, ceiling: ceiling)
        let out = limiter.process(samples) + limiter.finish()
        samples = out
    }

    /// The limiter as a stream: `process` consecutive blocks, then `finish`; output lags input by the look-ahead
    /// (5 ms) and, concatenated, is the whole signal limited at once.
    public struct Limiter: Sendable {
        let ceiling: Float
        let look: Int
        let release: Float
        var g: Float = 1
        /// Sliding minimum of the gain each frame needs over [i, i + look): a monotonic deque of (frame, need).
        var deque: [(frame: Int, need: Float)] = []
        var dequeHead = 0
        /// Frames in and not yet out (interleaved); `heldStart` is the first one's index.
        var held: [Float] = []
        var heldStart = 0
        var pushed = 0, next = 0

        public init(sampleRate: Int, ceiling: Float) {
            self.ceiling = ceiling
            look = max(1, sampleRate / 200)
            release = Float(exp(-1 / (0.08 * Double(sampleRate))))
        }

        public mutating func process(_ block: [Float]) -> [Float] {
            var out: [Float] = []
            out.reserveCapacity(block.count + 2 * look)
            held += block
            for _ in 0..<(block.count / 2) {
                let k = 2 * (pushed - heldStart)
                push(max(abs(held[k]), abs(held[k + 1])))
                // Frame i leaves once the frame `look - 1` after it is known.
                if pushed - look >= 0 { emit(into: &out) }
            }
            held.removeFirst(2 * (next - heldStart))
            heldStart = next
            if dequeHead > 1024 { deque.removeFirst(dequeHead); dequeHead = 0 }
            return out
        }

        public mutating func finish() -> [Float] {
            var out: [Float] = []
            while next < pushed { emit(into: &out) }
            held = []; heldStart = next
            return out
        }

        private mutating func push(_ peak: Float) {
            let need = peak > ceiling ? ceiling / peak : 1
            while deque.count > dequeHead, deque[deque.count - 1].need >= need { deque.removeLast() }
            deque.append((pushed, need))
            pushed += 1
        }

        private mutating func emit(into out: inout [Float]) {
            let i = next
            while deque.count > dequeHead, deque[dequeHead].frame < i { dequeHead += 1 }
            let target = deque.count > dequeHead ? deque[dequeHead].need : 1
            g = target < g ? target : release * g + (1 - release) * target
            let k = 2 * (i - heldStart)
            var l = held[k], r = held[k + 1]
            if g < 1 { l *= g; r *= g }
            out.append(l); out.append(r)
            next += 1
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
