import Foundation

/// misaki's text normalisation (NFKC, full-width Latin to ASCII, half-width kana to full-width, 〜 before a digit
/// read から), done one input character at a time so every normalised character knows where it came from.
enum JapaneseNormaliser {
    struct Char {
        var char: Character
        var origin: Range<String.Index>
    }

    static let phoneticExtensions: [Character: Character] = [
        "ㇰ": "ク", "ㇱ": "シ", "ㇲ": "ス", "ㇳ": "ト", "ㇴ": "ヌ", "ㇵ": "ハ", "ㇶ": "ヒ", "ㇷ": "フ", "ㇸ": "ヘ", "ㇹ": "ホ",
        "ㇺ": "ム", "ㇻ": "ラ", "ㇼ": "リ", "ㇽ": "ル", "ㇾ": "レ", "ㇿ": "ロ",
    ]

    static func normalise(_ text: String) -> [Char] {
        var out: [Char] = []
        var i = text.startIndex
        while i < text.endIndex {
            let next = text.index(after: i)
            let ch = text[i]
            let range = i..<next
            if (ch == "〜" || ch == "～"), next < text.endIndex, isDigit(nfkc(text[next]).first) {
                out += "から".map { Char(char: $0, origin: range) }
            } else {
                let c = phoneticExtensions[ch] ?? ch
                out += nfkc(c).map { Char(char: $0, origin: range) }
            }
            i = next
        }
        return out
    }

    static func nfkc(_ c: Character) -> String { String(c).precomposedStringWithCompatibilityMapping }

    static func isDigit(_ c: Character?) -> Bool { c.map { $0.isASCII && $0.isNumber } ?? false }

    /// Open JTalk's text2mecab: printable ASCII becomes its full-width form before MeCab sees it.
    static func fullWidth(_ c: Character) -> String {
        guard c.isASCII, let s = c.unicodeScalars.first else { return String(c) }
        if s.value == 0x20 { return "\u{3000}" }
        if (0x21...0x7E).contains(s.value), let w = Unicode.Scalar(s.value + 0xFEE0) { return String(w) }
        return String(c)
    }

    static let letters = ["エー", "ビー", "シー", "ディー", "イー", "エフ", "ジー", "エイチ", "アイ", "ジェー", "ケー", "エル", "エム",
                          "エヌ", "オー", "ピー", "キュー", "アール", "エス", "ティー", "ユー", "ブイ", "ダブリュー", "エックス", "ワイ", "ゼット"]

    /// The katakana name of a Latin letter, half- or full-width.
    static func letterName(_ s: Unicode.Scalar) -> String? {
        var v = s.value
        if (0xFF21...0xFF5A).contains(v) { v -= 0xFEE0 }
        if (0x61...0x7A).contains(v) { v -= 0x20 }
        guard (0x41...0x5A).contains(v) else { return nil }
        return letters[Int(v - 0x41)]
    }

    static let kanjiDigits: [Character: Int] = ["〇": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9]
    static let kanjiUnits: [Character: Int] = ["十": 10, "百": 100, "千": 1000]
    /// Counters whose sound changes after a kanji numeral are read here (一人 ひとり, 一杯 いっぱい, 三本 さんぼん,
    /// 三千人 さんぜんにん); other kanji numbers are left to the dictionary, which knows 一番, 一見 and 十分 (enough).
    static let kanjiCounters: [String] = ["週間", "か月", "ヶ月", "人", "杯", "本", "匹", "個", "回", "冊", "歳", "階", "分", "円"]

