import Engines
import Foundation
import Normaliser
import Testing
@testable import Captions
@testable import Pipeline

/// The voice is given "two dollars and fifty cents" for `$2.50` (issue 33): the caption still shows `$2.50`, lit
/// while those words are spoken, and the word after it waits until they are said.
struct NormalisedSpeechTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var voice: String, script: String, written: String, spokenLast: String, next: String
        var testDescription: String { "\(voice): \(written)" }
    }

    static let cases = [
        Case(voice: "en-us", script: "It costs $2.50 today.", written: "$2.50", spokenLast: "cents", next: "today."),
        Case(voice: "en-us", script: "Doors open at 7:30 pm sharp.", written: "7:30", spokenLast: "thirty", next: "pm"),
        Case(voice: "fr", script: "La prise de la Bastille date de 1789 exactement.", written: "1789", spokenLast: "neuf", next: "exactement."),
        Case(voice: "es", script: "Cuesta 2,50 € en total.", written: "2,50", spokenLast: "cincuenta", next: "en"),
    ]

    @Test(arguments: cases)
    func aNormalisedWordIsLitWhileItIsSpoken(_ c: Case) throws {
        let text = Normaliser.normalise(c.script, voice: c.voice)
        #expect(text.text != c.script, "the normaliser left \(c.written) as written")
        let narration = try EspeakEngine().synthesize(text.text, voice: Corpus.voice(c.voice))
        // When the voice says the last word of the reading ("cents"): its event is the one at that place of the text.
        let spokenScalars = Array(text.text.unicodeScalars)
        let lastAt = try #require(CaptionAligner.locate(c.spokenLast, in: spokenScalars, from: 0))
        let said = try #require(narration.words.filter { ($0.source ?? -1) <= lastAt }.last, "no voice word at \(c.spokenLast)")
        let words = NarrationParts.inScript(narration.words, text)
        let timed = CaptionAligner.align(script: c.script, voice: words, duration: narration.duration)
        let written = try #require(timed.first { $0.word.text == c.written }, "no caption word \(c.written): \(timed.map(\.word.text))")
        let next = try #require(timed.first { $0.word.text == c.next })
        #expect(written.voiced)
        #expect(written.start <= said.start && said.start < written.end,
                "\(c.written) lit \(written.start)-\(written.end) s, \(c.spokenLast) said at \(said.start) s")
        #expect(next.start >= said.start, "\(c.next) lit at \(next.start) s, before \(c.spokenLast) (\(said.start) s)")
    }
}
