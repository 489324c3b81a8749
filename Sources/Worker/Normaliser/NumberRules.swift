/// The rules that read numbers: money, percentages, measures, clock times, dates, decades, ranges, phone-like
/// digit strings, ordinals and plain numbers.
extension Rewriter {
    /// A number starting at chunk `i`; French writes thousands apart with plain spaces (`1 000 000`), so later chunks
    /// of exactly three digits join it. Returns the amount and the last chunk it used.
    func number(at i: Int) -> (Amount, Int)? {
        let c = chunks[i]
        guard let a = Amount(c.core, lang) else { return nil }
        var through = i
        if lang == .fr, a.fraction == nil, !a.grouped, a.integer.count <= 3, c.trail.isEmpty {
            var digits = a.integer
            var j = i + 1
            while let n = chunk(j), n.lead.isEmpty, n.core.count == 3 || (n.core.count > 4 && n.core.dropFirst(3).first == ","),
                  n.core.prefix(3).allSatisfy({ $0.isASCII && $0.isNumber }) {
                guard let merged = Amount(Substring(digits + n.core), lang) else { break }
                digits += n.core.prefix(3)
                through = j
                if merged.fraction != nil || !n.trail.isEmpty { return (merged, j) }
                j += 1
            }
            if through > i, let merged = Amount(Substring(digits), lang) { return (merged, through) }
        }
        return (a, through)
    }

