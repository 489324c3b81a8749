import Foundation

/// What a scene's card shows, found in its narration. Every piece of text here is cut from the script itself
/// (its exact characters), so the card never says something the voice does not.
public struct SceneIdea: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable { case number, list, quote, phrase }

    /// A number with what it counts: "3.5 million people", "$40", "72%".
    public struct Amount: Sendable, Equatable {
        /// The whole phrase as written ("3.5 million people").
        public var text: String
        public var value: Double
        /// Digits after the point as written (the count-up shows the same precision).
        public var decimals: Int
        /// What comes before and after the counted figure ("$", " million people").
        public var prefix: String
        public var suffix: String
        /// A year ("in 1969") is shown, not counted up.
        public var isYear: Bool
        /// Unicode-scalar offset of the phrase in the narration (for timing against the voice).
        public var offset: Int
    }

    public struct Item: Sendable, Equatable {
        public var text: String
        public var offset: Int
    }

    public var kind: Kind
    /// The key noun phrase (every card has one; the headline of a `phrase` card).
    public var keyPhrase: Item
    public var amount: Amount?
    /// A list's items in the order spoken, or the quote's words (one item).
    public var items: [Item]
    /// Who is quoted, when the sentence says.
    public var attribution: String?
}

/// Rules over the text, in this order: a quoted phrase of two words or more makes a quote card; a list (items after
/// a colon, joined by commas and "and"/"or", or one item a line) a list card; a figure with digits (or a spelled
/// number before a unit) a number card; else the key noun phrase. The key noun phrase is the best run of content
/// words (not stop words, not common verbs) scored by length, capitals and position, one to four words long.
public enum PhraseFinder {
    public static func idea(in narration: String) -> SceneIdea {
        let key = keyPhrase(in: narration)
        if let q = quote(in: narration) {
            return SceneIdea(kind: .quote, keyPhrase: key, amount: nil, items: [q.text], attribution: q.attribution)
        }
        let items = listItems(in: narration)
        if items.count >= 2 {
            // What leads into the list ("A good tree needs three things") heads its card, when it is short.
            let lead = listLead(in: narration, before: items[0].offset)
            return SceneIdea(kind: .list, keyPhrase: lead ?? key, amount: nil, items: items, attribution: nil)
        }
        if let a = amounts(in: narration).first(where: { !$0.isYear }) ?? amounts(in: narration).first {
            // The phrase under the figure says what else the sentence is about: the figure's own words are masked.
            var masked = Array(narration.unicodeScalars)
            for i in a.offset..<min(masked.count, a.offset + a.text.unicodeScalars.count) { masked[i] = "," }
            let rest = bestRun(in: String(String.UnicodeScalarView(masked))) ?? key
            return SceneIdea(kind: .number, keyPhrase: rest, amount: a, items: [], attribution: nil)
        }
        return SceneIdea(kind: .phrase, keyPhrase: key, amount: nil, items: [], attribution: nil)
    }

    /// The clause before a list's colon (its own sentence's part), up to ten words, as written.
    static func listLead(in text: String, before offset: Int) -> SceneIdea.Item? {
        let s = Array(text.unicodeScalars)
        guard offset <= s.count, let colon = s[..<offset].lastIndex(of: ":") else { return nil }
        var a = colon
        while a > 0, !".!?\n".unicodeScalars.contains(s[a - 1]) { a -= 1 }
        while a < colon, s[a] == " " { a += 1 }
        let lead = String(String.UnicodeScalarView(s[a..<colon]))
        guard !lead.isEmpty, lead.split(separator: " ").count <= 10 else { return nil }
        return SceneIdea.Item(text: lead, offset: a)
    }

    // MARK: numbers

    static let scales = ["thousand", "million", "billion", "trillion", "hundred"]
    static let units: Set<String> = [
        "percent", "people", "users", "customers", "students", "children", "adults", "employees", "members", "visitors",
        "years", "months", "weeks", "days", "hours", "minutes", "seconds", "times", "degrees", "kilometres", "kilometers", "km",
        "miles", "metres", "meters", "m", "kg", "kilograms", "tonnes", "tons", "pounds", "litres", "liters", "dollars", "euros",
        "countries", "cities", "species", "trees", "homes", "households", "jobs", "languages", "steps", "calories", "grams", "cups",
        "feet", "inches", "mph", "km/h", "gb", "mb", "tb", "watts", "kwh", "volts", "ways", "things", "reasons", "tips", "points",
    ]
    static let spelled: [String: Double] = [
        "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11,
        "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "hundred": 100, "thousand": 1000,
    ]

