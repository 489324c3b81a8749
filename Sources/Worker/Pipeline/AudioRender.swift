import Captions
import Engines
import Foundation
import Manifest
import Media
import Normaliser

/// A scene's narration with its samples on disk (the stage cache, or the job's work folder): what the
/// timeline and captions need (length, words) in memory, the audio read back a block at a time when the scene
/// is mixed. A long job's narrations never sit in memory together.
struct SpokenScene {
    var sampleRate: Int
    var frames: Int
    var words: [Narration.Word]
    var file: URL

    /// Words and length, for the timeline and the captions.
    var narration: Narration { Narration(sampleRate: sampleRate, frames: frames, words: words) }
    var duration: Double { Double(frames) / Double(sampleRate) }
}

/// A long narration is spoken a few sentences at a time: each part goes to disk as soon as it is made, so a
/// 5,000-character scene holds one part's samples, not the scene's.
enum NarrationParts {
    /// Texts up to this many characters are spoken in one call (every narration of ordinary length: its audio
    /// and word timings are exactly what they always were); longer ones in parts of about this size.
    static let partCharacters = 1_000

    /// `text` cut after sentence ends (else clause ends, else spaces) into parts of at most `limit` characters,
    /// each with its offset in Unicode scalars. The parts joined are the text.
    static func split(_ text: String, limit: Int = partCharacters) -> [(text: String, offset: Int)] {
        let scalars = Array(text.unicodeScalars)
        guard scalars.count > limit else { return [(text, 0)] }
        var parts: [(String, Int)] = []
        var start = 0
        func isSpace(_ s: Unicode.Scalar) -> Bool { s.properties.isWhitespace }
        while start < scalars.count {
            if scalars.count - start <= limit {
                parts.append((String(String.UnicodeScalarView(scalars[start...])), start))
                break
            }
            // The last cut inside the limit: after a sentence end and its spaces, else a clause end, else a space.
            var sentence: Int?, clause: Int?, space: Int?
            var i = start + 1
            while i < start + limit {
                if isSpace(scalars[i]) {
                    var j = i
                    while j < scalars.count, isSpace(scalars[j]) { j += 1 }
                    if j <= start + limit {
                        let before = scalars[i - 1]
                        if ".!?;\u{2026}".unicodeScalars.contains(before) || scalars[i] == "\n" { sentence = j }
                        else if ",:\u{2014}".unicodeScalars.contains(before) { clause = j }
                        else { space = j }
                    }
                    i = j
                } else { i += 1 }
            }
            let end = sentence ?? clause ?? space ?? (start + limit)
            parts.append((String(String.UnicodeScalarView(scalars[start..<end])), start))
            start = end
        }
        return parts
    }

    /// Speaks `text` part by part into `writer`; returns the narration's rate, length and words (times from the
    /// start of the whole, sources in the whole text).
    static func speak(_ text: String, voice: JobManifest.Voice, engine: any SpeechEngine,
                      into writer: SampleFile.Writer) async throws(EngineError) -> (sampleRate: Int, frames: Int, words: [Narration.Word]) {
        var rate = 0, frames = 0
        var words: [Narration.Word] = []
        for (k, part) in split(text).enumerated() {
            let n = try await engine.synthesize(part.text, voice: voice)
            if k == 0 { rate = n.sampleRate }
            guard n.sampleRate == rate else {
                throw EngineError(code: "speech.failed", message: "the voice changed its sample rate within one narration (\(rate) then \(n.sampleRate) Hz)")
            }
            if k > 0, engine.sentenceJoinPause > 0 {
                let pause = Int(engine.sentenceJoinPause * Double(rate))
                writer.write([Float](repeating: 0, count: pause))
                frames += pause
            }
            let at = Double(frames) / Double(rate)
            for w in n.words {
                var w = w
                if k > 0 {
                    w.start += at; w.end += at
                    w.source = w.source.map { $0 + part.offset }
                }
                words.append(w)
            }
            writer.write(n.samples)
            frames += n.samples.count
        }
        return (rate, frames, words)
    }

