import CEspeakNG
import Foundation
import Manifest
import Synchronization

/// The embedded voice: espeak-ng synthesised in memory, with word timings from its events.
public struct EspeakEngine: SpeechEngine {
    public init() {}

    public var identity: EngineIdentity { EngineIdentity(name: "espeak-ng", version: EspeakLibrary.version) }

    public func synthesize(_ text: String, voice: JobManifest.Voice) throws(EngineError) -> Narration {
        try EspeakLibrary.synthesize(text, voice: voice)
    }
}

/// libespeak-ng keeps global state and is not thread-safe: every call goes through one lock.
enum EspeakLibrary {
    private static let lock = Mutex<Int?>(nil) // the sample rate once initialised

    static let version: String = {
        guard let v = espeak_Info(nil) else { return "unknown" }
        return String(cString: v)
    }()

    /// Collects what the synthesis callback hands over.
    final class Collector {
        var samples: [Int16] = []
        var events: [(kind: espeak_EVENT_TYPE, textPosition: Int, length: Int, audioMs: Int)] = []
    }

    static func synthesize(_ text: String, voice: JobManifest.Voice) throws(EngineError) -> Narration {
        let result: Result<Narration, EngineError> = lock.withLock { rate in
            if rate == nil {
                let r = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 200, nil, Int32(espeakINITIALIZE_DONT_EXIT))
                guard r > 0 else {
                    return .failure(EngineError(code: "speech.engine_unavailable", message: "espeak-ng could not start: is espeak-ng-data installed? (apt-get install espeak-ng-data)"))
                }
                rate = Int(r)
                espeak_SetSynthCallback { wav, count, events in
                    guard let events, let box = events.pointee.user_data else { return 0 }
                    let collector = Unmanaged<Collector>.fromOpaque(box).takeUnretainedValue()
                    if let wav, count > 0 { collector.samples.append(contentsOf: UnsafeBufferPointer(start: wav, count: Int(count))) }
                    var e = events
                    while e.pointee.type != espeakEVENT_LIST_TERMINATED {
                        collector.events.append((e.pointee.type, Int(e.pointee.text_position), Int(e.pointee.length), Int(e.pointee.audio_position)))
                        e += 1
                    }
                    return 0
                }
            }
            guard espeak_SetVoiceByName(voice.voice) == EE_OK else {
                return .failure(EngineError(code: "speech.unknown_voice", message: "espeak-ng has no voice \"\(voice.voice)\" (try en-us, en-gb, de, fr, es; `espeak-ng --voices` lists them)", field: "voice.voice"))
            }
            espeak_SetParameter(espeakRATE, Int32((175 * voice.rate).rounded()), 0)
            espeak_SetParameter(espeakPITCH, Int32(min(100, max(0, 50 * voice.pitch))), 0)
            espeak_SetParameter(espeakVOLUME, 100, 0)
            let collector = Collector()
            let box = Unmanaged.passRetained(collector)
            defer { box.release() }
            let bytes = Array(text.utf8CString)
            let status = bytes.withUnsafeBufferPointer { buf in
                espeak_Synth(buf.baseAddress, buf.count, 0, POS_CHARACTER, 0, UInt32(espeakCHARS_UTF8), nil, box.toOpaque())
            }
            guard status == EE_OK else {
                return .failure(EngineError(code: "speech.failed", message: "espeak-ng failed to synthesise the narration (status \(status.rawValue))"))
            }
            return .success(narration(from: collector, text: text, sampleRate: rate!, gain: Float(voice.volume)))
        }
        return try result.get()
    }

    private static func narration(from c: Collector, text: String, sampleRate: Int, gain: Float) -> Narration {
        let samples = c.samples.map { Float($0) / 32768 * gain }
        let scalars = Array(text.unicodeScalars)
        let total = Double(samples.count) / Double(sampleRate)
        let wordEvents = c.events.filter { $0.kind == espeakEVENT_WORD }
        var words: [Narration.Word] = []
        var lastEnd = -1
        for (i, e) in wordEvents.enumerated() {
            // text_position counts characters from 1.
            let from = max(0, min(scalars.count, e.textPosition - 1))
            let to = max(from, min(scalars.count, from + e.length))
            var word = String(String.UnicodeScalarView(scalars[from..<to]))
            // Keep the punctuation that follows a word, so captions read naturally.
            var k = to
            while k < scalars.count, ",.;:!?\"')]…".unicodeScalars.contains(scalars[k]) { word.unicodeScalars.append(scalars[k]); k += 1 }
            let start = Double(e.audioMs) / 1000
            let end = i + 1 < wordEvents.count ? Double(wordEvents[i + 1].audioMs) / 1000 : total
            guard !word.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
            // espeak splits some words ("ProStudio" -> "Pro", "Studio"); glue parts with no space between.
            if let previous = words.last, from > 0, !scalars[from - 1].properties.isWhitespace, lastEnd == from {
                words[words.count - 1].text = previous.text + word
                words[words.count - 1].end = min(max(end, start), total)
            } else {
                words.append(.init(text: word, start: min(start, total), end: min(max(end, start), total)))
            }
            lastEnd = k
        }
        return Narration(sampleRate: sampleRate, samples: samples, words: words)
    }
}
