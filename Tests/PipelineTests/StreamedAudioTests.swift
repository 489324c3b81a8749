import Foundation
import Synchronization
import Testing
import TestSupport
@testable import Engines
import Manifest
import Media
@testable import Pipeline

final class EmittedWindows: Sendable { let list = Mutex<[[Float]]>([]) }

/// Music and narration are made a window at a time (memory flat with the video's length): the windows must
/// be exactly the whole bed the engines made before, and must join without a click.
struct StreamedBedTests {
    func music(_ mood: String, dir: TempDir) throws -> JobManifest.Music {
        try Pipeline.validate(manifestPath: dir.write("m-\(mood).yaml", "music: {mood: \(mood)}\nscenes: [Hi.]\n")).music
    }

    /// Windows as emitted, with where each starts.
    func windows(_ engine: some MusicEngine, frames: Int, music: JobManifest.Music) async throws -> [[Float]] {
        let box = EmittedWindows()
        try await engine.bed(frames: frames, sampleRate: 48_000, music: music, seed: 5) { w in box.list.withLock { $0.append(w) } }
        return box.list.withLock { $0 }
    }

    @Test(arguments: ["calm", "playful", "mysterious"])
    func proceduralBedStreamedEqualsTheWholeBed(mood: String) async throws {
        let dir = TempDir()
        let m = try music(mood, dir: dir)
        for frames in [48_000 * 3 + 17, 48_000 * 11] {
            let parts = try await windows(ProceduralMusic(), frames: frames, music: m)
            #expect(parts.count > 1 || frames < 48_000 * 5)
            let streamed = parts.flatMap { $0 }
            let whole = ReferenceBed.procedural(frames: frames, sampleRate: 48_000, music: m, seed: 5)
            #expect(streamed.count == whole.count)
            #expect(streamed == whole, "\(mood), \(frames) frames")
        }
    }

    /// No click where one window meets the next: the step across each join is no bigger than the largest step
    /// inside the windows around it.
    @Test func windowJoinsAreContinuous() async throws {
        let dir = TempDir()
        let m = try music("uplifting", dir: dir)
        let parts = try await windows(ProceduralMusic(), frames: 48_000 * 12, music: m)
        var at = 0
        let bed = parts.flatMap { $0 }
        func step(_ i: Int, _ ch: Int) -> Float { abs(bed[2 * i + ch] - bed[2 * (i - 1) + ch]) }
        for w in parts.dropLast() {
            at += w.count / 2
            let inside = ((at - 2_000)..<(at - 1)).map { max(step($0, 0), step($0, 1)) }.max()!
            let join = max(step(at, 0), step(at, 1))
            #expect(join <= inside, "join at frame \(at): step \(join), largest inside \(inside)")
        }
    }

    @Test func fileMusicStreamedEqualsTheWholeLoop() async throws {
        let dir = TempDir()
        let song = dir.url.appendingPathComponent("song.wav").path
        try Fixtures.writeTone(to: song, seconds: 1.37)
        let m = try Pipeline.validate(manifestPath: dir.write("a.yaml", "music: {file: song.wav}\nscenes: [Hi.]\n")).music
        let frames = 48_000 * 5 + 3
        let parts = try await windows(FileMusic(), frames: frames, music: m)
        #expect(parts.count > 1)
        let source = try MediaDecode.audio(song, sampleRate: 48_000)
        var whole = ReferenceBed.loop(source, frames: frames, sampleRate: 48_000)
        ReferenceBed.fade(&whole, sampleRate: 48_000, fadeIn: 0.5, fadeOut: 2)
        #expect(parts.flatMap { $0 } == whole)
    }

    @Test func fadeEnvelopeInWindowsEqualsTheWholeFade() {
        for frames in [10, 11, 48_000, 100_001] {
            let ones = [Float](repeating: 1, count: frames * 2)
            var whole = ones
            ReferenceBed.fade(&whole, sampleRate: 48_000, fadeIn: 0.7, fadeOut: 1.1)
            let env = Fades.Envelope(frames: frames, sampleRate: 48_000, fadeIn: 0.7, fadeOut: 1.1)
            var streamed: [Float] = [], at = 0
            while at < frames {
                let n = min(4_097, frames - at)
                var w = [Float](repeating: 1, count: 2 * n)
                env.apply(&w, from: at)
                streamed += w; at += n
            }
            #expect(streamed == whole, "\(frames) frames")
        }
    }
}