    /// Figures in the text, in order. A figure is digits (with thousands commas and a decimal point), an optional
    /// currency sign before it, and after it an optional scale word, a percent sign or a unit word ("per cent" too).
    public static func amounts(in text: String) -> [SceneIdea.Amount] {
        let s = Array(text.unicodeScalars)
        var found: [SceneIdea.Amount] = []
        var i = 0
        while i < s.count {
            let c = s[i]
            guard CharacterSet.decimalDigits.contains(c), i == 0 || !CharacterSet.alphanumerics.contains(s[i - 1]) || "$€£".unicodeScalars.contains(s[i - 1]) else {
                i += 1; continue
            }
            var start = i
            var prefix = ""
            if i > 0, "$€£".unicodeScalars.contains(s[i - 1]) { start = i - 1; prefix = String(s[i - 1]) }
            var j = i
            var digits = ""
            var decimals = 0
            var seenPoint = false
            while j < s.count {
                let d = s[j]
                if CharacterSet.decimalDigits.contains(d) { digits.unicodeScalars.append(d); if seenPoint { decimals += 1 }; j += 1; continue }
                // A comma or point counts only between digits ("1,200", "3.5"), not a sentence's own punctuation.
                if (d == "," || d == "."), j + 1 < s.count, CharacterSet.decimalDigits.contains(s[j + 1]) {
                    if d == "." { if seenPoint { break }; seenPoint = true; digits += "." }
                    j += 1; continue
                }
                break
            }
            guard let value = Double(digits) else { i = j; continue }
            var end = j
            var suffixWords: [String] = []
            // Up to two following words: a scale then a unit ("3 million people"), or "per cent".
            func word(at k: Int) -> (String, Int)? {
                var a = k
                while a < s.count, s[a] == " " { a += 1 }
                var b = a
                while b < s.count, CharacterSet.letters.contains(s[b]) || s[b] == "/" { b += 1 }
                return b > a ? (String(String.UnicodeScalarView(s[a..<b])).lowercased(), b) : nil
            }
            if j < s.count, s[j] == "%" { end = j + 1; suffixWords.append("%") } else {
                var k = j
                for _ in 0..<2 {
                    guard let (w, b) = word(at: k) else { break }
                    if w == "per", let (w2, b2) = word(at: b), w2 == "cent" { suffixWords.append("per cent"); end = b2; break }
                    guard scales.contains(w) || units.contains(w) else { break }
                    suffixWords.append(w); end = b; k = b
                    if !scales.contains(w) { break }
                }
            }
            let whole = String(String.UnicodeScalarView(s[start..<end]))
            let figureEnd = j
            let suffix = String(String.UnicodeScalarView(s[figureEnd..<end]))
            let isYear = prefix.isEmpty && suffixWords.isEmpty && decimals == 0 && !digits.contains(",") && digits.count == 4 && (1000...2199).contains(Int(value))
            found.append(SceneIdea.Amount(text: whole, value: value, decimals: decimals, prefix: prefix, suffix: suffix, isYear: isYear, offset: start))
            i = max(end, j)
        }
        return found
    }

    // MARK: quotes

    /// The first run of text inside straight or curly double quotes with at least two words, and who said it:
    /// capitalised words after "said"/"wrote"/"asked" or after a dash following the quote, or before "said" ahead of it.
    public static func quote(in text: String) -> (text: SceneIdea.Item, attribution: String?)? {
        let s = Array(text.unicodeScalars)
        var i = 0
        while i < s.count {
            guard s[i] == "\"" || s[i] == "\u{201C}" else { i += 1; continue }
            let close: Unicode.Scalar = s[i] == "\"" ? "\"" : "\u{201D}"
            guard let j = s[(i + 1)...].firstIndex(of: close) else { return nil }
            let inner = String(String.UnicodeScalarView(s[(i + 1)..<j])).trimmingCharacters(in: .whitespaces)
            if inner.split(separator: " ").count >= 2 {
                let after = String(String.UnicodeScalarView(s[(j + 1)...]))
                let before = String(String.UnicodeScalarView(s[..<i]))
                return (SceneIdea.Item(text: inner, offset: i + 1), attribution(after: after, before: before))
            }
            i = j + 1
        }
        return nil
    }

    static func attribution(after: String, before: String) -> String? {
        let verbs: Set<String> = ["said", "wrote", "asked", "says", "writes", "observed", "noted"]
        func capitalisedRun(_ words: some Sequence<Substring>) -> String? {
            var run: [String] = []
            for w in words {
                let clean = w.trimmingCharacters(in: .punctuationCharacters)
                guard let f = clean.first, f.isUppercase else { break }
                run.append(clean)
                if w.last.map({ ".,;!?".contains($0) }) == true { break }
            }
            return run.isEmpty ? nil : run.joined(separator: " ")
        }
        let a = after.split(whereSeparator: { $0 == " " || $0 == "\n" })
        if let first = a.first {
            let f = first.trimmingCharacters(in: .punctuationCharacters).lowercased()
            if verbs.contains(f) { return capitalisedRun(a.dropFirst()) }
            if first.hasPrefix("—") || first.hasPrefix("-") {
                let rest = first.drop { $0 == "—" || $0 == "-" }
                return capitalisedRun((rest.isEmpty ? [] : [Substring(rest)]) + a.dropFirst())
            }
            if let second = a.dropFirst().first, verbs.contains(second.trimmingCharacters(in: .punctuationCharacters).lowercased()) {
                return capitalisedRun([first])
            }
        }
        // "As Marie Curie said, ..." before the quote.
        let b = before.split(separator: " ")
        if let v = b.lastIndex(where: { verbs.contains($0.trimmingCharacters(in: .punctuationCharacters).lowercased()) }) {
            let names = b[..<v].reversed().prefix { $0.first?.isUppercase == true && $0 != "As" }
            if !names.isEmpty { return names.reversed().joined(separator: " ") }
        }
        return nil
    }
}
