import Foundation

/// Text to IPA with espeak-ng, for neural voices that take phonemes (Piper). Runs the same
/// `prostudio-espeak` helper as `EspeakEngine`, in its PHONEMES mode, in a fresh process per call: espeak's
/// global state stays out of this process and the same lines always give the same phonemes.
public enum EspeakPhonemizer {
    /// IPA for each line (one clause or word per line; newlines inside are turned into spaces), from
    /// `espeak_TextToPhonemes(espeakCHARS_UTF8, espeakPHONEMES_IPA)` called until the line is consumed, its
    /// pieces joined with one space. Lines are phonemized in order by one espeak instance.
    public static func ipa(lines: [String], voice: String) throws(EngineError) -> [String] {
        if lines.isEmpty { return [] }
        let body = lines.map { $0.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\r", with: " ") }
        let (status, reply, stderr) = try EspeakHelper.run(Data(("PHONEMES\n\(voice)\n" + body.joined(separator: "\n") + "\n").utf8))
        switch status {
        case 0: break
        case 2:
            throw EngineError(code: "speech.unknown_voice", message: "espeak-ng has no voice \"\(voice)\" to phonemize with (the voice pack's espeak_voice)", field: "voice.pack")
        default:
            throw EngineError(code: "speech.failed", message: "espeak-ng phonemizer failed: \(stderr.isEmpty ? "exit \(status)" : stderr)")
        }
        var out = String(decoding: reply, as: UTF8.self).components(separatedBy: "\n")
        if out.last == "" { out.removeLast() }
        guard out.count == lines.count else {
            throw EngineError(code: "speech.failed", message: "espeak-ng phonemizer returned \(out.count) lines for \(lines.count)")
        }
        return out
    }
}