    /// A scene's narration as the voice says it: cut at its pauses (silence written between the parts), each part
    /// normalised for the voice's language and its lexicon, spoken, and its words placed back in the narration.
    static func speak(scene: JobManifest.Scene, voice: JobManifest.Voice, lexicon: [String: String], engine: any SpeechEngine,
                      into writer: SampleFile.Writer) async throws(EngineError) -> (sampleRate: Int, frames: Int, words: [Narration.Word]) {
        var rate = 0, frames = 0
        var words: [Narration.Word] = []
        for part in Pauses.split(scene.narration, scene.pauses) {
            let text = Normaliser.normalise(part.text, voice: voice.voice, lexicon: lexicon)
            if text.text.contains(where: { $0.isLetter || $0.isNumber }) {
                let n = try await speak(text.text, voice: voice, engine: engine, into: writer)
                if rate == 0 { rate = n.sampleRate }
                guard n.sampleRate == rate else {
                    throw EngineError(code: "speech.failed", message: "the voice changed its sample rate within one narration (\(rate) then \(n.sampleRate) Hz)")
                }
                let at = Double(frames) / Double(rate)
                for var w in inScript(n.words, text) {
                    w.start += at; w.end += at
                    w.source = w.source.map { $0 + part.offset }
                    words.append(w)
                }
                frames += n.frames
            }
            // A pause before the first word has no rate to be written at; the scene's lead-in stands for it.
            if part.pauseAfter > 0, rate > 0 {
                let pause = Int(part.pauseAfter * Double(rate))
                writer.write([Float](repeating: 0, count: pause))
                frames += pause
            }
        }
        // Nothing a voice reads as words (a scene of "---"): given to the voice as it is, as it always was.
        if rate == 0 { return try await speak(scene.narration, voice: voice, engine: engine, into: writer) }
        return (rate, frames, words)
    }

    /// The words of a narration spoken from `text` (the normalised script), placed in the script itself: "fifty"
    /// of "two dollars and fifty cents" starts where `$2.50` does, so the caption shows `$2.50` for its time.
    static func inScript(_ words: [Narration.Word], _ text: SpokenText) -> [Narration.Word] {
        var cursor = 0
        let scalars = Array(text.text.unicodeScalars)
        return words.map { w in
            var w = w
            if let place = w.source ?? CaptionAligner.locate(w.text, in: scalars, from: cursor) {
                cursor = place + 1
                w.source = text.scriptOffset(ofSpoken: place)
            }
            return w
        }
    }
}

/// The job's soundtrack, made scene by scene a window at a time and spooled to the work folder, measured for
/// loudness as it is written; the encoder then reads it back through the gain and limiter
/// (`AudioMix.normalized`). No buffer as long as the video exists at any point.
struct SoundtrackMix {
    struct Scene {
        var from: Int, to: Int
        /// Where the narration starts (frames at the mix rate) and the narration itself.
        var voiceStart: Int
        var voice: SpokenScene
        /// A clip's own sound, joined to the bed before ducking.
        var clip: Clip?
    }
    struct Clip {
        var path: String
        var first: Double
        var loops: Bool
        var gain: Float
    }
    struct Effect {
        var start: Int
        var file: URL
        var gain: Float
    }

    var sampleRate: Int
    var totalFrames: Int
    var bed: URL?
    var bedGain: Float
    var scenes: [Scene]
    var effects: [Effect]
    /// Frames mixed per step: 1 s at 48 kHz.
    static let window = 48_000

