import Foundation
import Testing
@testable import Explainer

/// The phrase rules on sentences as people write them in scripts.
struct PhraseTests {
    @Test func numbersKeepTheirUnitsAndTheScriptsSpelling() {
        let a = PhraseFinder.amounts(in: "Last year the city planted 12,500 trees along its rivers.")
        #expect(a.map(\.text) == ["12,500 trees"])
        #expect(a.first?.value == 12500)
        #expect(a.first?.suffix == " trees")

        let b = PhraseFinder.amounts(in: "About 3.5 million people ride the metro every day.")
        #expect(b.first?.text == "3.5 million people")
        #expect(b.first?.value == 3.5)
        #expect(b.first?.decimals == 1)
        #expect(b.first?.suffix == " million people")

        let c = PhraseFinder.amounts(in: "Prices fell by 40% in a decade, and a panel now costs $120.")
        #expect(c.map(\.text) == ["40%", "$120"])
        #expect(c.last?.prefix == "$")
        #expect(c.last?.value == 120)

        let d = PhraseFinder.amounts(in: "Only 8 per cent of plastic is recycled.")
        #expect(d.first?.text == "8 per cent")
    }

    @Test func aYearIsShownNotCounted() {
        let idea = PhraseFinder.idea(in: "In 1969, two people walked on the Moon for 21 hours.")
        #expect(idea.kind == .number)
        // The figure with a unit wins over the year.
        #expect(idea.amount?.text == "21 hours")
        let year = PhraseFinder.amounts(in: "The bridge opened in 1932.")
        #expect(year.first?.isYear == true)
        // A sentence's own full stop is not a decimal point.
        #expect(year.first?.text == "1932")
    }

    @Test func quotesAndWhoSaidThem() {
        let q = PhraseFinder.idea(in: "As Marie Curie said, \"Nothing in life is to be feared, it is only to be understood.\"")
        #expect(q.kind == .quote)
        #expect(q.items.first?.text == "Nothing in life is to be feared, it is only to be understood.")
        #expect(q.attribution == "Marie Curie")

        let r = PhraseFinder.idea(in: "\u{201C}Simplicity is the ultimate sophistication,\u{201D} wrote Leonardo da Vinci.")
        #expect(r.kind == .quote)
        #expect(r.items.first?.text == "Simplicity is the ultimate sophistication,")
        #expect(r.attribution == "Leonardo")
        // One quoted word is a term, not a quote.
        #expect(PhraseFinder.idea(in: "Engineers call this \"drift\" and plan for it.").kind != .quote)
    }

    @Test func listsAsTheyAreWritten() {
        let colon = PhraseFinder.listItems(in: "A good habit needs three things: a cue, a routine, and a reward.")
        #expect(colon.map(\.text) == ["a cue", "a routine", "a reward"])
        let and = PhraseFinder.listItems(in: "Pack only what matters: water, a map and a warm coat.")
        #expect(and.map(\.text) == ["water", "a map", "a warm coat"])
        let lines = PhraseFinder.listItems(in: "Before you leave:\n- check the weather\n- tell a friend\n- charge your phone")
        #expect(lines.map(\.text) == ["check the weather", "tell a friend", "charge your phone"])
        let ordinal = PhraseFinder.listItems(in: "First, measure the room. Then, choose the paint. Finally, clear the floor.")
        #expect(ordinal.map(\.text) == ["measure the room", "choose the paint", "clear the floor"])
        // A colon before a long clause is not a list.
        #expect(PhraseFinder.listItems(in: "Here is the surprising part: the oldest trees in the forest grow the fastest of all.").isEmpty)
        // Offsets point at the item in the script (timing against the voice uses them).
        let text = "Three colours: red, green and blue."
        let items = PhraseFinder.listItems(in: text)
        let scalars = Array(text.unicodeScalars)
        for it in items {
            #expect(String(String.UnicodeScalarView(scalars[it.offset..<(it.offset + it.text.unicodeScalars.count)])) == it.text)
        }
    }

    @Test func keyNounPhrases() {
        let cases: [(String, String)] = [
            ("Coral reefs cover less than one percent of the ocean floor.", "Coral reefs"),
            ("Honey bees pollinate a third of the food we eat.", "Honey bees"),
            ("The printing press changed how ideas travelled across Europe.", "printing press"),
            // The subject is what a sentence is about, more than its longest words.
            ("Sleep is when the brain sorts the memories of the day.", "Sleep"),
            ("Shade cools the pavement on summer afternoons.", "Shade"),
        ]
        for (sentence, expected) in cases {
            let k = PhraseFinder.keyPhrase(in: sentence)
            #expect(k.text.lowercased().contains(expected.lowercased().split(separator: " ").first!), "\(sentence) -> \(k.text)")
            // Always the script's own characters, at its own offset.
            let s = Array(sentence.unicodeScalars)
            #expect(String(String.UnicodeScalarView(s[k.offset..<(k.offset + k.text.unicodeScalars.count)])) == k.text)
        }
        #expect(PhraseFinder.idea(in: "Photosynthesis turns sunlight into sugar.").kind == .phrase)
        // A verb before a determiner ends the phrase.
        #expect(PhraseFinder.keyPhrase(in: "Coral reefs cover less than one percent of the ocean floor.").text == "Coral reefs")
        #expect(PhraseFinder.keyPhrase(in: "Shade cools the pavement on summer afternoons.").text == "Shade")
        // Under a figure: what else the sentence is about, not its verb.
        #expect(PhraseFinder.idea(in: "About 3.5 million people ride the metro every day.").keyPhrase.text == "metro")
        // A list is led by the words before its colon.
        #expect(PhraseFinder.idea(in: "A good street tree needs three things: deep soil, clean water and patience.").keyPhrase.text
                == "A good street tree needs three things")
    }
}
