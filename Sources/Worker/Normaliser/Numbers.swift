/// Numbers in words, per language: cardinals, ordinals, years, digit by digit. Integers up to 10^15 - 1;
/// anything longer is read digit by digit by the caller.
enum NumberWords {
    static let limit: UInt64 = 999_999_999_999_999

    static func cardinal(_ n: UInt64, _ lang: Language, gender: Gender = .masculine, beforeNoun: Bool = false) -> String {
        switch lang {
        case .en: return English.cardinal(n)
        case .fr: return French.cardinal(n, feminine: gender == .feminine)
        case .de: return German.cardinal(n, feminine: gender == .feminine, beforeNoun: beforeNoun)
        case .es: return Spanish.cardinal(n, gender: gender, beforeNoun: beforeNoun)
        }
    }

    static func digits(_ s: Substring, _ lang: Language) -> String {
        s.compactMap { $0.wholeNumberValue }.map { cardinal(UInt64($0), lang) }.joined(separator: " ")
    }

    enum Gender { case masculine, feminine }
}

enum English {
    static let ones = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
                       "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
    static let tens = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
    static let scales = ["", " thousand", " million", " billion", " trillion"]

    static func under100(_ n: Int) -> String { n < 20 ? ones[n] : tens[n / 10] + (n % 10 > 0 ? "-" + ones[n % 10] : "") }
    static func under1000(_ n: Int) -> String {
        let h = n / 100, r = n % 100
        if h == 0 { return under100(r) }
        return ones[h] + " hundred" + (r > 0 ? " " + under100(r) : "")
    }
    static func cardinal(_ n: UInt64) -> String {
        if n == 0 { return "zero" }
        var groups: [Int] = []
        var v = n
        while v > 0 { groups.append(Int(v % 1000)); v /= 1000 }
        return groups.enumerated().reversed().filter { $0.element > 0 }.map { under1000($0.element) + scales[$0.offset] }.joined(separator: " ")
    }
    static func ordinal(_ n: UInt64) -> String {
        let words = cardinal(n)
        let irregular = ["one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth", "nine": "ninth", "twelve": "twelfth"]
        // The last word (after a space or hyphen) takes the ending.
        let cut = words.lastIndex(where: { $0 == " " || $0 == "-" }).map { words.index(after: $0) } ?? words.startIndex
        let head = words[..<cut], last = String(words[cut...])
        if let r = irregular[last] { return head + r }
        if last.hasSuffix("y") { return head + last.dropLast() + "ieth" }
        return head + last + "th"
    }
    /// 1925 "nineteen twenty-five", 1900 "nineteen hundred", 1905 "nineteen oh five", 2024 "twenty twenty-four";
    /// 2000-2009 as cardinals ("two thousand five").
    static func year(_ n: Int) -> String {
        if (2000...2009).contains(n) || n < 1000 || n > 9999 { return cardinal(UInt64(n)) }
        let h = n / 100, r = n % 100
        if r == 0 { return under100(h) + " hundred" }
        return under100(h) + (r < 10 ? " oh " + ones[r] : " " + under100(r))
    }
}

enum French {
    static let units = ["zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix", "onze", "douze",
                        "treize", "quatorze", "quinze", "seize", "dix-sept", "dix-huit", "dix-neuf"]
    static let tens = ["", "", "vingt", "trente", "quarante", "cinquante", "soixante"]