    static let scaleWords: [Language: [String: UInt64]] = [
        .en: ["thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000, "trillion": 1_000_000_000_000],
        .fr: ["mille": 1_000, "million": 1_000_000, "millions": 1_000_000, "milliard": 1_000_000_000, "milliards": 1_000_000_000],
        .de: ["Tausend": 1_000, "Million": 1_000_000, "Millionen": 1_000_000, "Milliarde": 1_000_000_000, "Milliarden": 1_000_000_000],
        .es: ["mil": 1_000, "millón": 1_000_000, "millones": 1_000_000],
    ]

    // MARK: money

    func money(_ i: Int) -> Reading? {
        let c = chunks[i]
        let symbols: Set<Character> = ["$", "€", "£", "¥"]
        var core = c.core
        var negative = false
        if core.first == "-" || core.first == "−" { negative = true; core = core.dropFirst() }
        var amountText: Substring, symbol: Character, through = i
        var scale: String?
        if let s = core.first, symbols.contains(s) {
            symbol = s
            amountText = core.dropFirst()
            // $5k, $3M, $2bn
            let suffixes: [(String, String)] = [("bn", "billion"), ("k", "thousand"), ("K", "thousand"), ("M", "million"), ("B", "billion")]
            if lang == .en, let (suffix, word) = suffixes.first(where: { amountText.hasSuffix($0.0) }) {
                amountText = amountText.dropLast(suffix.count); scale = word
            } else if let next = chunk(i + 1), c.trail.isEmpty, Self.scaleWords[lang]?[String(next.core)] != nil {
                scale = String(next.core); through = i + 1
            }
        } else if let s = core.last, symbols.contains(s) {
            symbol = s
            amountText = core.dropLast()
        } else if !negative, let (_, last) = number(at: i), chunks[last].trail.isEmpty, let next = chunk(last + 1), next.lead.isEmpty,
                  next.core.count == 1, let s = next.core.first, symbols.contains(s) {
            // `5 €`, `2 000 €`: the amount may span chunks (French groups), the symbol is the chunk after it.
            symbol = s; through = last + 1
            amountText = Substring(chunks[i...last].map { String($0.core) }.joined(separator: lang == .fr ? "\u{00A0}" : ""))
        } else {
            return nil
        }
        guard var amount = Amount(amountText, lang), let names = lang.currency(symbol) else { return nil }
        amount.negative = negative
        let gender: NumberWords.Gender = names.main.feminine ? .feminine : .masculine
        if let scale {
            // "$1.5 billion": the number and its scale, then the currency in the plural.
            let word = lang == .fr || lang == .es ? scale + " de" : scale
            return Reading(spoken: amount.words(lang) + " " + word + " " + names.main.many, through: through)
        }
        if let cents = amount.fraction, cents.count == 2, amount.value != nil {
            var whole = amount
            whole.fraction = nil
            let c = UInt64(cents)!
            let main = whole.words(lang, gender: gender, beforeNoun: true) + " " + whole.noun(names.main, lang)
            guard c > 0 else { return Reading(spoken: main, through: through) }
            let centsWords = NumberWords.cardinal(c, lang, beforeNoun: names.cents != nil)
            if let centName = names.cents {
                let centsPart = centsWords + " " + (c == 1 ? centName.one : centName.many)
                return Reading(spoken: whole.value == 0 ? centsPart : main + " " + lang.words.and + " " + centsPart, through: through)
            }
            return Reading(spoken: main + (lang == .es ? " con " : " ") + centsWords, through: through)
        }
        return Reading(spoken: amount.words(lang, gender: gender, beforeNoun: true) + " " + amount.noun(names.main, lang), through: through)
    }

    // MARK: percentages and measures

    func percent(_ i: Int) -> Reading? {
        let c = chunks[i]
        if c.core.hasSuffix("%"), let a = Amount(c.core.dropLast(), lang) {
            return Reading(spoken: a.words(lang) + " " + lang.words.percent, through: i)
        }
        if let (a, last) = number(at: i), chunks[last].trail.isEmpty, let n = chunk(last + 1), n.lead.isEmpty, n.core == "%" {
            return Reading(spoken: a.words(lang) + " " + lang.words.percent, through: last + 1)
        }
        return nil
    }

    func measure(_ i: Int) -> Reading? {
        let c = chunks[i]
        // Attached: 5km, 20°C, 1.5kg, 100km/h.
        if let split = c.core.firstIndex(where: { $0.isLetter || $0 == "°" }), split > c.core.startIndex,
           let unit = lang.unit(String(c.core[split...])), let a = Amount(c.core[..<split], lang) {
            return Reading(spoken: said(a, unit), through: i)
        }
        guard let (a, last) = number(at: i), chunks[last].trail.isEmpty, let n = chunk(last + 1), n.lead.isEmpty,
              let unit = lang.unit(String(n.core)) else { return nil }
        return Reading(spoken: said(a, unit), through: last + 1)
    }

    func said(_ a: Amount, _ unit: Language.Noun) -> String {
        a.words(lang, gender: unit.feminine ? .feminine : .masculine, beforeNoun: true) + " " + a.noun(unit, lang)
    }

    // MARK: clock times

    func clock(_ i: Int) -> Reading? {
        let c = chunks[i]
        let lower = c.core.lowercased()
        var text = Substring(lower)
        var meridiem: String?
        var through = i
        for m in ["am", "pm", "a.m", "p.m"] where lang == .en && text.hasSuffix(m) && text.count > m.count {
            meridiem = m; text = text.dropLast(m.count)
        }
        if lang == .en, meridiem == nil, c.trail.isEmpty || c.trail == ".", let n = chunk(i + 1),
           ["am", "pm", "a.m", "p.m"].contains(n.core.lowercased()) {
            meridiem = n.core.lowercased(); through = i + 1
        }
        var hour: Int, minute: Int?
        let parts = text.split(separator: lang == .fr && text.contains("h") ? "h" : ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard let h = Int(parts[0]), parts[0].count <= 2, (0...24).contains(h) else { return nil }
        hour = h
        if parts.count == 2 {
            if parts[1].isEmpty, lang == .fr, text.hasSuffix("h") { minute = nil }  // 14h
            else {
                guard parts[1].count == 2, let m = Int(parts[1]), m < 60 else { return nil }
                minute = m
            }
        } else if meridiem == nil {
            return nil  // a bare number is not a time
        }
        if meridiem != nil, !(1...12).contains(hour) { return nil }
        var spoken: String
        switch lang {
        case .en:
            spoken = English.cardinal(UInt64(hour))
            if let m = minute, m > 0 { spoken += m < 10 ? " oh " + English.ones[m] : " " + English.under100(m) }
            else if meridiem == nil { spoken += " o'clock" }
            if let mer = meridiem { spoken += mer.hasPrefix("a") ? " a m" : " p m" }
        case .fr:
            spoken = French.cardinal(UInt64(hour), feminine: true) + (hour > 1 ? " heures" : " heure")
            if let m = minute, m > 0 { spoken += " " + French.cardinal(UInt64(m)) }
        case .de:
            spoken = (hour == 1 ? "ein" : German.cardinal(UInt64(hour))) + " Uhr"
            if let m = minute, m > 0 { spoken += " " + German.cardinal(UInt64(m)) }
            if let n = chunk(through + 1), c.trail.isEmpty, n.core == "Uhr" { through += 1 }
        case .es:
            spoken = Spanish.cardinal(UInt64(hour), gender: .feminine, beforeNoun: true)
            if let m = minute { spoken += m == 0 ? " en punto" : " y " + Spanish.cardinal(UInt64(m)) }
        }
        return Reading(spoken: spoken, through: through)
    }

    // MARK: dates

    func date(_ i: Int) -> Reading? {
        let c = chunks[i]
        let iso = c.core.split(separator: "-", omittingEmptySubsequences: false)
        if iso.count == 3, iso[0].count == 4, iso[1].count == 2, iso[2].count == 2, let y = Int(iso[0]), let m = Int(iso[1]), let d = Int(iso[2]) {
            return sayDate(day: d, month: m, year: y).map { Reading(spoken: $0, through: i) }
        }
        let slash = c.core.split(separator: "/", omittingEmptySubsequences: false)
        if slash.count == 3, slash.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }), slash[2].count == 4 || slash[2].count == 2,
           let a = Int(slash[0]), let b = Int(slash[1]), var y = Int(slash[2]) {
            if slash[2].count == 2 { y += y < 50 ? 2000 : 1900 }
            let (d, m) = lang == .en ? (b, a) : (a, b)
            return sayDate(day: d, month: m, year: y).map { Reading(spoken: $0, through: i) }
        }
        // German `24.12.2024`: day and month as ordinals, the ending after the word before (am vierundzwanzigsten zwölften).
        let dotted = c.core.split(separator: ".", omittingEmptySubsequences: false)
        if lang == .de, dotted.count == 3, (1...2).contains(dotted[0].count), (1...2).contains(dotted[1].count), dotted[2].count == 4,
           let d = Int(dotted[0]), let m = Int(dotted[1]), let y = Int(dotted[2]), (1...31).contains(d), (1...12).contains(m) {
            let ending = germanEnding(before: i)
            return Reading(spoken: German.ordinal(UInt64(d), ending: ending) + " " + German.ordinal(UInt64(m), ending: ending) + " " + German.year(y), through: i)
        }
        // German `3. Mai`: an ordinal whose ending follows the word before it (am dritten Mai, der dritte Mai).
        if lang == .de, c.trail.hasPrefix("."), let d = Int(c.core), (1...31).contains(d), let n = chunk(i + 1), lang.isMonth(n.core) {
            return Reading(spoken: German.ordinal(UInt64(d), ending: germanEnding(before: i)), through: i, keepsTrail: c.trail == ".")
        }
        return nil
    }

