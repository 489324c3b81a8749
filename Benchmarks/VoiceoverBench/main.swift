// VoiceoverBench: how close `narration_audio` captions come to the words as spoken. Each passage is rendered by a
// "recording" voice whose word times are known (Piper's joe-medium when its pack is in MODELS_DIR, else espeak-ng
// with another voice, rate and pitch), then aligned by `Voiceover.align` against espeak-ng's rendering of the same
// text, as the pipeline does; the aligned onsets are compared with the recording voice's own.
//
//   swift run VoiceoverBench [MODELS_DIR]      (default: $PROSTUDIO_TEST_MODELS, else /tmp/prostudio-test-models)
//
// Prints the recording voice, the word count, the median, p95 and max word-onset error in milliseconds, and the
// median signed error (a lead or lag common to most words: the two voices place a word's start differently).
import Engines
import Foundation
import Manifest
import Media
import NeuralVoice
import Pipeline

let passages = [
    "The lighthouse stood at the end of a narrow spit of rock. Every evening the keeper climbed its spiral stairs, trimmed the wick, and watched the beam sweep across the water. Ships he would never meet steered by it, and he liked that thought more than he could explain.",
    "Bread is mostly flour, water, salt and time. The yeast eats the sugars in the dough and breathes out gas, which the gluten traps in small pockets. A patient baker lets the dough rise slowly in a cool room, because flavour grows while nothing seems to happen.",
    "In the spring the river floods the low meadows, and for a few weeks the fields become a shallow lake. Herons stand in it like grey posts. When the water drains away it leaves a layer of fine silt, and the grass that follows is the greenest in the valley.",
    "Our new library opens on Monday morning. There are quiet rooms on the top floor, a workshop with tools you can borrow, and a garden where children can read outside. Members can reserve a desk online, and the first coffee is always free.",
    "Most people never think about the pipes under their streets until one of them bursts. Engineers walk the old lines at night, listening through long metal rods for the hiss of a leak. It is slow work, but it saves a great deal of water every year.",
    "The expedition left the village before dawn, carrying ropes, food for five days, and a small stove. By noon they had reached the glacier. The guide tested every step with his axe, and nobody spoke much, because the silence of the ice seemed to ask for it.",
    "A good map is a set of careful choices. The cartographer decides which roads to show, which names to print, and which details to leave out, so that the reader can find the way without drowning in information. Every map is a small argument about what matters.",
]

let env = ProcessInfo.processInfo.environment
let models = URL(fileURLWithPath: CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : env["PROSTUDIO_TEST_MODELS"] ?? "/tmp/prostudio-test-models")
let espeak = EspeakEngine()
let reference = JobManifest.Voice(engine: .espeak)

let recorder: any SpeechEngine
var recorderVoice: JobManifest.Voice
let label: String
if FileManager.default.fileExists(atPath: models.appendingPathComponent(PiperEngine.defaultPack).path) {
    recorder = PiperEngine(models: models)
    recorderVoice = PiperEngine.voice(pack: PiperEngine.defaultPack)
    label = "piper \(PiperEngine.defaultPack)"
} else {
    recorder = espeak
    recorderVoice = JobManifest.Voice(engine: .espeak, voice: "en-gb", rate: 0.8, pitch: 0.7)
    label = "espeak-ng en-gb at rate 0.8, pitch 0.7 (no Piper pack in \(models.path))"
}

var errors: [Double] = []
var skipped = 0
var signed: [Double] = []
var audioSeconds = 0.0, alignSeconds = 0.0
for text in passages {
    let truth = try await recorder.synthesize(text, voice: recorderVoice)
    let synthetic = try espeak.synthesize(text, voice: reference)
    var recording = truth.samples
    if truth.sampleRate != synthetic.sampleRate {
        let r = try MonoResampler(from: truth.sampleRate, to: synthetic.sampleRate)
        recording = try r.process(recording) + r.finish()
    }
    let clock = ContinuousClock.now
    let aligned = Voiceover.align(synthetic.words, synthetic: synthetic.samples, recording: recording, sampleRate: synthetic.sampleRate)
    let elapsed = ContinuousClock.now - clock
    alignSeconds += Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    audioSeconds += Double(recording.count) / Double(synthetic.sampleRate)
    // Words are paired by text, in order: Piper gives no text offsets and may time two words as one ("end of"),
    // whose onset is its first word's. A word the two voices split differently is left out and counted.
    func key(_ t: Substring) -> String { t.lowercased().filter { $0.isLetter || $0.isNumber } }
    var unpaired = 0, cursor = 0
    for word in truth.words {
        guard let first = word.text.split(whereSeparator: \.isWhitespace).first,
              let k = aligned[cursor...].prefix(3).firstIndex(where: { key($0.text[...]) == key(first) }) else { unpaired += 1; continue }
        errors.append(abs(aligned[k].start - word.start)); signed.append(aligned[k].start - word.start)
        cursor = k + 1
    }
    skipped += unpaired
}
errors.sort()
let sorted = errors
func percentile(_ p: Double) -> Double { sorted.isEmpty ? .nan : sorted[min(sorted.count - 1, Int((p * Double(sorted.count - 1)).rounded()))] * 1000 }
print("recording voice: \(label); aligned against espeak-ng en-us")
print("words: \(errors.count) (\(skipped) not paired) in \(passages.count) passages, \(String(format: "%.1f", audioSeconds)) s of speech, aligned in \(String(format: "%.2f", alignSeconds)) s")
print(String(format: "word-onset error: median %.0f ms, p95 %.0f ms, max %.0f ms; within 80 ms: %.0f%%", percentile(0.5), percentile(0.95), errors.last.map { $0 * 1000 } ?? .nan,
             100 * Double(errors.filter { $0 < 0.08 }.count) / Double(max(1, errors.count))))
let bias = signed.sorted()
if !bias.isEmpty { print(String(format: "signed error (aligned minus true): median %+.0f ms", bias[bias.count / 2] * 1000)) }
