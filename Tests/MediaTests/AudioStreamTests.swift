import Foundation
import Testing
@testable import Media

/// The soundtrack is made and encoded a block at a time: each streaming piece must give exactly what the
/// whole-buffer version gives, whatever the block sizes.
struct AudioStreamTests {
    /// A voice-and-music-like test signal: a few tones with bursts past full scale (so the limiter works).
    func signal(frames: Int, rate: Int = 48_000, seed: UInt64 = 7) -> [Float] {
        var x = seed
        func noise() -> Float { x = x &* 6364136223846793005 &+ 1442695040888963407; return Float(Int64(bitPattern: x >> 11) % 2000) / 2000 }
        return (0..<frames).flatMap { i -> [Float] in
            let t = Double(i) / Double(rate)
            let burst: Float = (i / 4000) % 9 == 0 ? 1.6 : 0.4
            let l = burst * Float(sin(2 * .pi * 220 * t)) + 0.1 * noise()
            let r = burst * Float(sin(2 * .pi * 331 * t)) - 0.1 * noise()
            return [l, r]
        }
    }

    /// Uneven block sizes, as the encoder and the mixer ask for them.
    func blocks(_ total: Int) -> [Range<Int>] {
        var out: [Range<Int>] = [], at = 0, k = 0
        let sizes = [1, 1024, 7, 4800, 333, 48_000, 2]
        while at < total { let n = min(sizes[k % sizes.count], total - at); out.append(at..<(at + n)); at += n; k += 1 }
        return out
    }

    @Test func limiterStreamedEqualsWhole() {
        let input = signal(frames: 70_000)
        var whole = input
        AudioMix.limit(&whole, sampleRate: 48_000, ceiling: 0.8)
        var limiter = AudioMix.Limiter(sampleRate: 48_000, ceiling: 0.8)
        var streamed: [Float] = []
        for r in blocks(input.count / 2) { streamed += limiter.process(Array(input[(2 * r.lowerBound)..<(2 * r.upperBound)])) }
        streamed += limiter.finish()
        #expect(streamed == whole)
        #expect(streamed.map(abs).max()! <= 0.8 + 1e-6)
    }

    @Test func loudnessMeteredInBlocksEqualsWhole() {
        let input = signal(frames: 100_000)
        var meter = AudioMix.LoudnessMeter(sampleRate: 48_000)
        for r in blocks(input.count / 2) { meter.add(Array(input[(2 * r.lowerBound)..<(2 * r.upperBound)])) }
        #expect(meter.integrated == AudioMix.integratedLoudness(input, sampleRate: 48_000))
    }

    @Test func duckingInWindowsEqualsWhole() {
        let rate = 48_000
        let bed = signal(frames: 3 * rate)
        let voice = (0..<(2 * rate)).map { i in i > rate / 2 ? 0.3 * Float(sin(Double(i) * 0.05)) : 0 }
        let offset = rate / 3
        var whole = bed
        var d1 = AudioMix.Ducker(sampleRate: rate, bedGain: 0.5)
        d1.mix(voice: voice, at: offset, into: &whole, frames: 0..<(3 * rate))
        // Windows of the bed, each given only the voice it covers plus the look-ahead.
        var d2 = AudioMix.Ducker(sampleRate: rate, bedGain: 0.5)
        var streamed: [Float] = []
        for r in blocks(3 * rate) {
            var window = Array(bed[(2 * r.lowerBound)..<(2 * r.upperBound)])
            let lo = min(voice.count, max(0, r.lowerBound - offset)), hi = min(voice.count, max(lo, r.upperBound + d2.lookahead - offset))
            d2.mix(voice: Array(voice[lo..<hi]), at: offset + lo, into: &window, startingAt: r.lowerBound, frames: r)
            streamed += window
        }
        #expect(streamed == whole)
    }

    @Test func resamplerStreamedEqualsWhole() throws {
        let voice = (0..<50_000).map { i in Float(sin(Double(i) * 0.031)) * 0.5 }
        let whole = try Resampler.resampleMono(voice, from: 22_050, to: 48_000)
        let resampler = try MonoResampler(from: 22_050, to: 48_000)
        var streamed: [Float] = []
        for r in blocks(voice.count) { streamed += try resampler.process(Array(voice[r])) }
        streamed += try resampler.finish()
        #expect(streamed.count == whole.count)
        let diff = zip(streamed, whole).map { abs($0 - $1) }.max() ?? 0
        #expect(diff <= 1e-6, "max difference \(diff)")
    }

    /// The mix spooled to disk and read back through gain and limiter is `normalize` on the whole buffer.
    @Test func normalizedFeedEqualsNormalize() throws {
        let input = signal(frames: 90_000).map { $0 * 0.1 }
        var whole = input
        AudioMix.normalize(&whole, sampleRate: 48_000, target: -9)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("prostudio-feed-\(getpid()).f32")
        defer { try? FileManager.default.removeItem(at: url) }
        let writer = try SampleFile.Writer(url: url)
        for r in blocks(input.count / 2) { writer.write(Array(input[(2 * r.lowerBound)..<(2 * r.upperBound)])) }
        try writer.close()
        let feed = AudioMix.normalized(try SampleFile.Reader(url: url), loudness: AudioMix.integratedLoudness(input, sampleRate: 48_000),
                                       sampleRate: 48_000, target: -9)
        #expect(feed.frames == 90_000)
        var out: [Float] = []
        for r in blocks(feed.frames) { out += try feed.read(r.count) }
        #expect(try feed.read(100).isEmpty)
        #expect(out == whole)
    }
}
