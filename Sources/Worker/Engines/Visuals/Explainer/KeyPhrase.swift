import Foundation

extension PhraseFinder {
    // MARK: lists

    /// A list as written: one item a line ("- x", "* x", "1. x"), or items after a colon joined by commas with
    /// "and"/"or" before the last ("three things: speed, cost and care"), or sentences opened by "First,",
    /// "Second,", "Then,", "Finally,". Each item is the script's own text, trimmed of list marks and end punctuation.
    public static func listItems(in text: String) -> [SceneIdea.Item] {
        let scalars = Array(text.unicodeScalars)
        func item(_ range: Range<Int>) -> SceneIdea.Item? {
            var a = range.lowerBound, b = range.upperBound
            let trim = CharacterSet.whitespacesAndNewlines.union(CharacterSet(charactersIn: ".;:!?,"))
            while a < b, trim.contains(scalars[a]) { a += 1 }
            while b > a, trim.contains(scalars[b - 1]) { b -= 1 }
            return b > a ? SceneIdea.Item(text: String(String.UnicodeScalarView(scalars[a..<b])), offset: a) : nil
        }
        // One item a line.
        var lineItems: [SceneIdea.Item] = []
        var lineStart = 0
        for i in 0...scalars.count where i == scalars.count || scalars[i] == "\n" {
            var a = lineStart
            while a < i, scalars[a] == " " { a += 1 }
            var marked = false
            if a < i, "-*•".unicodeScalars.contains(scalars[a]) { a += 1; marked = true }
            else {
                var d = a
                while d < i, CharacterSet.decimalDigits.contains(scalars[d]) { d += 1 }
                if d > a, d < i, scalars[d] == "." || scalars[d] == ")" { a = d + 1; marked = true }
            }
            if marked, let it = item(a..<i) { lineItems.append(it) }
            lineStart = i + 1
        }
        if lineItems.count >= 2 { return lineItems }

        // After a colon, up to the end of its sentence.
        if let colon = scalars.firstIndex(of: ":") {
            var end = colon + 1
            while end < scalars.count, !".!?\n".unicodeScalars.contains(scalars[end]) { end += 1 }
            var parts: [Range<Int>] = []
            var a = colon + 1
            for i in (colon + 1)...end where i == end || scalars[i] == "," || scalars[i] == ";" {
                parts.append(a..<i); a = i + 1
            }
            // "x and y" in the last part splits too ("speed, cost and care"; "speed and cost").
            if let last = parts.last {
                let t = String(String.UnicodeScalarView(scalars[last]))
                for joiner in [" and ", " or "] {
                    if let r = t.range(of: joiner, options: .backwards) {
                        let cut = last.lowerBound + t.unicodeScalars.distance(from: t.unicodeScalars.startIndex, to: r.lowerBound.samePosition(in: t.unicodeScalars)!)
                        parts.removeLast()
                        parts.append(last.lowerBound..<cut)
                        parts.append((cut + joiner.unicodeScalars.count)..<last.upperBound)
                        break
                    }
                }
            }
            let items = parts.compactMap(item)
            // A list's items are short: a colon before a long clause is not a list.
            if items.count >= 2, items.allSatisfy({ $0.text.split(separator: " ").count <= 6 }) {
                return items.map { it in
                    // "and care" left by a leading joiner ("speed, cost, and care").
                    for j in ["and ", "or "] where it.text.hasPrefix(j) {
                        return SceneIdea.Item(text: String(it.text.dropFirst(j.count)), offset: it.offset + j.count)
                    }
                    return it
                }
            }
        }

        // Ordinal sentence openers.
        let openers = ["First", "Second", "Third", "Fourth", "Then", "Next", "Finally", "Last", "Lastly"]
        var ordinal: [SceneIdea.Item] = []
        for sentence in sentences(scalars) {
            let t = String(String.UnicodeScalarView(scalars[sentence]))
            for o in openers where t.hasPrefix(o + ",") || t.hasPrefix(o + " ") {
                let skip = o.unicodeScalars.count + (t.hasPrefix(o + ",") ? 1 : 0)
                if let it = item((sentence.lowerBound + skip)..<sentence.upperBound) { ordinal.append(it) }
                break
            }
        }
        return ordinal.count >= 2 ? ordinal : []
    }

