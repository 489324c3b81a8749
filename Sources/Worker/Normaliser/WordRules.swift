/// The rules that read words and symbols: abbreviations, e-mail addresses, URLs, hashtags, Roman numerals and
/// symbols standing alone.
extension Rewriter {
    // MARK: abbreviations

    /// `Dr.` `e.g.` `z.B.` `Mme`: the table's reading. An abbreviation that ends a sentence keeps its full stop (the
    /// voice's pause); one before a name does not.
    func abbreviation(_ i: Int) -> Reading? {
        let c = chunks[i]
        let table = lang.abbreviations
        let next = chunk(i + 1)
        let nextCapital = next?.core.first?.isUppercase == true
        let key = String(c.core) + "."
        if c.trail.hasPrefix("."), var said = table[key] {
            // `Baker St.` is a street, `St. Paul` a saint.
            if lang == .en, c.core == "St", chunk(i - 1)?.isCapitalisedWord == true, chunk(i - 1)?.trail.isEmpty == true, !nextCapital { said = "Street" }
            // A lone capital with a dot is an initial (`J. Smith`) unless the table says otherwise and a name follows.
            if c.core.count == 1, !nextCapital { return nil }
            let rest = c.trail.dropFirst()
            let endsSentence = next == nil || ((key.hasPrefix("etc") || key == "usw.") && nextCapital)
            return Reading(spoken: said + (endsSentence ? "." : "") + rest, through: i, keepsTrail: true)
        }
        if let said = table[String(c.core)], !c.core.hasSuffix(".") { return Reading(spoken: said, through: i) }
        // `Hauptstr.`: any street.
        if lang == .de, c.trail.hasPrefix("."), c.core.hasSuffix("str"), c.core.count > 3, c.core.allSatisfy({ $0.isLetter }) {
            return Reading(spoken: c.core.dropLast(3) + "straße" + (next == nil ? "." : "") + c.trail.dropFirst(), through: i, keepsTrail: true)
        }
        // `No. 5`, `no 5`: "number five"; `n° 5`, `nº 5`: numéro, número, Nummer.
        let isNumberSign = (lang == .en && (c.core == "No" || c.core == "no") && c.trail.hasPrefix("."))
            || ["n°", "nº", "N°", "Nº", "Nr"].contains(c.core)
        if isNumberSign, let n = next, n.core.first?.isNumber == true {
            return Reading(spoken: lang.words.number + c.trail.dropFirst(c.trail.hasPrefix(".") ? 1 : 0), through: i, keepsTrail: true)
        }
        return nil
    }

    // MARK: e-mail, URLs, hashtags

    func email(_ i: Int) -> Reading? {
        let core = chunks[i].core
        let parts = core.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasSuffix("."),
              core.allSatisfy({ $0.isLetter || $0.isNumber || "._-+@".contains($0) }) else { return nil }
        return Reading(spoken: spell(parts[0]) + " " + lang.words.at + " " + spell(parts[1]), through: i)
    }

    static let domains: Set<String> = ["com", "org", "net", "io", "dev", "app", "ai", "co", "edu", "gov", "info", "tv", "fm",
                                       "uk", "us", "fr", "de", "es", "eu", "ch", "at", "be", "ca", "it", "nl", "mx", "ar"]

    /// `https://example.com/docs`, `www.example.org`, `example.com`: said without the scheme, each separator named.
    func url(_ i: Int) -> Reading? {
        var core = chunks[i].core
        var hadScheme = false
        for scheme in ["https://", "http://"] where core.lowercased().hasPrefix(scheme) {
            core = core.dropFirst(scheme.count); hadScheme = true
        }
        if core.hasSuffix("/") { core = core.dropLast() }
        let host = core.prefix { $0 != "/" }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" } }),
              core.allSatisfy({ !$0.isWhitespace && $0 != "@" }) else { return nil }
        let tld = labels.last!.lowercased()
        guard hadScheme || labels.first!.lowercased() == "www" || Self.domains.contains(tld) else { return nil }
        // `3.5` or `v1.2` are not hosts: the last label must be letters.
        guard labels.last!.allSatisfy({ $0.isLetter }) else { return nil }
        return Reading(spoken: spell(core), through: i)
    }

    /// A host, path or address part: words kept, each separator named, letter runs like `www` spelt out.
    func spell(_ s: Substring) -> String {
        var said: [String] = []
        var word = ""
        func flush() {
            guard !word.isEmpty else { return }
            if word.lowercased() == "www" {
                said.append("w w w")
            } else if word.allSatisfy({ $0.isASCII && $0.isNumber }) {
                said.append(word.count <= 4 ? NumberWords.cardinal(UInt64(word)!, lang) : NumberWords.digits(Substring(word), lang))
            } else {
                said.append(word)
            }
            word = ""
        }
        for ch in s {
            let name: String? = switch ch {
            case ".": lang.words.dot
            case "/": lang.words.slash
            case "-": lang.words.dash
            case "_": lang.words.underscore
            case "+": lang.words.plus
            case "@": lang.words.at
            case "?", "=", "&", "#", ":": ""
            default: nil
            }
            if let name {
                flush()
                if !name.isEmpty { said.append(name) }
            } else {
                word.append(ch)
            }
        }
        flush()
        return said.joined(separator: " ")
    }