    func sayDate(day: Int, month: Int, year: Int) -> String? {
        guard (1...12).contains(month), (1...31).contains(day) else { return nil }
        let name = lang.months[month - 1]
        switch lang {
        case .en: return name + " " + English.ordinal(UInt64(day)) + ", " + English.year(year)
        case .fr: return (day == 1 ? "premier" : French.cardinal(UInt64(day))) + " " + name + " " + French.cardinal(UInt64(year))
        case .de: return German.ordinal(UInt64(day), ending: "er") + " " + name + " " + German.year(year)
        case .es: return Spanish.cardinal(UInt64(day)) + " de " + name + " de " + Spanish.cardinal(UInt64(year))
        }
    }

    /// `-ten` after a preposition or `den`/`dem`, `-te` after `der`/`die`/`das`, else `-ter`.
    func germanEnding(before i: Int) -> String {
        let previous = chunk(i - 1).map { $0.core.lowercased() } ?? ""
        if ["am", "vom", "zum", "im", "beim", "bis", "seit", "ab", "den", "dem", "des"].contains(previous) { return "en" }
        if ["der", "die", "das"].contains(previous) { return "e" }
        return "er"
    }

    // MARK: decades, ranges, phone numbers, ordinals

    func decade(_ i: Int) -> Reading? {
        guard lang == .en else { return nil }
        let core = chunks[i].core
        var words: String
        let c = chunks[i]
        var takesLead = false
        if core.count == 3, core.hasSuffix("0s"), let t = Int(core.dropLast()), t >= 10,
           c.lead.hasSuffix("'") || c.lead.hasSuffix("’") || chunk(i - 1)?.core.lowercased() == "the" {
            // `the '90s`, `the 90s`.
            words = English.under100(t)
            takesLead = c.lead.hasSuffix("'") || c.lead.hasSuffix("’")
        } else if core.count == 5, core.hasSuffix("0s"), let y = Int(core.dropLast()), (1000...2090).contains(y) {
            words = English.year(y)
        } else { return nil }
        words = words.hasSuffix("y") ? words.dropLast() + "ies" : words + "s"
        return Reading(spoken: words, through: i, takesLead: takesLead)
    }