    static func under100(_ n: Int) -> String {
        if n < 20 { return units[n] }
        let t = n / 10, u = n % 10
        switch t {
        case 7: return "soixante" + (u == 1 ? " et onze" : "-" + units[10 + u])
        case 8: return u == 0 ? "quatre-vingts" : "quatre-vingt-" + units[u]
        case 9: return "quatre-vingt-" + units[10 + u]
        default: return tens[t] + (u == 1 ? " et un" : u > 0 ? "-" + units[u] : "")
        }
    }
    static func under1000(_ n: Int) -> String {
        let h = n / 100, r = n % 100
        if h == 0 { return under100(r) }
        let hundreds = h == 1 ? "cent" : units[h] + " cent"
        return r == 0 ? hundreds + (h > 1 ? "s" : "") : hundreds + " " + under100(r)
    }
    /// "vingts" and "cents" lose their s before "mille" (deux cent mille, quatre-vingt mille).
    static func beforeMille(_ s: String) -> String {
        s.hasSuffix("cents") || s.hasSuffix("vingts") ? String(s.dropLast()) : s
    }
    static func cardinal(_ n: UInt64, feminine: Bool = false) -> String {
        if n == 0 { return "zéro" }
        var parts: [String] = []
        let billions = Int(n / 1_000_000_000), millions = Int(n / 1_000_000 % 1000), thousands = Int(n / 1000 % 1000), rest = Int(n % 1000)
        if billions > 0 { parts.append(cardinal(UInt64(billions)) + (billions > 1 ? " milliards" : " milliard")) }
        if millions > 0 { parts.append(under1000(millions) + (millions > 1 ? " millions" : " million")) }
        if thousands > 0 { parts.append(thousands == 1 ? "mille" : beforeMille(under1000(thousands)) + " mille") }
        if rest > 0 { parts.append(under1000(rest)) }
        var words = parts.joined(separator: " ")
        if feminine && (words == "un" || words.hasSuffix(" un") || words.hasSuffix("-un")) { words += "e" }
        return words
    }
    static func ordinal(_ n: UInt64, feminine: Bool = false) -> String {
        if n == 1 { return feminine ? "première" : "premier" }
        var words = cardinal(n)
        if words.hasSuffix("cents") || words.hasSuffix("vingts") { words.removeLast() }
        if words.hasSuffix("cinq") { return words + "uième" }
        if words.hasSuffix("neuf") { return words.dropLast() + "vième" }
        if words.hasSuffix("e") { words.removeLast() }
        return words + "ième"
    }
}

enum German {
    static let units = ["null", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun", "zehn", "elf", "zwölf",
                        "dreizehn", "vierzehn", "fünfzehn", "sechzehn", "siebzehn", "achtzehn", "neunzehn"]
    static let tens = ["", "", "zwanzig", "dreißig", "vierzig", "fünfzig", "sechzig", "siebzig", "achtzig", "neunzig"]

    /// `ein` inside a compound (einundzwanzig, einhundert), `eins` alone at the end (hunderteins).
    static func under100(_ n: Int, compound: Bool = false) -> String {
        if n == 1 { return compound ? "ein" : "eins" }
        if n < 20 { return units[n] }
        let u = n % 10
        return u == 0 ? tens[n / 10] : (u == 1 ? "ein" : units[u]) + "und" + tens[n / 10]
    }
    static func under1000(_ n: Int, compound: Bool = false) -> String {
        let h = n / 100, r = n % 100
        let hundreds = h == 0 ? "" : under100(h, compound: true) + "hundert"
        return hundreds + (r > 0 ? under100(r, compound: compound) : "")
    }
    static func cardinal(_ n: UInt64, feminine: Bool = false, beforeNoun: Bool = false) -> String {
        if n == 0 { return "null" }
        var parts: [String] = []
        let billions = Int(n / 1_000_000_000), millions = Int(n / 1_000_000 % 1000), thousands = Int(n / 1000 % 1000), rest = Int(n % 1000)
        if billions > 0 { parts.append(billions == 1 ? "eine Milliarde" : cardinal(UInt64(billions)) + " Milliarden") }
        if millions > 0 { parts.append(millions == 1 ? "eine Million" : under1000(millions) + " Millionen") }
        var tail = ""
        if thousands > 0 { tail += under1000(thousands, compound: true) + "tausend" }
        if rest > 0 { tail += under1000(rest, compound: beforeNoun) }
        if !tail.isEmpty { parts.append(tail) }
        var words = parts.joined(separator: " ")
        // "ein Euro", "eine Minute": a number ending in one before its noun agrees with it.
        if beforeNoun && rest % 100 == 1 && words.hasSuffix("ein") && feminine { words += "e" }
        return words
    }
    static func ordinal(_ n: UInt64, ending: String) -> String {
        switch n {
        case 1: return "erst" + ending
        case 3: return "dritt" + ending
        case 7: return "siebt" + ending
        case 8: return "acht" + ending
        default:
            let words = cardinal(n)
            return words + (n < 20 ? "t" : "st") + ending
        }
    }
    /// 1925 "neunzehnhundertfünfundzwanzig"; from 2000 on, cardinals.
    static func year(_ n: Int) -> String {
        guard (1100...1999).contains(n) else { return cardinal(UInt64(n)) }
        return under100(n / 100) + "hundert" + (n % 100 > 0 ? under100(n % 100) : "")
    }
}