    static func sentences(_ s: [Unicode.Scalar]) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var a = 0
        for i in 0..<s.count where ".!?\n".unicodeScalars.contains(s[i]) && (i + 1 == s.count || s[i + 1] == " " || s[i + 1] == "\n") {
            while a < i, s[a] == " " || s[a] == "\n" { a += 1 }
            if i > a { out.append(a..<(i + 1)) }
            a = i + 1
        }
        while a < s.count, s[a] == " " || s[a] == "\n" { a += 1 }
        if a < s.count { out.append(a..<s.count) }
        return out
    }

    // MARK: key noun phrase

    static let stopWords: Set<String> = Set("""
    a an the and or but if then than so as of at by for from in into on onto to with without about over under up down out off \
    is are was were be been being am do does did done have has had having will would shall should can could may might must \
    i me my we us our you your he him his she her it its they them their this that these those there here what which who whom \
    whose when where why how all any both each few more most other some such no nor not only own same too very just also \
    s t don now one every many much lot lots thing things something anything everything nothing way ways really quite even still \
    yet ever never always often because while during before after again once let lets get gets got make makes made take takes \
    took give gives gave go goes went come comes came see sees saw know knows knew think thinks thought say says said tell tells \
    told use uses used want wants need needs look looks find finds found keep keeps put puts try tries start starts begin begins \
    today tomorrow yesterday well like just new good best better first second third next last finally then though although \
    per cent percent around nearly almost about roughly across along through between among against toward towards upon \
    within behind beyond near since until via less fewer year years month months week weeks day days ago time times two three four five six seven eight nine ten hundred thousand
    """.split { $0 == " " || $0 == "\n" }.map(String.init))

    /// The best run of one to four content words, as written in the script.
    public static func keyPhrase(in text: String) -> SceneIdea.Item {
        if let run = bestRun(in: text) { return run }
        // No content word at all: the text's own start.
        let lead = text.unicodeScalars.prefix { CharacterSet.whitespacesAndNewlines.contains($0) }.count
        let head = String(String.UnicodeScalarView(text.unicodeScalars.dropFirst(lead).prefix(40)))
        return SceneIdea.Item(text: head.trimmingCharacters(in: .whitespacesAndNewlines), offset: lead)
    }

    /// The best-scoring run of content words, nil when the text has none.
    static func bestRun(in text: String) -> SceneIdea.Item? {
        let s = Array(text.unicodeScalars)
        // Words with their scalar ranges; a sentence start and punctuation break runs.
        struct W { var range: Range<Int>; var lower: String; var capital: Bool; var sentenceStart: Bool; var breakBefore: Bool }
        var words: [W] = []
        var i = 0
        var sentenceStart = true
        var breakBefore = true
        while i < s.count {
            if CharacterSet.letters.contains(s[i]) || CharacterSet.decimalDigits.contains(s[i]) {
                var j = i
                while j < s.count, CharacterSet.alphanumerics.contains(s[j]) || ((s[j] == "'" || s[j] == "-" || s[j] == "\u{2019}") && j + 1 < s.count && CharacterSet.letters.contains(s[j + 1])) { j += 1 }
                let text = String(String.UnicodeScalarView(s[i..<j]))
                words.append(W(range: i..<j, lower: text.lowercased(), capital: text.first?.isUppercase == true, sentenceStart: sentenceStart, breakBefore: breakBefore))
                sentenceStart = false; breakBefore = false
                i = j
            } else {
                if ".!?".unicodeScalars.contains(s[i]) { sentenceStart = true }
                if !CharacterSet.whitespaces.contains(s[i]) { breakBefore = true }
                i += 1
            }
        }
        func content(_ w: W) -> Bool {
            !stopWords.contains(w.lower) && !w.lower.allSatisfy(\.isNumber) && w.lower.count > 1
                && !(w.lower.hasSuffix("ly") && w.lower.count > 4)
        }
        // Without a tagger, a verb is most often the word right before a determiner ("cools the pavement", "cover
        // less than"): inside a run it ends the noun phrase.
        let verbCue: Set<String> = ["the", "a", "an", "its", "their", "our", "his", "her", "this", "these", "those", "your", "my",
                                    "less", "more", "than", "how", "what", "why"]
        func verbLike(_ i: Int) -> Bool { i + 1 < words.count && verbCue.contains(words[i + 1].lower) && !words[i + 1].breakBefore }
        var best: (score: Double, range: Range<Int>)?
        var k = 0
        var firstRun = true
        while k < words.count {
            guard content(words[k]), !verbLike(k) else { k += 1; continue }
            var e = k + 1
            while e < words.count, e - k < 4, content(words[e]), !words[e].breakBefore, !verbLike(e) { e += 1 }
            let subject = firstRun
            firstRun = false
            // Every sub-run counts: a long run's best part may be its end ("the fast growing city" -> "growing city").
            for a in k..<e {
                for b in (a + 1)...e {
                    let run = words[a..<b]
                    var score = 0.0
                    for w in run {
                        score += min(Double(w.lower.count), 9) / 3
                        if w.capital && !w.sentenceStart { score += 1.5 }
                    }
                    // A verb form is a weak head ("travelled", "growing"); before a noun it is fine ("printing press").
                    if let head = run.last?.lower, head.hasSuffix("ing") || head.hasSuffix("ed") { score -= 1.5 }
                    // Two or three words read as a phrase; earlier in the scene is what it is about.
                    score *= [1, 1, 1.1, 1.05, 0.9][min(run.count, 4)] / Double(run.count).squareRoot()
                    // What the scene is about is most often its subject: the first run, and what comes early.
                    if subject && a == k { score += 1.5 }
                    score -= Double(words[a].range.lowerBound) / Double(max(1, s.count)) * 2
                    if best == nil || score > best!.score { best = (score, words[a].range.lowerBound..<words[b - 1].range.upperBound) }
                }
            }
            k = e
        }
        guard let best else { return nil }
        return SceneIdea.Item(text: String(String.UnicodeScalarView(s[best.range])), offset: best.range.lowerBound)
    }
}