    func range(_ i: Int) -> Reading? {
        let c = chunks[i]
        guard let dash = c.core.dropFirst().firstIndex(where: { $0 == "-" || $0 == "–" }) else { return nil }
        var second = c.core[c.core.index(after: dash)...]
        var unit: Language.Noun?
        var through = i
        if let split = second.firstIndex(where: { $0.isLetter || $0 == "°" }), let u = lang.unit(String(second[split...])) {
            unit = u; second = second[..<split]
        }
        guard let a = Amount(c.core[..<dash], lang), let b = Amount(second, lang), let x = a.value, let y = b.value, x < y,
              a.fraction == nil, b.fraction == nil else { return nil }
        let years = a.integer.count == 4 && b.integer.count == 4 && (1000...2099).contains(x) && (1000...2099).contains(y)
        guard years || (a.integer.count <= 3 && b.integer.count <= 3) else { return nil }
        if unit == nil, c.trail.isEmpty, let n = chunk(i + 1), n.lead.isEmpty, let u = lang.unit(String(n.core)) { unit = u; through = i + 1 }
        func say(_ v: UInt64) -> String {
            guard years else { return NumberWords.cardinal(v, lang) }
            switch lang {
            case .en: return English.year(Int(v))
            case .de: return German.year(Int(v))
            default: return NumberWords.cardinal(v, lang)
            }
        }
        var spoken = say(x) + " " + lang.words.to + " " + say(y)
        if let unit { spoken += " " + b.noun(unit, lang) }
        return Reading(spoken: spoken, through: through)
    }

