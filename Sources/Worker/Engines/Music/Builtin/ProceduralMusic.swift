import Foundation
import Manifest

/// The embedded music engine: a seeded chord progression played by a soft pad, a bass and an
/// arpeggio, with tempo, mode and brightness from the mood.
public struct ProceduralMusic: MusicEngine {
    public init() {}
    public var identity: EngineIdentity { EngineIdentity(name: "procedural-music", version: "1") }

    struct MoodSpec {
        var bpm: Double
        var minor: Bool
        /// Scale degrees (0-based) of the chord roots.
        var progressions: [[Int]]
        var brightness: Double
        var arpeggio: Double
    }

    static func spec(_ mood: JobManifest.Mood) -> MoodSpec {
        switch mood {
        case .calm: return MoodSpec(bpm: 72, minor: false, progressions: [[0, 5, 3, 4], [0, 3, 0, 4], [0, 2, 3, 4]], brightness: 0.3, arpeggio: 0.35)
        case .uplifting: return MoodSpec(bpm: 104, minor: false, progressions: [[0, 4, 5, 3], [3, 4, 0, 5], [0, 3, 4, 4]], brightness: 0.6, arpeggio: 0.6)
        case .dramatic: return MoodSpec(bpm: 84, minor: true, progressions: [[0, 5, 2, 6], [0, 3, 6, 4], [0, 6, 5, 4]], brightness: 0.5, arpeggio: 0.5)
        case .mysterious: return MoodSpec(bpm: 62, minor: true, progressions: [[0, 3, 5, 4], [0, 1, 0, 6], [0, 5, 3, 1]], brightness: 0.25, arpeggio: 0.3)
        case .playful: return MoodSpec(bpm: 120, minor: false, progressions: [[0, 3, 4, 3], [0, 5, 1, 4], [0, 4, 0, 3]], brightness: 0.7, arpeggio: 0.7)
        case .melancholy: return MoodSpec(bpm: 66, minor: true, progressions: [[0, 5, 3, 4], [0, 3, 0, 4], [0, 6, 5, 3]], brightness: 0.3, arpeggio: 0.4)
        }
    }

    /// Emits bar by bar (a few seconds each): the synthesis state (phases, bar) carries over, so the stream is
    /// the same samples as one buffer would be.
    public func bed(frames: Int, sampleRate: Int, music: JobManifest.Music, seed: UInt64, emit: @escaping @Sendable ([Float]) -> Void) throws(EngineError) {
        var rng = SeededRandom(seed: SeededRandom.hash(music.mood.rawValue + (music.prompt ?? ""), seed: seed))
        let spec = Self.spec(music.mood)
        let scale = spec.minor ? [0, 2, 3, 5, 7, 8, 10] : [0, 2, 4, 5, 7, 9, 11]
        let key = 45 + Int(rng.next() % 7) // MIDI A2...D#3: roots that sit under a voice
        let progression = spec.progressions[Int(rng.next() % UInt64(spec.progressions.count))]
        let bpm = spec.bpm * (0.95 + 0.1 * rng.unit())
        let beat = 60 / bpm
        let barFrames = Int(4 * beat * Double(sampleRate))
        let eighth = max(1, barFrames / 8)
        let pattern = [[0, 1, 2, 1], [0, 2, 1, 2], [0, 1, 2, 3], [2, 1, 0, 1]][Int(rng.next() % 4)]
        let sr = Double(sampleRate)
        let table = Wavetable.shared

        func chord(_ degree: Int) -> [Int] {
            (0..<4).map { i in
                let d = degree + 2 * i
                return key + 12 * (d / 7) + scale[d % 7]
            }
        }
        func hz(_ midi: Int) -> Double { 440 * pow(2, Double(midi - 69) / 12) }

        let fades = Fades.Envelope(frames: frames, sampleRate: sampleRate, fadeIn: 1.5, fadeOut: 2.5)
        var phases = [Double](repeating: 0, count: 12)
        let bright = spec.brightness
        var bar = 0
        var start = 0
        while start < frames {
            let notes = chord(progression[bar % progression.count])
            let end = min(frames, start + barFrames)
            let padFreqs = notes.prefix(3).map { hz($0 + 12) }
            let bassFreq = hz(notes[0] - 12)
            var out = [Float](repeating: 0, count: (end - start) * 2)
            for i in start..<end {
                let t = Double(i - start) / Double(barFrames)
                // Pad swells in and out over each bar so chord changes are smooth.
                let swell = 0.55 + 0.45 * sin(Double.pi * min(1, t * 1.2))
                var left = 0.0, right = 0.0
                for (v, f) in padFreqs.enumerated() {
                    let detune = 1.003
                    phases[2 * v] += f / sr
                    phases[2 * v + 1] += f * detune / sr
                    let a = table.soft(phases[2 * v], bright), b = table.soft(phases[2 * v + 1], bright)
                    left += a * 0.6 + b * 0.4
                    right += a * 0.4 + b * 0.6
                }
                left *= 0.11 * swell; right *= 0.11 * swell
                phases[8] += bassFreq / sr
                let bass = 0.16 * table.sine(phases[8]) * (0.7 + 0.3 * swell)
                // Arpeggio: plucked notes on eighths with an exponential decay.
                let step = (i - start) / eighth
                let inStep = Double((i - start) % eighth) / sr
                let note = notes[pattern[step % pattern.count]] + 24
                phases[9] += hz(note) / sr
                let pluck = spec.arpeggio * 0.09 * exp(-inStep * 7) * table.sine(phases[9])
                let pan = 0.5 + 0.25 * sin(Double(step) * 1.3)
                out[2 * (i - start)] = Float(left + bass + pluck * (1 - pan))
                out[2 * (i - start) + 1] = Float(right + bass + pluck * pan)
            }
            fades.apply(&out, from: start)
            emit(out)
            start = end
            bar += 1
        }
    }
}

/// Table lookups instead of `sin` in the inner loop: the bed is 48,000 x 2 samples a second.
final class Wavetable: Sendable {
    static let shared = Wavetable()
    private let table: [Double]
    private let size = 4096
    init() { table = (0..<4097).map { sin(2 * Double.pi * Double($0) / 4096) } }

    @inline(__always) func sine(_ phase: Double) -> Double {
        let p = (phase - phase.rounded(.down)) * Double(size)
        let i = Int(p)
        let frac = p - Double(i)
        return table[i] + (table[i + 1] - table[i]) * frac
    }

    /// A sine with a little of its 2nd and 3rd harmonics: brighter moods get more.
    @inline(__always) func soft(_ phase: Double, _ brightness: Double) -> Double {
        sine(phase) + brightness * (0.35 * sine(phase * 2) + 0.15 * sine(phase * 3))
    }
}