    /// A number in kanji (三, 二十, 三千, 一万五千) followed by one of `kanjiCounters`, read with its counter.
    static func kanjiNumber(in chars: [Char], at k: Int) -> (used: Int, reading: String)? {
        func isNumeral(_ c: Character) -> Bool { kanjiDigits[c] != nil || kanjiUnits[c] != nil || c == "万" }
        guard kanjiDigits[chars[k].char] != nil || kanjiUnits[chars[k].char] != nil,
              k == 0 || (!isNumeral(chars[k - 1].char) && !isKanji(chars[k - 1].char)) else { return nil }
        var j = k
        var total = 0, group = 0, digit = -1
        while j < chars.count, j - k < 8 {
            let c = chars[j].char
            if let d = kanjiDigits[c] { if digit >= 0 { return nil }; digit = d }
            else if let u = kanjiUnits[c] { group += max(digit, 1) * u; digit = -1 }
            else if c == "万" { total += (group + max(digit, 0)) * 10_000; group = 0; digit = -1 }
            else { break }
            j += 1
        }
        let value = total + group + max(digit, 0)
        guard value > 0 else { return nil }
        let rest = String(chars[j..<min(chars.count, j + 3)].map(\.char))
        guard let counter = kanjiCounters.first(where: { rest.hasPrefix($0) }),
              // 十分 is "enough" far more often than ten minutes; 一人暮らし, 一人前 are the dictionary's.
              !(counter == "分" && value == 10),
              !(counter == "人" && j + 1 < chars.count && isKanji(chars[j + 1].char)),
              let read = JapaneseNumbers.read(value: value, text: Substring(rest)) else { return nil }
        return (j - k + read.used, read.reading)
    }

    static func isKanji(_ c: Character) -> Bool {
        c.unicodeScalars.first.map { (0x4E00...0x9FFF).contains($0.value) || (0x3400...0x4DBF).contains($0.value) } ?? false
    }

    /// A number written in digits at `k` (1,000 and 3.5 included, 万/億/兆 after it, and a counter), read.
    static func number(in chars: [Char], at k: Int) -> (used: Int, reading: String)? {
        guard isDigit(chars[k].char), k == 0 || !isDigit(chars[k - 1].char) else { return nil }
        var j = k
        var digits = ""
        while j < chars.count {
            let c = chars[j].char
            if isDigit(c) { digits.append(c); j += 1; continue }
            // 1,000: a comma followed by exactly three digits groups thousands.
            if c == ",", j + 3 < chars.count + 0, (1...3).allSatisfy({ j + $0 < chars.count && isDigit(chars[j + $0].char) }),
               !(j + 4 < chars.count && isDigit(chars[j + 4].char)) {
                j += 1; continue
            }
            break
        }
        var fraction: String?
        if j + 1 < chars.count, chars[j].char == ".", isDigit(chars[j + 1].char) {
            var f = ""
            j += 1
            while j < chars.count, isDigit(chars[j].char) { f.append(chars[j].char); j += 1 }
            fraction = f
        }
        let rest = String(chars[j..<min(chars.count, j + 6)].map(\.char))
        guard digits.count <= 16, let whole = Int(digits) else {
            // Too long to be a quantity (a serial number, a phone number): digit by digit.
            return (j - k, digits.compactMap { $0.wholeNumberValue.map { JapaneseNumbers.digits[$0] } }.joined())
        }
        if let fraction {
            let reading = JapaneseNumbers.decimal(whole: whole, fraction: fraction)
            if rest.hasPrefix("%") { return (j - k + 1, reading + "パーセント") }
            return (j - k, reading)
        }
        var value = whole
        var used = j - k
        var restText = Substring(rest)
        for (unit, scale) in [("千", 1000), ("万", 10_000), ("億", 100_000_000), ("兆", 1_000_000_000_000)] where restText.hasPrefix(unit) {
            if value.multipliedReportingOverflow(by: scale).overflow { break }
            value *= scale
            used += 1
            restText = restText.dropFirst()
        }
        // 1日 is the first of a month after 月 (4月1日), otherwise one day (1日に3回).
        if value == 1, restText.hasPrefix("日"), !(k > 0 && chars[k - 1].char == "月") {
            return (used + 1, "イチニチ")
        }
        if let counted = JapaneseNumbers.read(value: value, text: restText) { return (used + counted.used, counted.reading) }
        return (used, JapaneseNumbers.pieces(value).joined())
    }
}