    /// Mixes into `output` (raw stereo Float32); returns the mix's integrated loudness.
    func render(to output: URL) throws(MediaError) -> Double {
        let writer = try SampleFile.Writer(url: output)
        let bedReader = try bed.map { url throws(MediaError) in try SampleFile.Reader(url: url) }
        let effectReaders = try effects.map { e throws(MediaError) in (e, try SampleFile.Reader(url: e.file)) }
        var meter = AudioMix.LoudnessMeter(sampleRate: sampleRate)
        var ducker = AudioMix.Ducker(sampleRate: sampleRate, bedGain: bedGain)
        let lookahead = Int(0.05 * Double(sampleRate))
        for scene in scenes {
            let to = min(scene.to, totalFrames)
            guard scene.from < to else { continue }
            var clip: [Float] = []
            var clipFirst = 0
            if let c = scene.clip {
                // A clip that cannot be decoded adds nothing (as before streaming).
                clip = (try? MediaReader.audioSamples(c.path, sampleRate: sampleRate, channels: 2)) ?? []
                clipFirst = min(clip.count / 2 - 1, Int(c.first * Double(sampleRate)))
            }
            // The scene's voice, read and resampled a block at a time; `voice` holds its samples from `voiceBase`.
            let reader = try SampleFile.Reader(url: scene.voice.file)
            let resampler = try MonoResampler(from: scene.voice.sampleRate, to: sampleRate)
            var voice: [Float] = []
            var voiceBase = 0, readAt = 0, voiceDone = false
            var a = scene.from
            while a < to {
                let b = min(to, a + Self.window)
                var block = try bedReader.map { r throws(MediaError) in try r.read((2 * a)..<(2 * b)) } ?? []
                if block.count < 2 * (b - a) { block += [Float](repeating: 0, count: 2 * (b - a) - block.count) }
                if let c = scene.clip, clip.count >= 2 {
                    let frames = clip.count / 2
                    for f in a..<b {
                        var s = clipFirst + (f - scene.from)
                        if s >= frames { if c.loops { s = clipFirst + (s - clipFirst) % max(1, frames - clipFirst) } else { break } }
                        block[2 * (f - a)] += clip[2 * s] * c.gain
                        block[2 * (f - a) + 1] += clip[2 * s + 1] * c.gain
                    }
                }
                // Enough voice for this window and the ducker's look-ahead past it.
                let need = b + lookahead - scene.voiceStart
                while !voiceDone && voiceBase + voice.count < need {
                    let chunk = try reader.read(readAt..<(readAt + 16_384))
                    readAt += chunk.count
                    if chunk.isEmpty {
                        voice += try resampler.finish()
                        voiceDone = true
                    } else {
                        voice += try resampler.process(chunk)
                    }
                }
                ducker.mix(voice: voice, at: scene.voiceStart + voiceBase, into: &block, startingAt: a, frames: a..<b)
                // Keep the voice from this window's end on (dropped in large steps: removing shifts what is left).
                let drop = min(voice.count, max(0, b - scene.voiceStart - voiceBase))
                if drop >= Self.window || voiceDone { voice.removeFirst(drop); voiceBase += drop }
                // Effects go on after ducking, summed first as one track (the order the whole-buffer mix used).
                var track: [Float]?
                for (e, r) in effectReaders where e.start < b {
                    let lo = max(a, e.start), hi = min(b, e.start + r.count / 2)
                    guard lo < hi else { continue }
                    let samples = try r.read((2 * (lo - e.start))..<(2 * (hi - e.start)))
                    if track == nil { track = [Float](repeating: 0, count: block.count) }
                    for k in 0..<samples.count { track![2 * (lo - a) + k] += samples[k] * e.gain }
                }
                if let track { for i in block.indices { block[i] += track[i] } }
                writer.write(block)
                meter.add(block)
                a = b
            }
        }
        // Frames no scene covers (none today: the scenes tile the video) are silence.
        let written = writer.count / 2
        if written < totalFrames {
            let pad = [Float](repeating: 0, count: 2 * (totalFrames - written))
            writer.write(pad)
            meter.add(pad)
        }
        try writer.close()
        return meter.integrated
    }
}
