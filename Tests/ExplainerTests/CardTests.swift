import Engines
import Foundation
import Manifest
import Media
import Testing
@testable import Explainer

/// The card's layout and script, without rendering: where it may draw, what it shows when.
struct CardTests {
    static func canvas(_ text: String, width: Int = 1280, height: Int = 720, index: Int = 0, words: [Narration.Word] = []) throws -> SceneCanvas {
        let visuals = try JSONDecoder().decode(JobManifest.Visuals.self, from: Data(#"{"engine": "explainer", "style": "soft"}"#.utf8))
        var c = SceneCanvas(index: index, width: width, height: height, fps: 25, frames: 125, prompt: nil, image: nil, visuals: visuals,
                            jobSeed: 11, narration: text)
        c.spokenWords = words
        c.narrationOffset = 0.25
        c.narrationDuration = 4
        return c
    }

    @Test(arguments: [(1280, 720), (720, 1280), (1080, 1080), (1920, 1080)])
    func cardStaysInsideTheSafeAreaAndAboveCaptionsAndHeadings(size: (Int, Int)) {
        let (w, h) = size
        // Burned captions as the pipeline styles them: a vertical video's sit above the bottom fifth.
        let margin = h > w ? h / 5 : max(8, h / 18), captionSize = max(12, min(w, h) / 16)
        let l = CardLayout(width: w, height: h, captions: (CaptionStyle(size: captionSize, outline: 2, margin: margin), 2))
        // Title-safe: 5% in from every edge.
        #expect(l.left >= w / 20 && l.right <= w - w / 20 && l.top >= h / 20)
        // Two caption lines and a heading's box (ASSScript.overlayStyles) sit below the card.
        let captionTop = h - margin - 2 * Int(Double(captionSize) * 1.3)
        let lowerSize = max(12, min(w, h) / 20)
        let headingTop = h - (margin + Int(Double(captionSize) * 2.6) + lowerSize / 2) - Int(Double(lowerSize) * 1.4)
        #expect(l.bottom < captionTop && l.bottom < headingTop, "card bottom \(l.bottom), captions from \(captionTop), heading from \(headingTop)")
        // Room left to say something: at least 40% of the frame's height.
        #expect(Double(l.cardHeight) >= 0.4 * Double(h))
        // A long phrase is set small enough to fit the card's width on its lines.
        let s = l.fitting("Interdisciplinary collaboration accelerates breakthroughs", fraction: 0.13, maxLines: 3)
        // (DejaVu Sans Bold: about 0.62 of the size for a lower-case letter, 0.75 for a capital.)
        #expect(Double(s) * (0.75 + 0.62 * 16) <= Double(l.cardWidth), "the longest word would overflow at size \(s)")
    }

    @Test func numberCountsUpFromWhenItIsSpokenAndEndsOnTheScriptsText() throws {
        let text = "Last year the city planted 12,500 trees along its rivers."
        // The voice says "twelve thousand five hundred" from 1.0 s.
        let words = [Narration.Word(text: "last", start: 0, end: 0.2, source: 0), Narration.Word(text: "year", start: 0.2, end: 0.4, source: 5),
                     Narration.Word(text: "the", start: 0.4, end: 0.5, source: 10), Narration.Word(text: "city", start: 0.5, end: 0.7, source: 14),
                     Narration.Word(text: "planted", start: 0.7, end: 1.0, source: 19), Narration.Word(text: "twelve", start: 1.0, end: 1.8, source: 27),
                     Narration.Word(text: "trees", start: 1.8, end: 2.1, source: 34)]
        let script = ExplainerVisuals.script(for: try Self.canvas(text, words: words), text: text)
        let figures = script.split(separator: "\n").filter { $0.hasPrefix("Dialogue: 2") && $0.hasSuffix("} trees") }
        // Counting steps, then the held figure written as in the script.
        #expect(figures.count >= 10)
        #expect(figures.last?.contains("12,500") == true)
        #expect(figures.first?.contains("}0{") == true, "the count starts at 0: \(figures.first ?? "")")
        // It starts as the voice reaches the figure: 0.25 s offset + 1.0 s - 0.15 s lead = 1.10 s.
        #expect(figures.first?.contains("0:00:01.10") == true, "\(figures.first ?? "")")
        // Thousands commas as the script wrote them, while counting.
        #expect(figures.dropFirst(8).first?.contains(",") == true)
    }

    @Test func listItemsArriveInOrderAsSpoken() throws {
        let text = "A good street tree needs three things: deep soil, clean water and patience."
        let script = ExplainerVisuals.script(for: try Self.canvas(text), text: text)
        let lines = script.split(separator: "\n").filter { $0.contains("\\move(") }
        #expect(lines.count == 3)
        for (line, item) in zip(lines, ["deep soil", "clean water", "patience"]) { #expect(line.hasSuffix(item)) }
        let starts = lines.map { String($0.split(separator: ",")[1]) }
        #expect(starts == starts.sorted() && Set(starts).count == 3, "items should arrive one after another: \(starts)")
    }

    @Test func quoteCardKeepsTheWordsAndNamesWhoSaidThem() throws {
        let text = "As Marie Curie said, \"Nothing in life is to be feared, it is only to be understood.\""
        let script = ExplainerVisuals.script(for: try Self.canvas(text), text: text)
        #expect(script.contains("\u{2014} Marie Curie"))
                // Word by word, every word of the quote is there.
        let shown = script.split(separator: "\n").first { $0.contains("DejaVu Serif") && $0.contains("Nothing") }.map { line in
            line.replacingOccurrences(of: #"\{[^}]*\}"#, with: "", options: .regularExpression)
        } ?? ""
        #expect(shown.hasSuffix("Nothing in life is to be feared, it is only to be understood."), "\(shown)")
    }

    @Test func theFirstCardWaitsForTheTitleToLeave() throws {
        var c = try Self.canvas("Last year the city planted 12,500 trees along its rivers.")
        c.titleUntil = 3.32
        let script = ExplainerVisuals.script(for: c, text: c.narration!)
        let starts = script.split(separator: "\n").filter { $0.hasPrefix("Dialogue") }.map { String($0.split(separator: ",")[1]) }
        #expect(!starts.isEmpty && starts.allSatisfy { $0 >= "0:00:03.32" }, "\(starts)")
    }

    /// Phrase, figure and list cards draw the matched icon inside the card at every aspect; a quote card does not.
    @Test(arguments: [(1280, 720), (720, 1280), (1080, 1080)])
    func anIconIsDrawnByItsNameOnPhraseFigureAndListCards(size: (Int, Int)) throws {
        let texts = ["Solar panels turn sunlight into electricity.", "The rocket launch reached 400 km above the Earth.",
                     "Every photographer needs three things: a camera, a lens and light."]
        for text in texts {
            for index in 0..<2 {
                let c = try Self.canvas(text, width: size.0, height: size.1, index: index)
                let script = ExplainerVisuals.script(for: c, text: text, icon: "solar_power")
                let line = script.split(separator: "\n").first { $0.hasSuffix("}solar_power") }
                #expect(line?.contains("\\fnMaterial Icons") == true, "no icon at \(size) on: \(text)\n\(script)")
                // Inside the card's box.
                let l = CardLayout(width: size.0, height: size.1)
                if let pos = line?.range(of: #"\\pos\((\d+),(\d+)\)"#, options: .regularExpression).map({ line![$0] }) {
                    let xy = pos.dropFirst(5).dropLast().split(separator: ",").compactMap { Int($0) }
                    #expect(xy[0] > l.left && xy[0] <= l.right && xy[1] > l.top && xy[1] < l.bottom, "\(xy) outside \(l)")
                }
            }
        }
        // Without an icon the card is type only; a quote card stays type only.
        let plain = ExplainerVisuals.script(for: try Self.canvas("Solar panels turn sunlight into electricity."), text: "Solar panels turn sunlight into electricity.")
        #expect(!plain.contains("Material Icons"))
        let quote = "As Ada Lovelace wrote, \"The engine might compose elaborate pieces of music.\""
        #expect(!ExplainerVisuals.script(for: try Self.canvas(quote), text: quote, icon: "solar_power").contains("Material Icons"))
    }

    @Test func consecutivePhraseCardsAlternateLayouts() throws {
        let a = ExplainerVisuals.script(for: try Self.canvas("Shade cools the pavement.", index: 3), text: "Shade cools the pavement.")
        let b = ExplainerVisuals.script(for: try Self.canvas("Birds return in spring.", index: 4), text: "Birds return in spring.")
        #expect(a.contains("\\an5") != b.contains("\\an5"))
    }

    @Test(arguments: [(1280, 720), (720, 1280), (1080, 1080)])
    func framesAreDrawnAtEveryAspect(size: (Int, Int)) throws {
        let (w, h) = size
        var c = try Self.canvas("Coral reefs shelter a quarter of all marine species.", width: w, height: h)
        c.frames = 30
        guard case .frames(let stream) = try ExplainerVisuals().picture(for: c, progress: { _ in }) else { Issue.record("not frames"); return }
        #expect(stream.width == w && stream.height == h && stream.pixelFormat == .yuv420p)
        let it = try stream.makeIterator()
        var count = 0
        var last: [UInt8] = []
        while let f = try it.next() { count += 1; last = f }
        #expect(count == 30)
        #expect(last.count == w * h + 2 * ((w + 1) / 2) * ((h + 1) / 2))
        // Text was painted: near-white luma somewhere in the card, which the dark gradient alone never reaches.
        let bright = last.prefix(w * h).filter { $0 > 200 }.count
        #expect(bright > w * h / 400, "only \(bright) bright pixels")
    }
}

/// Narrations a script may really hold: nothing, punctuation, ASS's own tag characters, a long paragraph, no spaces.
struct OddNarrationTests {
    @Test(arguments: ["", "...", "  \n ", "{\\b1}Braces {are} text\\N here.", "42", "1,000,000,000,000,000,000,000 grains",
                      String(repeating: "Rivers carry silt to the sea and build deltas over centuries. ", count: 30),
                      "東京は世界で最も人口の多い都市圏です。", "\"\"", "Note: ", "- one\n- two"])
    func anyNarrationMakesACardWithoutBreaking(_ text: String) throws {
        let c = try CardTests.canvas(text)
        let script = ExplainerVisuals.script(for: c, text: text)
        #expect(script.contains("[Events]"))
        // Tag characters from the script never reach libass as tags: every `{` opens one of the card's own tags.
        for line in script.split(separator: "\n") where line.hasPrefix("Dialogue") {
            #expect(!line.contains("Braces {are}") && !line.contains("{\\b1}Braces"), "\(line)")
        }
        guard case .frames(let stream) = try ExplainerVisuals().picture(for: c, progress: { _ in }) else { Issue.record("not frames"); return }
        let it = try stream.makeIterator()
        #expect(try it.next() != nil)
    }
}