/// A long narration is spoken in parts that join back into the script.
struct NarrationPartsTests {
    @Test func partsJoinToTheTextWithinTheLimit() {
        let sentence = "The quick brown fox, having jumped over the lazy dog, ran off into the forest. "
        let text = String(repeating: sentence, count: 70) + String(repeating: "x", count: 1_500)
        let parts = NarrationParts.split(text)
        #expect(parts.map(\.text).joined() == text)
        #expect(parts.allSatisfy { $0.text.unicodeScalars.count <= NarrationParts.partCharacters })
        var offset = 0
        for p in parts { #expect(p.offset == offset); offset += p.text.unicodeScalars.count }
        // Cuts fall after sentence ends where there are some.
        #expect(parts.dropLast(3).allSatisfy { $0.text.hasSuffix(". ") })
        #expect(NarrationParts.split("Short.").count == 1)
    }

    /// A 5,000-character narration with espeak: spoken in parts to disk, its words in order, each word's source
    /// pointing at that word in the script, and its times inside the audio.
    @Test func aLongNarrationIsSpokenInPartsWithWordsInPlace() async throws {
        let dir = TempDir()
        let sentence = "Rivers carry water from the hills to the sea, and cities grow along their banks. "
        let text = String(repeating: sentence, count: 62)
        #expect(text.count > 4_900)
        let voice = try Pipeline.validate(manifestPath: dir.write("v.yaml", "scenes: [Hi.]\n")).voice
        let url = dir.url.appendingPathComponent("n.f32")
        let writer = try SampleFile.Writer(url: url)
        let n = try await NarrationParts.speak(text, voice: voice, engine: EspeakEngine(), into: writer)
        try writer.close()
        #expect(try SampleFile.Reader(url: url).count == n.frames)
        let duration = Double(n.frames) / Double(n.sampleRate)
        #expect(duration > 200)
        #expect(n.words.count >= 62 * 14)
        let scalars = Array(text.unicodeScalars)
        // espeak also reports empty events (pauses) pointing back into the clause; the words themselves read forward.
        let said = n.words.filter { !$0.text.isEmpty }
        for (a, b) in zip(said, said.dropFirst()) { #expect(a.start <= b.start && (a.source ?? 0) < (b.source ?? 0), "\(a) then \(b)") }
        for w in n.words {
            #expect(w.end <= duration + 1e-9)
            let s = w.source ?? -1
            #expect(s >= 0 && s < scalars.count)
            if !w.text.isEmpty { #expect(String(String.UnicodeScalarView(scalars[s..<min(scalars.count, s + w.text.unicodeScalars.count)])) == w.text) }
        }
        // The part joins moved nothing: each part's first word starts where the previous part's audio ended.
        let first = try EspeakEngine().synthesize(NarrationParts.split(text)[0].text, voice: voice)
        #expect(Array(n.words.prefix(first.words.count)) == first.words)
        #expect(abs(n.words[first.words.count].start - first.duration) < 1.0)
    }
}

/// The whole-buffer engines as they were before streaming, the reference the streamed beds must equal.
enum ReferenceBed {
    static func fade(_ samples: inout [Float], sampleRate: Int, fadeIn: Double, fadeOut: Double) {
        let frames = samples.count / 2
        let inN = min(frames / 2, Int(fadeIn * Double(sampleRate)))
        let outN = min(frames / 2, Int(fadeOut * Double(sampleRate)))
        for i in 0..<inN {
            let g = Float(sin(Double.pi / 2 * Double(i) / Double(inN)))
            samples[2 * i] *= g; samples[2 * i + 1] *= g
        }
        for i in 0..<outN {
            let g = Float(sin(Double.pi / 2 * Double(i) / Double(outN)))
            let k = frames - 1 - i
            samples[2 * k] *= g; samples[2 * k + 1] *= g
        }
    }

    static func loop(_ source: [Float], frames: Int, sampleRate: Int) -> [Float] {
        let n = source.count / 2
        var out = [Float](repeating: 0, count: frames * 2)
        guard n > 0 else { return out }
        let fade = min(n / 4, sampleRate / 2)
        var pos = 0
        var i = 0
        while i < frames {
            if fade > 0 && pos >= n - fade && frames - i > n - pos {
                let k = pos - (n - fade)
                let t = (Double(k) + 0.5) / Double(fade)
                let a = Float(cos(t * Double.pi / 2)), b = Float(sin(t * Double.pi / 2))
                out[2 * i] = source[2 * pos] * a + source[2 * k] * b
                out[2 * i + 1] = source[2 * pos + 1] * a + source[2 * k + 1] * b
                pos += 1
                if pos == n { pos = fade }
            } else {
                out[2 * i] = source[2 * pos]
                out[2 * i + 1] = source[2 * pos + 1]
                pos += 1
                if pos == n { pos = 0 }
            }
            i += 1
        }
        return out
    }

    static func procedural(frames: Int, sampleRate: Int, music: JobManifest.Music, seed: UInt64) -> [Float] {
        var rng = SeededRandom(seed: SeededRandom.hash(music.mood.rawValue + (music.prompt ?? ""), seed: seed))
        let spec = ProceduralMusic.spec(music.mood)
        let scale = spec.minor ? [0, 2, 3, 5, 7, 8, 10] : [0, 2, 4, 5, 7, 9, 11]
        let key = 45 + Int(rng.next() % 7)
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
        var out = [Float](repeating: 0, count: frames * 2)
        var phases = [Double](repeating: 0, count: 12)
        let bright = spec.brightness
        var bar = 0
        var start = 0
        while start < frames {
            let notes = chord(progression[bar % progression.count])
            let end = min(frames, start + barFrames)
            let padFreqs = notes.prefix(3).map { hz($0 + 12) }
            let bassFreq = hz(notes[0] - 12)
            for i in start..<end {
                let t = Double(i - start) / Double(barFrames)
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
                let step = (i - start) / eighth
                let inStep = Double((i - start) % eighth) / sr
                let note = notes[pattern[step % pattern.count]] + 24
                phases[9] += hz(note) / sr
                let pluck = spec.arpeggio * 0.09 * exp(-inStep * 7) * table.sine(phases[9])
                let pan = 0.5 + 0.25 * sin(Double(step) * 1.3)
                out[2 * i] = Float(left + bass + pluck * (1 - pan))
                out[2 * i + 1] = Float(right + bass + pluck * pan)
            }
            start = end
            bar += 1
        }
        fade(&out, sampleRate: sampleRate, fadeIn: 1.5, fadeOut: 2.5)
        return out
    }
}
