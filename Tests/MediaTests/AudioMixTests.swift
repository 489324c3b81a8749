import Foundation
import Testing
@testable import Media

struct AudioMixTests {
    func sine(_ amplitude: Float, hz: Double = 997, seconds: Double = 3, rate: Int = 48_000) -> [Float] {
        (0..<Int(seconds * Double(rate))).flatMap { i -> [Float] in
            let v = amplitude * Float(sin(2 * Double.pi * hz * Double(i) / Double(rate)))
            return [v, v]
        }
    }

    /// BS.1770: a 997 Hz sine at -20 dBFS in both channels reads -20 LUFS (within 0.1).
    @Test func loudnessOfAReferenceTone() {
        let lufs = AudioMix.integratedLoudness(sine(0.1), sampleRate: 48_000)
        #expect(abs(lufs - -20) < 0.1, "\(lufs)")
    }

    @Test func normaliseReachesTargetAndRespectsCeiling() {
        var quiet = sine(0.02)
        AudioMix.normalize(&quiet, sampleRate: 48_000, target: -16)
        #expect(abs(AudioMix.integratedLoudness(quiet, sampleRate: 48_000) - -16) < 0.2)
        // A loud tone pushed to -6 LUFS would clip: the limiter holds peaks under -1.5 dBFS.
        var loud = sine(0.5)
        AudioMix.normalize(&loud, sampleRate: 48_000, target: -3)
        #expect((loud.map(abs).max() ?? 0) <= Float(pow(10, -1.5 / 20)) + 1e-4)
    }

    @Test func musicDucksUnderTheVoice() {
        let rate = 48_000
        let bed = sine(0.5, hz: 220, seconds: 2)
        var voice = [Float](repeating: 0, count: 2 * rate)
        for i in rate..<(2 * rate) { voice[i] = 0.3 * Float(sin(Double(i) * 0.05)) }
        let mix = AudioMix.duck(voice: voice, bed: bed, sampleRate: rate, bedGain: 1, duckDecibels: -12)
        func rms(_ r: Range<Int>, _ x: [Float]) -> Float { sqrt(r.reduce(0) { $0 + x[2 * $1] * x[2 * $1] } / Float(r.count)) }
        // Bed alone where there is no voice; the bed part of the mix well down where there is.
        let before = rms(rate / 4..<rate / 2, mix)
        let bedDuring = (rate + rate / 2..<2 * rate - 1000).map { mix[2 * $0] - voice[$0] }
        let during = sqrt(bedDuring.reduce(0) { $0 + $1 * $1 } / Float(bedDuring.count))
        #expect(abs(before - 0.5 / sqrt(2)) < 0.02)
        #expect(during < before * 0.35, "ducked \(during) vs \(before)")
    }
}