    /// `#SwiftLang` "hashtag Swift Lang"; `#1` "number one".
    func hashtag(_ i: Int) -> Reading? {
        let core = chunks[i].core
        guard core.first == "#", core.count > 1 else { return nil }
        let tag = core.dropFirst()
        if let n = UInt64(tag), n <= NumberWords.limit {
            return Reading(spoken: lang.words.number + " " + NumberWords.cardinal(n, lang), through: i)
        }
        guard tag.first?.isLetter == true, tag.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { return nil }
        var words: [String] = []
        var word = ""
        for ch in tag {
            if ch == "_" { if !word.isEmpty { words.append(word) }; word = ""; continue }
            if ch.isUppercase, let last = word.last, last.isLowercase { words.append(word); word = "" }
            word.append(ch)
        }
        if !word.isEmpty { words.append(word) }
        return Reading(spoken: lang.words.hashtag + " " + words.joined(separator: " "), through: i)
    }

    // MARK: Roman numerals

    /// Words after which a Roman numeral counts (`World War II`, `Chapter IV`, `Teil III`, `siglo XXI`): read as a
    /// cardinal.
    static let countedWords: Set<String> = [
        "War", "Part", "Chapter", "Act", "Volume", "Vol.", "Book", "Phase", "Mark", "Type", "Class", "Level", "Stage", "Episode", "Season",
        "Guerre", "Partie", "Chapitre", "Acte", "Tome", "Livre", "Krieg", "Teil", "Kapitel", "Band", "Akt", "Buch", "Guerra", "Parte",
        "Capítulo", "Tomo", "Acto", "Libro", "siglo", "Siglo",
    ]

    /// The body of a Roman numeral and the ordinal mark after it (`XIXe`, `Ier`), when `core` could be one.
    func romanParts(_ core: Substring) -> (numeral: Substring, mark: Substring)? {
        var numeral = core, mark: Substring = ""
        if lang == .fr {
            for m in ["er", "e", "ᵉ", "ème", "ᵉʳ"] where core.hasSuffix(m) && core.count > m.count {
                numeral = core.dropLast(m.count); mark = core.suffix(m.count); break
            }
        }
        // A marked numeral is a century or an arrondissement (`XIXe`, `Ve`): only I, V and X, or `Le`, `Ce` and `De` read as numbers.
        let letters = mark.isEmpty ? "IVXLCDM" : "IVX"
        guard !numeral.isEmpty, numeral.allSatisfy({ letters.contains($0) }) else { return nil }
        return (numeral, mark)
    }

    func romanCandidate(_ core: Substring) -> Bool { romanParts(core) != nil }

    /// The value of a well-formed Roman numeral (`MCMXCIV`), nil for `IIII`, `VX`, `IC` and the like.
    static func romanValue(_ s: Substring) -> Int? {
        let values: [Character: Int] = ["I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000]
        var total = 0, i = s.startIndex
        while i < s.endIndex {
            let v = values[s[i]]!
            let j = s.index(after: i)
            if j < s.endIndex, let w = values[s[j]], w > v { total += w - v; i = s.index(after: j) } else { total += v; i = j }
        }
        guard total > 0, total < 4000, roman(total) == String(s) else { return nil }
        return total
    }

    static func roman(_ n: Int) -> String {
        let table: [(Int, String)] = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"), (40, "XL"),
                                      (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
        var n = n, out = ""
        for (v, s) in table { while n >= v { out += s; n -= v } }
        return out
    }

    /// `Louis XIV`: a regnal number after a name ("Louis the fourteenth", "Louis quatorze", "Ludwig der Vierzehnte",
    /// "Luis catorce"); `World War II`, `Chapter IV`: a count; `XIXe siècle`: a French ordinal. A Roman numeral
    /// anywhere else is left alone (`I`, `MIX`, `CD` are words too).
    func roman(_ i: Int) -> Reading? {
        let c = chunks[i]
        guard let (numeral, mark) = romanParts(c.core), let n = Self.romanValue(numeral) else { return nil }
        let v = UInt64(n)
        if lang == .fr, !mark.isEmpty {
            return Reading(spoken: mark.hasSuffix("er") || mark == "ᵉʳ" ? (n == 1 ? "premier" : French.ordinal(v)) : French.ordinal(v), through: i)
        }
        guard let p = chunk(i - 1), p.trail.isEmpty else { return nil }
        let previous = String(p.core)
        if Language.regnalNames.contains(previous) {
            switch lang {
            case .en: return Reading(spoken: "the " + English.ordinal(v), through: i)
            case .fr: return Reading(spoken: n == 1 ? "premier" : French.cardinal(v), through: i)
            case .de:
                let word = German.ordinal(v, ending: "e")
                // `Ludwig XIV. und`: the dot marks the ordinal; before a capital it may end the sentence too.
                let ordinalDot = c.trail == "." && chunk(i + 1)?.core.first?.isLowercase == true
                return Reading(spoken: "der " + word.prefix(1).uppercased() + word.dropFirst(), through: i, keepsTrail: ordinalDot)
            case .es: return Reading(spoken: Spanish.ordinal(v), through: i)
            }
        }
        guard numeral.count > 1 || n <= 10, Self.countedWords.contains(previous) else { return nil }
        return Reading(spoken: NumberWords.cardinal(v, lang), through: i)
    }

    // MARK: symbols

    /// `&`, `+`, `=`, `%`, `@` written apart from any word.
    func symbolAlone(_ i: Int) -> Reading? {
        let w = lang.words
        let said: String? = switch chunks[i].core {
        case "&": w.and
        case "+": w.plus
        case "=": w.equals
        case "%": w.percent
        case "@": w.at
        default: nil
        }
        return said.map { Reading(spoken: $0, through: i) }
    }
}
