import Engines
import Foundation
import JapaneseText

/// Japanese for Kokoro: MeCab readings over Open JTalk's dictionary → misaki's phonemes (Sources/Worker/JapaneseText),
/// cut into the pieces Kokoro's phoneme string has spaces between, each with its slice of the script for the captions.
public struct JapaneseKokoroFrontEnd: KokoroFrontEnd {
    public init() {}

    /// Opened once per process on first use (MeCab and the 1.9 MB word list); shared, MeCab calls are serialised inside.
    static let phonemizer: Result<JapanesePhonemizer, any Error> = Result { try JapanesePhonemizer() }

    /// Why Japanese cannot be read here, or nil when it can.
    public static var unavailableReason: String? {
        if case .failure(let error) = phonemizer { return "\(error)" }
        return nil
    }

    public var separator: String { " " }

    public func speaks(_ language: String) -> Bool {
        language.lowercased().split(separator: "-").first == "ja" && Self.unavailableReason == nil
    }

    public func words(for sentence: String, language: String) throws(EngineError) -> [KokoroWord] {
        do {
            let p = try Self.phonemizer.get()
            return try p.spokenWords(in: sentence).map { KokoroWord(text: String(sentence[$0.surface]), phonemes: $0.phonemes) }
        } catch {
            throw EngineError(code: "speech.phonemizer_failed", message: "the Japanese reading of \"\(sentence.prefix(60))\" failed: \(error)",
                              field: "voice.voice")
        }
    }
}
