import Foundation
import Spawn
import Manifest

/// The embedded voice: espeak-ng, synthesised in memory with word timings from its events. Each
/// narration runs in a fresh `prostudio-espeak` helper process, because libespeak-ng carries state from
/// one synthesis to the next (see Sources/Worker/Engines/Speech/EspeakHelper/main.c) and the same manifest must give the same
/// timeline every time.
public struct EspeakEngine: SpeechEngine {
    public init() {}

    public var identity: EngineIdentity { EngineIdentity(name: "espeak-ng", version: Self.version) }

    /// The espeak-ng library version, read once from its package metadata.
    static let version: String = {
        guard let run = try? ChildProcess.run("/usr/bin/dpkg-query", arguments: ["-W", "-f=${Version}", "libespeak-ng1"]) else { return "1" }
        let v = run.status == 0 ? String(decoding: run.stdout, as: UTF8.self) : ""
        return v.isEmpty ? "1" : String(v.split(separator: "+").first ?? "1")
    }()

    public func synthesize(_ text: String, voice: JobManifest.Voice) throws(EngineError) -> Narration {
        let wpm = Int((175 * voice.rate).rounded())
        let pitch = Int(min(100, max(0, 50 * voice.pitch)))
        let (status, reply, stderr) = try EspeakHelper.run(Data("\(voice.voice)\n\(wpm)\n\(pitch)\n\(text)".utf8))
        switch status {
        case 0: break
        case 2:
            throw EngineError(code: "speech.unknown_voice", message: "espeak-ng has no voice \"\(voice.voice)\" (try en-us, en-gb, de, fr, es; `espeak-ng --voices` lists them)", field: "voice.voice")
        default:
            throw EngineError(code: "speech.failed", message: "espeak-ng failed: \(stderr.isEmpty ? "exit \(status)" : stderr)")
        }
        guard let parsed = Self.parse(reply) else {
            throw EngineError(code: "speech.failed", message: "espeak-ng helper returned a malformed reply (\(reply.count) bytes)")
        }
        return Self.narration(text: text, sampleRate: parsed.rate, samples: parsed.samples, events: parsed.events, gain: Float(voice.volume))
    }

    struct Event { var type: Int32; var textPosition: Int; var length: Int; var audioMs: Int }

    static func parse(_ data: Data) -> (rate: Int, events: [Event], samples: [Int16])? {
        guard data.count >= 12 else { return nil }
        return data.withUnsafeBytes { raw -> (Int, [Event], [Int16])? in
            func int32(_ offset: Int) -> Int32 { raw.loadUnaligned(fromByteOffset: offset, as: Int32.self) }
            let rate = Int(int32(0)), eventCount = Int(int32(4)), sampleCount = Int(int32(8))
            guard rate > 0, eventCount >= 0, sampleCount >= 0, data.count == 12 + eventCount * 16 + sampleCount * 2 else { return nil }
            let events = (0..<eventCount).map { i in
                let o = 12 + i * 16
                return Event(type: int32(o), textPosition: Int(int32(o + 4)), length: Int(int32(o + 8)), audioMs: Int(int32(o + 12)))
            }
            let base = 12 + eventCount * 16
            let samples = (0..<sampleCount).map { raw.loadUnaligned(fromByteOffset: base + 2 * $0, as: Int16.self) }
            return (rate, events, samples)
        }
    }

    /// espeak's word events carry where the word starts in the text and when it starts in the audio. Their
    /// lengths and the words they cover are unreliable ("this one" is one event, "2024" four), so only the
    /// place and the time are kept; captions take the words themselves from the script.
    static func narration(text: String, sampleRate: Int, samples raw: [Int16], events: [Event], gain: Float) -> Narration {
        let samples = raw.map { Float($0) / 32768 * gain }
        let scalars = Array(text.unicodeScalars)
        let total = Double(samples.count) / Double(sampleRate)
        let wordEvents = events.filter { $0.type == 1 } // espeakEVENT_WORD
        var words: [Narration.Word] = []
        for (i, e) in wordEvents.enumerated() {
            // text_position counts characters (code points) from 1.
            let from = max(0, min(scalars.count, e.textPosition - 1))
            let to = max(from, min(scalars.count, from + e.length))
            let start = min(Double(e.audioMs) / 1000, total)
            let end = min(max(i + 1 < wordEvents.count ? Double(wordEvents[i + 1].audioMs) / 1000 : total, start), total)
            words.append(.init(text: String(String.UnicodeScalarView(scalars[from..<to])), start: start, end: end, source: from))
        }
        return Narration(sampleRate: sampleRate, samples: samples, words: words)
    }
}