    func phone(_ i: Int) -> Reading? {
        var core = chunks[i].core
        var prefix = ""
        if core.first == "+" { prefix = lang.words.plus + ", "; core = core.dropFirst() }
        // `+44 20 7946 0958`: an international number written in spaced groups, read digit by digit.
        if !prefix.isEmpty, chunks[i].trail.isEmpty, core.allSatisfy({ $0.isASCII && $0.isNumber }) {
            var groups = [core], last = i
            while chunks[last].trail.isEmpty, let n = chunk(last + 1), n.lead.isEmpty, !n.core.isEmpty,
                  n.core.count <= 4, n.core.allSatisfy({ $0.isASCII && $0.isNumber }) {
                groups.append(n.core); last += 1
            }
            if last > i, groups.reduce(0, { $0 + $1.count }) >= 7 {
                return Reading(spoken: prefix + groups.map { NumberWords.digits($0, lang) }.joined(separator: " "), through: last)
            }
        }
        // `1.000.000` in German or Spanish is a number, not a phone.
        if Amount(core, lang)?.grouped == true { return nil }
        let groups = core.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "-" || $0 == "." })
        guard groups.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }) else { return nil }
        let digits = groups.reduce(0) { $0 + $1.count }
        guard digits >= 7, groups.count >= 2 || !prefix.isEmpty else { return nil }
        return Reading(spoken: prefix + groups.map { NumberWords.digits($0, lang) }.joined(separator: ", "), through: i)
    }

    func ordinal(_ i: Int) -> Reading? {
        let c = chunks[i]
        let digits = c.core.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, let n = UInt64(digits), n <= NumberWords.limit else {
            return lang == .de ? germanOrdinal(i) : nil
        }
        let suffix = c.core.dropFirst(digits.count)
        switch lang {
        case .en:
            guard ["st", "nd", "rd", "th"].contains(suffix.lowercased()) else { return nil }
            return Reading(spoken: English.ordinal(n), through: i)
        case .fr:
            if n == 1, ["er", "ᵉʳ"].contains(suffix) { return Reading(spoken: "premier", through: i) }
            if n == 1, ["re", "ère", "ʳᵉ"].contains(suffix) { return Reading(spoken: "première", through: i) }
            guard ["e", "ème", "è", "es", "èmes", "ᵉ"].contains(suffix) else { return nil }
            return Reading(spoken: French.ordinal(n) + (suffix.hasSuffix("s") ? "s" : ""), through: i)
        case .es:
            let s = suffix.hasPrefix(".") ? suffix.dropFirst() : suffix
            if ["º", "°", "o"].contains(s) && suffix != "o" { return Reading(spoken: Spanish.ordinal(n), through: i) }
            if ["ª", "a"].contains(s) && suffix != "a" { return Reading(spoken: Spanish.ordinal(n, feminine: true), through: i) }
            if s == "er", n == 1 || n == 3 { return Reading(spoken: n == 1 ? "primer" : "tercer", through: i) }
            return nil
        case .de:
            return germanOrdinal(i)
        }
    }

    /// `der 2. Weltkrieg`: a number with a dot after an article or preposition is an ordinal.
    func germanOrdinal(_ i: Int) -> Reading? {
        let c = chunks[i]
        guard c.trail == ".", let n = UInt64(c.core), n > 0, n < 1000, let next = chunk(i + 1), next.core.first?.isLetter == true else { return nil }
        let ending = germanEnding(before: i)
        guard ending != "er" else { return nil }
        return Reading(spoken: German.ordinal(n, ending: ending), through: i, keepsTrail: true)
    }

    // MARK: plain numbers

    func plainNumber(_ i: Int) -> Reading? {
        guard let (a, last) = number(at: i) else { return nil }
        if a.fraction == nil, !a.grouped, !a.negative, a.integer.count == 4, let v = a.value {
            if lang == .en, (1100...1999).contains(v) || (2010...2099).contains(v) { return Reading(spoken: English.year(Int(v)), through: last) }
            if lang == .de, (1100...1999).contains(v) { return Reading(spoken: German.year(Int(v)), through: last) }
        }
        if lang == .en, a.fraction == nil, let v = a.value, (1...31).contains(v) {
            if let p = chunk(i - 1), p.trail.isEmpty, lang.isMonth(p.core) { return Reading(spoken: English.ordinal(v), through: last) }
            if let n = chunk(last + 1), chunks[last].trail.isEmpty, lang.isMonth(n.core) {
                return Reading(spoken: "the " + English.ordinal(v) + " of", through: last)
            }
        }
        // Before a noun a number agrees with it: "eine Minute", "una hora", "vingt et une heures", "ein Euro".
        if lang != .en, a.fraction == nil, !a.negative, chunks[last].trail.isEmpty, let n = chunk(last + 1), n.lead.isEmpty,
           !n.core.isEmpty, n.core.allSatisfy({ $0.isLetter }), !lang.functionWords.contains(n.core.lowercased()) {
            let gender = lang.gender(ofNoun: n.core)
            if lang == .de {
                // Only "one" agrees in German: ein Jahr, eine Minute; after a dative preposition einem, einer.
                guard a.value == 1 else { return Reading(spoken: a.words(lang), through: last) }
                let dative = ["nach", "mit", "von", "seit", "aus", "bei", "zu", "vor", "in"].contains(chunk(i - 1)?.core.lowercased() ?? "")
                let word = dative ? (gender == .feminine ? "einer" : "einem") : (gender == .feminine ? "eine" : "ein")
                return Reading(spoken: word, through: last)
            }
            return Reading(spoken: a.words(lang, gender: gender, beforeNoun: true), through: last)
        }
        return Reading(spoken: a.words(lang), through: last)
    }
}
