import Foundation
import Testing
@testable import Normaliser

/// The corpus (corpus.tsv beside this file): each line a script and what the voice must be given for it.
@Suite struct NormaliserCorpusTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var line: Int, lang: String, script: String, spoken: String
        var testDescription: String { "line \(line) (\(lang)): \(script)" }
    }

    static let cases: [Case] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("corpus.tsv")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        return text.split(separator: "\n", omittingEmptySubsequences: false).enumerated().compactMap { n, line in
            guard !line.hasPrefix("#"), !line.isEmpty else { return nil }
            let f = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard f.count == 3 else { return Case(line: n + 1, lang: "?", script: String(line), spoken: "a line of three tab-separated fields") }
            return Case(line: n + 1, lang: String(f[0]), script: String(f[1]), spoken: String(f[2]))
        }
    }()

    @Test func theCorpusHoldsTwoHundredCasesInFourLanguages() {
        #expect(Self.cases.count >= 200)
        for lang in ["en", "fr", "de", "es"] { #expect(Self.cases.filter { $0.lang == lang }.count >= 40, "\(lang)") }
    }

    @Test(arguments: cases) func eachCaseReadsAsWritten(_ c: Case) {
        #expect(Normaliser.normalise(c.script, voice: c.lang).text == c.spoken)
    }
}

@Suite struct SpokenTextTests {
    /// Every spoken word maps back into the script word it came from, so captions keep the script's characters.
    @Test func spokenWordsMapBackToTheScriptWordTheyCameFrom() throws {
        let script = "It costs $2.50 on 12/25/2024, Dr. Smith."
        let spoken = Normaliser.normalise(script, voice: "en-us")
        #expect(spoken.text == "It costs two dollars and fifty cents on December twenty-fifth, twenty twenty-four, Doctor Smith.")
        func origin(_ word: String) throws -> Substring {
            let range = try #require(spoken.text.range(of: word))
            let at = spoken.text.unicodeScalars.distance(from: spoken.text.unicodeScalars.startIndex, to: range.lowerBound)
            let offset = spoken.scriptOffset(ofSpoken: at)
            let scalars = script.unicodeScalars
            let start = scalars.index(scalars.startIndex, offsetBy: offset)
            return Substring(script.unicodeScalars[start...]).prefix { $0 != " " }
        }
        #expect(try origin("fifty") == "$2.50")
        #expect(try origin("dollars") == "$2.50")
        #expect(try origin("twenty-fifth") == "12/25/2024,")
        #expect(try origin("Doctor") == "Dr.")
        #expect(try origin("Smith") == "Smith.")
        #expect(try origin("costs") == "costs")
    }

    @Test func aVoiceWithoutRulesGetsTheScriptUnchanged() {
        let script = "Это стоит 5 долларов."
        let spoken = Normaliser.normalise(script, voice: "ru")
        #expect(spoken.text == script)
        #expect(spoken.scriptOffset(ofSpoken: 10) == 10)
        #expect(!Normaliser.hasRules(forVoice: "ru") && Normaliser.hasRules(forVoice: "es-419"))
    }

    /// The same figure reads differently per language: the voice's language picks the rules.
    @Test func theVoicesLanguageChoosesTheReading() {
        #expect(Normaliser.normalise("3.5", voice: "en-gb").text == "three point five")
        #expect(Normaliser.normalise("3,5", voice: "fr-fr").text == "trois virgule cinq")
        #expect(Normaliser.normalise("3,5", voice: "de").text == "drei Komma fünf")
        #expect(Normaliser.normalise("3,5", voice: "es").text == "tres coma cinco")
    }

    @Test func whitespaceAndLineBreaksAreKept() {
        let spoken = Normaliser.normalise("Line 1\nLine  2\r\n", voice: "en")
        #expect(spoken.text == "Line one\nLine  two\r\n")
    }
}
