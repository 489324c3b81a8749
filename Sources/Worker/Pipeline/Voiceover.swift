import Engines
import Foundation
import Manifest
import Media

/// A scene narrated by the producer's own recording (`narration_audio`): the voice speaks the same text only to
/// learn where its words fall, the two renderings are aligned (`DTW`), and each word's times are carried over to
/// the recording. The recording is what is heard, at the synthetic voice's loudness; the captions follow it.
public enum Voiceover {
    /// Writes the scene's recording into `writer` (mono, at the voice's sample rate, level-matched to the voice)
    /// and returns its rate, length and words timed on the recording. `scratch` holds the voice's rendering.
    static func speak(scene: JobManifest.Scene, recording path: String, field: String, voice: JobManifest.Voice, lexicon: [String: String],
                      engine: any SpeechEngine, scratch: URL, into writer: SampleFile.Writer) async throws(PipelineError) -> (sampleRate: Int, frames: Int, words: [Narration.Word]) {
        let synthetic: (sampleRate: Int, samples: [Float], words: [Narration.Word])
        do {
            let spool = try SampleFile.Writer(url: scratch)
            defer { try? FileManager.default.removeItem(at: scratch) }
            let n: (sampleRate: Int, frames: Int, words: [Narration.Word])
            do { n = try await NarrationParts.speak(scene: scene, voice: voice, lexicon: lexicon, engine: engine, into: spool) } catch { throw PipelineError(error, stage: "speech") }
            try spool.close()
            synthetic = (n.sampleRate, try SampleFile.Reader(url: scratch).read(0..<n.frames), n.words)
        } catch let e as PipelineError { throw e } catch { throw PipelineError(error, stage: "speech") }

        var recording: [Float]
        do { recording = try MediaReader.audioSamples(path, sampleRate: synthetic.sampleRate, channels: 1) } catch {
            throw PipelineError(code: "speech.narration_audio", message: "\(field): cannot decode \((path as NSString).lastPathComponent): \(error)",
                                field: field, stage: "speech", disposition: .invalidInput)
        }
        guard recording.count >= synthetic.sampleRate / 10 else {
            throw PipelineError(code: "speech.narration_audio", message: "\(field): \((path as NSString).lastPathComponent) holds no sound (under 0.1 s)",
                                field: field, stage: "speech", disposition: .invalidInput)
        }
        let words = align(synthetic.words, synthetic: synthetic.samples, recording: recording, sampleRate: synthetic.sampleRate)

        // The recording at the voice's level (the voice's volume included), so the mix treats it as it would the
        // voice; the final limiter and loudness pass still run over the whole soundtrack.
        let target = loudness(synthetic.samples, synthetic.sampleRate), actual = loudness(recording, synthetic.sampleRate)
        if target.isFinite, actual.isFinite {
            var gain = Float(pow(10, (target - actual) / 20))
            let peak = recording.reduce(Float(0)) { max($0, abs($1)) }
            if peak * gain > 0.98 { gain = 0.98 / peak }
            for i in recording.indices { recording[i] *= gain }
        }
        writer.write(recording)
        return (synthetic.sampleRate, recording.count, words)
    }

    /// The voice's words moved onto the recording through the warp between the two renderings.
    public static func align(_ words: [Narration.Word], synthetic: [Float], recording: [Float], sampleRate: Int) -> [Narration.Word] {
        let path = DTW.warp(DTW.features(synthetic, sampleRate: sampleRate), DTW.features(recording, sampleRate: sampleRate))
        let length = Double(recording.count) / Double(sampleRate)
        var floor = 0.0
        return words.map { w in
            var w = w
            w.start = max(floor, min(length, DTW.map(w.start, through: path)))
            w.end = max(w.start, min(length, DTW.map(w.end, through: path)))
            floor = w.start
            return w
        }
    }

    private static func loudness(_ mono: [Float], _ rate: Int) -> Double {
        var stereo = [Float](repeating: 0, count: mono.count * 2)
        for (i, s) in mono.enumerated() { stereo[2 * i] = s; stereo[2 * i + 1] = s }
        return AudioMix.integratedLoudness(stereo, sampleRate: rate)
    }
}