enum Spanish {
    static let units = ["cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve", "diez", "once", "doce", "trece",
                        "catorce", "quince", "dieciséis", "diecisiete", "dieciocho", "diecinueve", "veinte", "veintiuno", "veintidós",
                        "veintitrés", "veinticuatro", "veinticinco", "veintiséis", "veintisiete", "veintiocho", "veintinueve"]
    static let tens = ["", "", "", "treinta", "cuarenta", "cincuenta", "sesenta", "setenta", "ochenta", "noventa"]
    static let hundreds = ["", "ciento", "doscientos", "trescientos", "cuatrocientos", "quinientos", "seiscientos", "setecientos",
                           "ochocientos", "novecientos"]

    static func under100(_ n: Int) -> String {
        if n < 30 { return units[n] }
        return tens[n / 10] + (n % 10 > 0 ? " y " + units[n % 10] : "")
    }
    static func under1000(_ n: Int) -> String {
        if n == 100 { return "cien" }
        let h = n / 100, r = n % 100
        if h == 0 { return under100(r) }
        return hundreds[h] + (r > 0 ? " " + under100(r) : "")
    }
    /// "uno" shortens before a noun and before "mil": un dólar, veintiún mil; "una" before a feminine noun.
    static func apocope(_ s: String, _ gender: NumberWords.Gender) -> String {
        if s.hasSuffix("veintiuno") { return s.dropLast(3) + (gender == .feminine ? "una" : "ún") }
        if s == "uno" || s.hasSuffix(" uno") { return s.dropLast(3) + (gender == .feminine ? "una" : "un") }
        if gender == .feminine, s.hasSuffix("ientos") { return s.dropLast(2) + "as" }  // doscientas libras
        return s
    }
    static func cardinal(_ n: UInt64, gender: NumberWords.Gender = .masculine, beforeNoun: Bool = false) -> String {
        if n == 0 { return "cero" }
        var parts: [String] = []
        let billions = Int(n / 1_000_000_000), millions = Int(n / 1_000_000 % 1000), thousands = Int(n / 1000 % 1000), rest = Int(n % 1000)
        // Spanish counts thousands of millions ("mil millones"), not billions.
        let bigMillions = billions * 1000 + millions
        if bigMillions > 0 {
            parts.append(bigMillions == 1 ? "un millón" : apocope(cardinal(UInt64(bigMillions)), .masculine) + " millones")
        }
        if thousands > 0 { parts.append(thousands == 1 ? "mil" : apocope(under1000(thousands), .masculine) + " mil") }
        if rest > 0 { parts.append(beforeNoun ? apocope(under1000(rest), gender) : under1000(rest)) }
        return parts.joined(separator: " ")
    }
    static let ordinals = ["", "primero", "segundo", "tercero", "cuarto", "quinto", "sexto", "séptimo", "octavo", "noveno", "décimo"]
    static func ordinal(_ n: UInt64, feminine: Bool = false) -> String {
        guard n >= 1, n <= 10 else { return cardinal(n) }
        let word = ordinals[Int(n)]
        return feminine ? word.dropLast() + "a" : word
    }
}
