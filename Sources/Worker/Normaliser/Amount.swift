/// A number as written in the script, read with the language's separators: `1,234.5` in English, `1.234,5` or
/// `1 234,5` in French, German and Spanish (a lone `.` before other than three digits is a decimal point there too).
struct Amount {
    var integer: String   // digits only
    var fraction: String? // digits after the decimal separator
    var negative = false
    /// Written with thousands separators (so never a year).
    var grouped = false

    init?(_ text: Substring, _ lang: Language) {
        var s = text
        if let f = s.first, f == "-" || f == "−" { negative = true; s = s.dropFirst() }
        guard let first = s.first, first.isASCII, first.isNumber, let last = s.last, last.isASCII, last.isNumber else { return nil }
        let groupSeparators: Set<Character> = lang == .en ? [","] : [".", "\u{00A0}", "\u{202F}"]
        let decimal: Character = lang == .en ? "." : ","
        var parts = s.split(separator: decimal, maxSplits: 1, omittingEmptySubsequences: false)
        if parts.count == 2, parts[1].contains(where: { !($0.isASCII && $0.isNumber) }) { return nil }
        var whole = parts[0]
        if parts.count == 1, lang != .en, let dot = whole.firstIndex(of: "."),
           !Self.isGrouped(whole, by: "."), whole[whole.index(after: dot)...].allSatisfy({ $0.isASCII && $0.isNumber }) {
            // `3.5` in a French, German or Spanish script: not a group of three, so a decimal point.
            parts = [whole[..<dot], whole[whole.index(after: dot)...]]
            whole = parts[0]
        }
        if let sep = whole.first(where: { groupSeparators.contains($0) }) {
            guard Self.isGrouped(whole, by: sep) else { return nil }
            grouped = true
            whole = Substring(whole.filter { $0 != sep })
        }
        guard !whole.isEmpty, whole.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        integer = String(whole)
        fraction = parts.count == 2 ? String(parts[1]) : nil
        if fraction?.isEmpty == true { return nil }
    }

    /// `1,234,567`: one to three digits, then groups of exactly three.
    static func isGrouped(_ s: Substring, by sep: Character) -> Bool {
        let groups = s.split(separator: sep, omittingEmptySubsequences: false)
        guard groups.count >= 2, (1...3).contains(groups[0].count) else { return false }
        return groups.allSatisfy { $0.allSatisfy { $0.isASCII && $0.isNumber } } && groups.dropFirst().allSatisfy { $0.count == 3 }
    }

    /// The integer's value, nil when it is too long or starts with zeros (`007`, read digit by digit).
    var value: UInt64? {
        guard integer.count <= 15, integer.count == 1 || integer.first != "0" else { return nil }
        return UInt64(integer)
    }

    var isOne: Bool { value == 1 && fraction == nil }
    /// French says "1,5 kilomètre": the singular below two.
    var belowTwo: Bool { (value ?? 2) < 2 }

    func words(_ lang: Language, gender: NumberWords.Gender = .masculine, beforeNoun: Bool = false) -> String {
        var out = negative ? lang.words.minus + " " : ""
        if let v = value {
            out += NumberWords.cardinal(v, lang, gender: fraction == nil ? gender : .masculine, beforeNoun: beforeNoun && fraction == nil)
        } else {
            out += NumberWords.digits(Substring(integer), lang)
        }
        if let f = fraction {
            out += " " + lang.words.point + " "
            switch lang {
            case .fr, .es:
                // "trois virgule quatorze", "tres coma cero cinco": the digits after the comma read as a number.
                let zeros = f.prefix { $0 == "0" }
                let rest = f.dropFirst(zeros.count)
                var said = zeros.map { _ in NumberWords.cardinal(0, lang) }
                if !rest.isEmpty { said.append(rest.count <= 3 ? NumberWords.cardinal(UInt64(rest)!, lang) : NumberWords.digits(rest, lang)) }
                out += said.joined(separator: " ")
            case .en, .de:
                out += NumberWords.digits(Substring(f), lang)
            }
        }
        return out
    }

    /// The noun's form after this amount.
    func noun(_ n: Language.Noun, _ lang: Language) -> String {
        switch lang {
        case .fr: belowTwo && !negative ? n.one : n.many
        default: isOne ? n.one : n.many
        }
    }
}
