import Foundation

/// Words a reader takes in as one thing, so no line or cue may separate them: a number and its unit ("5 cm",
/// "3 million"), a name and the numeral that follows it ("Mark II", "World War 2", "Apollo 11"), and a
/// typewriter dash ("--"), which never ends a line.
extension CaptionLayout {
    /// Units of measure and number words that read as one with the number before them. Lowercased; a plural
    /// "s" is tried off too.
    static let unitWords: Set<String> = [
        "mm", "cm", "m", "km", "in", "ft", "yd", "mi", "au", "ly", "pc", "nm", "µm", "mg", "g", "kg", "t", "lb", "lbs", "oz",
        "ml", "l", "cl", "dl", "gal", "s", "sec", "ms", "min", "h", "hr", "hrs", "mph", "kph", "km/h", "m/s", "hz", "khz", "mhz",
        "ghz", "w", "kw", "kwh", "mw", "gw", "v", "mah", "a", "db", "px", "pt", "fps", "bpm", "kb", "mb", "gb", "tb", "pb",
        "%", "°", "°c", "°f", "k", "x", "×",
        "millimetre", "millimeter", "centimetre", "centimeter", "metre", "meter", "kilometre", "kilometer", "inch", "inche",
        "foot", "feet", "yard", "mile", "light-year", "gram", "kilogram", "milligram", "tonne", "ton", "pound", "ounce",
        "litre", "liter", "millilitre", "milliliter", "gallon", "second", "minute", "hour", "day", "week", "month", "year",
        "decade", "century", "centurie", "degree", "percent", "per", "hundred", "thousand", "million", "billion", "trillion",
        "dozen", "volt", "watt", "kilowatt", "byte", "kilobyte", "megabyte", "gigabyte", "terabyte", "pixel", "dollar",
        "euro", "cent", "times", "grad", "uhr", "jahre", "mètre", "mètres", "heure", "heures", "ans", "años", "anni",
    ]

    /// Whether `text` is a number as written in a script: "5", "3.5", "1,000", "-40", "$5", "2024", "5th".
    static func isNumber(_ text: String) -> Bool {
        let core = text.drop { "$€£¥+-−~≈".contains($0) }
        guard let first = core.first, first.isNumber else { return false }
        let digits = core.prefix { $0.isNumber || $0 == "." || $0 == "," }
        let rest = core.dropFirst(digits.count).lowercased()
        return rest.isEmpty || ["st", "nd", "rd", "th", "%", "s"].contains(rest) || rest.allSatisfy { $0.isPunctuation }
    }

    /// A numeral that ends a name: digits ("2", "11", "3.0") or a Roman numeral of two letters or more ("II",
    /// "XIV": a lone "I" is the pronoun far more often).
    static func isNameNumeral(_ text: String) -> Bool {
        let t = text.trimmingCharacters(in: .punctuationCharacters)
        guard !t.isEmpty else { return false }
        if t.allSatisfy({ $0.isNumber || $0 == "." }) && t.first!.isNumber { return true }
        guard t.count >= 2, t.allSatisfy({ "IVXLCDM".contains($0) }) else { return false }
        return t.range(of: "^M{0,3}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})$", options: .regularExpression) != nil
    }

    static func endsInPunctuation(_ text: String) -> Bool { text.last.map { $0.isPunctuation && $0 != "." || ",;:!?…".contains($0) } ?? false }

    /// A word that can be part of a name: it has a capital letter ("Mark", "iPhone", "Fig."), is not a function
    /// word, and no comma or full stop ends it (except an abbreviation's).
    static func isNameWord(_ text: String) -> Bool {
        guard text.contains(where: \.isUppercase), !functionWords.contains(text.lowercased()) else { return false }
        guard let last = text.last else { return false }
        if last == "." { return isAbbreviation(text) }
        return last.isLetter || last.isNumber
    }

    static func isUnit(_ text: String) -> Bool {
        let t = text.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: ".,;:!?…)]”’\"'"))
        guard !t.isEmpty else { return false }
        return unitWords.contains(t) || (t.hasSuffix("s") && unitWords.contains(String(t.dropLast())))
    }

    /// Whether no line may end between `u` and `next`.
    static func glued(_ u: Unit, _ next: Unit) -> Bool {
        let last = u.lastText
        if last.hasSuffix("--") { return true }
        guard next.spaceBefore, let first = next.words.first?.word.text else { return false }
        if isNumber(last) && !endsInPunctuation(last) && isUnit(first) { return true }
        return false
    }

    static func isDash(_ text: String) -> Bool { ["--", "—", "–", "---"].contains(text) }

    /// Units with glued neighbours merged, so that the layout never separates them.
    static func glue(_ units: [Unit]) -> [Unit] {
        guard units.count > 1 else { return units }
        var joinNext = [Bool](repeating: false, count: units.count)
        for i in 0..<(units.count - 1) where glued(units[i], units[i + 1]) { joinNext[i] = true }
        // Name + numeral: the numeral and up to three name words right before it.
        for i in 1..<units.count where units[i].spaceBefore && units[i].words.count == 1 && isNameNumeral(units[i].lastText) {
            var k = i - 1
            while k >= 0, i - k <= 3, units[k].words.count == 1, isNameWord(units[k].lastText), k == i - 1 || units[k + 1].spaceBefore {
                joinNext[k] = true
                k -= 1
            }
        }
        var out: [Unit] = []
        var current = units[0]
        for i in 1..<units.count {
            if joinNext[i - 1] { current.words += units[i].words } else { out.append(current); current = units[i] }
        }
        out.append(current)
        return out
    }
}
