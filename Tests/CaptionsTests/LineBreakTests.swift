import Engines
import Foundation
import Media
import Testing
@testable import Captions

/// Lines break where a reader expects (issue 26): never between a number and its unit, inside a name followed
/// by a numeral, after an opening quote or before a closing dash; no line ends in "--"; no short word stranded.
struct LineBreakTests {
    func timed(_ text: String, secondsPerWord: Double = 0.3) -> [TimedWord] {
        ScriptWords.split(text).enumerated().map { i, w in
            TimedWord(word: w, start: Double(i) * secondsPerWord, end: Double(i + 1) * secondsPerWord, voiced: true)
        }
    }

    /// Every line of every cue, at every width from `widths`, as text.
    func lines(_ text: String, widths: ClosedRange<Int>) -> [[String]] {
        widths.map { width in
            let cues = CaptionLayout.cues(timed(text), window: 0...120, rules: CaptionRules(maxCharacters: width))
            #expect(Corpus.shown(cues) == text, "width \(width)")
            return cues.flatMap(\.lineTexts)
        }
    }

    /// Whether some line ends with `end` and the next starts with `start` (a break between them).
    func broken(_ layout: [String], _ end: String, _ start: String) -> Bool {
        zip(layout, layout.dropFirst()).contains { $0.hasSuffix(end) && $1.hasPrefix(start) }
    }

    @Test func aNumberStaysWithItsUnit() {
        let text = "With the right care a seedling can grow up to 5 cm taller in a week, and 3 million of them did so."
        for layout in lines(text, widths: 12...42) {
            #expect(!broken(layout, "5", "cm"), "\(layout)")
            #expect(!broken(layout, "3", "million"), "\(layout)")
        }
        // The issue's own line: the width at which it split "5 / cm" now keeps them together.
        let units = CaptionLayout.glue(CaptionLayout.units(timed("can grow up to 5 cm taller")))
        #expect(units.map { $0.words.map(\.word.text).joined(separator: " ") } == ["can", "grow", "up", "to", "5 cm", "taller"])
    }

    @Test func aNameStaysWithItsNumeral() {
        let text = "In 1944 the Mark II computer was built while World War 2 was still going on, long before Apollo 11 flew."
        for layout in lines(text, widths: 12...42) {
            #expect(!broken(layout, "Mark", "II"), "\(layout)")
            #expect(!broken(layout, "World", "War") && !broken(layout, "War", "2"), "\(layout)")
            #expect(!broken(layout, "Apollo", "11"), "\(layout)")
        }
        // Not a name: a lone "I", a lower-case word, a name with a comma after it.
        let plain = CaptionLayout.glue(CaptionLayout.units(timed("Then I saw Paris, 2 of them and chapter 3")))
        #expect(plain.allSatisfy { $0.words.count == 1 })
    }

    @Test func noLineEndsInADoubleDashOrStartsWithAClosingDash() {
        let text = "We'll look at five pictures -- each one taken by a telescope -- and then the sky — which is darker than you think — opens up."
        for layout in lines(text, widths: 12...42) {
            for line in layout.dropLast() { #expect(!line.hasSuffix("--"), "\(layout)") }
            #expect(!broken(layout, "think", "—"), "closing dash starts a line: \(layout)")
            #expect(!broken(layout, "telescope", "--"), "\(layout)")
        }
    }

    @Test func anOpeningQuoteStaysWithItsWord() {
        let text = #"She said " Oh, and have a nice day! " and left the room without another word."#
        for layout in lines(text, widths: 10...42) {
            for line in layout {
                #expect(!line.hasSuffix("\"") || line.hasSuffix("day! \""), "opening quote ends a line: \(layout)")
                #expect(!line.hasPrefix("\" and"), "closing quote starts a line: \(layout)")
            }
        }
    }

    @Test func noShortWordStrandedOnItsLine() {
        // At a Short's width (about 23 columns) this used to come out "Oh, / and have a nice day!".
        let rules = CaptionRules(width: 1080, height: 1920, fontSize: 67)
        let cues = CaptionLayout.cues(timed("Oh, and have a nice day!"), window: 0...10, rules: rules)
        #expect(cues.count == 1)
        #expect(cues[0].lineTexts.count == 2)
        #expect(cues[0].lineTexts.first != "Oh,", "\(cues[0].lineTexts)")
    }
}
