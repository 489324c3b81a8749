/// Numbers written in digits, read as Japanese numbers with the counter after them (2025年, 3.5, 10%, 15時30分,
/// 3本, 1日, 3万円), in Open JTalk's pronunciation spelling (long vowels as ー) so misaki's romanizer reads them.
enum JapaneseNumbers {
    static let digits = ["ゼロ", "イチ", "ニ", "サン", "ヨン", "ゴ", "ロク", "ナナ", "ハチ", "キュー"]

    /// A number as reading pieces; the last piece is the one a counter changes (イチ -> イッ before 個).
    static func pieces(_ n: Int) -> [String] {
        if n == 0 { return ["ゼロ"] }
        var out: [String] = []
        let units: [(Int, String)] = [(1_000_000_000_000, "チョー"), (100_000_000, "オク"), (10_000, "マン")]
        var rest = n
        for (value, name) in units where rest >= value {
            let group = rest / value
            rest %= value
            var p = small(group)
            // 一兆, 八兆, 十兆 take the small tsu; 一万, 一億 do not.
            if name == "チョー" { p = sokuon(p) }
            if group / 1000 == 1 { p[0] = "イッセン" }
            out.append(p.joined() + name)
        }
        if rest > 0 { out += small(rest) }
        return out
    }

    /// 1 to 9999.
    static func small(_ n: Int) -> [String] {
        var out: [String] = []
        let th = n / 1000, h = n / 100 % 10, t = n / 10 % 10, o = n % 10
        switch th {
        case 0: break
        case 1: out.append("セン")
        case 3: out.append("サンゼン")
        case 8: out.append("ハッセン")
        default: out.append(digits[th] + "セン")
        }
        switch h {
        case 0: break
        case 1: out.append("ヒャク")
        case 3: out.append("サンビャク")
        case 6: out.append("ロッピャク")
        case 8: out.append("ハッピャク")
        default: out.append(digits[h] + "ヒャク")
        }
        switch t {
        case 0: break
        case 1: out.append("ジュー")
        default: out.append(digits[t] + "ジュー")
        }
        if o > 0 { out.append(digits[o]) }
        return out
    }

    /// The small-tsu form of the last piece, before a counter starting with k, s, t or p.
    static func sokuon(_ p: [String]) -> [String] {
        guard var last = p.last else { return p }
        for (from, to) in [("イチ", "イッ"), ("ロク", "ロッ"), ("ハチ", "ハッ"), ("ジュー", "ジュッ"), ("ヒャク", "ヒャッ")] where last.hasSuffix(from) {
            last = String(last.dropLast(from.count)) + to
            var q = p
            q[q.count - 1] = last
            return q
        }
        return p
    }

    static func endsInSokuon(_ p: [String]) -> Bool { p.last.map { $0.hasSuffix("ッ") } ?? false }

    /// Counters whose first sound becomes p after a small tsu, and b (or p) after ン: 本 ぽん/ぼん, 分 ぷん/ぷん.
    static let hCounters: [String: (plain: String, afterTsu: String, afterN: String)] = [
        "本": ("ホン", "ポン", "ボン"), "匹": ("ヒキ", "ピキ", "ビキ"), "杯": ("ハイ", "パイ", "バイ"),
        "分": ("フン", "プン", "プン"), "泊": ("ハク", "パク", "パク"), "発": ("ハツ", "パツ", "パツ"),
    ]
    /// Counters that take the small tsu after 1, 6, 8, 10 and 100.
    static let kstCounters: [String: String] = [
        "個": "コ", "回": "カイ", "階": "カイ", "冊": "サツ", "歳": "サイ", "才": "サイ", "週": "シュー", "件": "ケン",
        "曲": "キョク", "点": "テン", "頭": "トー", "か月": "カゲツ", "ヶ月": "カゲツ", "カ月": "カゲツ", "ケ月": "カゲツ",
        "週間": "シューカン", "%": "パーセント", "セント": "セント", "キロ": "キロ", "トン": "トン",
    ]
    /// Counters read plainly, with the usual 4 -> よ, 7 -> しち, 9 -> く changes where they apply.
    static let plainCounters: [String: String] = [
        "年": "ネン", "時間": "ジカン", "時": "ジ", "秒": "ビョー", "度": "ド", "円": "エン", "人": "ニン", "枚": "マイ",
        "番": "バン", "台": "ダイ", "倍": "バイ", "名": "メー", "号": "ゴー", "位": "イ", "割": "ワリ", "月": "ガツ",
        "日間": "ニチカン", "メートル": "メートル", "グラム": "グラム", "ドル": "ドル", "ページ": "ページ", "歩": "ホ",
    ]
    static let days = [1: "ツイタチ", 2: "フツカ", 3: "ミッカ", 4: "ヨッカ", 5: "イツカ", 6: "ムイカ", 7: "ナノカ", 8: "ヨーカ",
                       9: "ココノカ", 10: "トーカ", 14: "ジューヨッカ", 20: "ハツカ", 24: "ニジューヨッカ"]

    /// The longest counter at the start of `text`, as (characters used, reading of number and counter).
    static func read(value n: Int, text: Substring) -> (used: Int, reading: String)? {
        let p = pieces(n)
        func replaceLast(_ from: String, _ to: String) -> [String] {
            guard let last = p.last, last.hasSuffix(from) else { return p }
            var q = p
            q[q.count - 1] = String(last.dropLast(from.count)) + to
            return q
        }
        let candidates = (Array(kstCounters.keys) + Array(plainCounters.keys) + Array(hCounters.keys) + ["日", "人"])
            .sorted { $0.count > $1.count }
        guard let counter = candidates.first(where: { text.hasPrefix($0) }) else { return nil }
        let used = counter.count
        if counter == "日" {
            if let d = days[n] { return (used, d) }
            return (used, (n % 10 == 7 ? replaceLast("ナナ", "シチ") : n % 10 == 9 ? replaceLast("キュー", "ク") : p).joined() + "ニチ")
        }
        if counter == "人" {
            if n == 1 { return (used, "ヒトリ") }
            if n == 2 { return (used, "フタリ") }
            return (used, replaceLast("ヨン", "ヨ").joined() + "ニン")
        }
        if let h = hCounters[counter] {
            if endsInSokuon(sokuon(p)) { return (used, sokuon(p).joined() + h.afterTsu) }
            if counter != "分", p.last == "ヨン" { return (used, p.joined() + h.plain) }
            if p.last?.hasSuffix("ン") == true { return (used, p.joined() + h.afterN) }
            return (used, p.joined() + h.plain)
        }
        if let k = kstCounters[counter] {
            let voiced = counter == "階" && p.last?.hasSuffix("サン") == true ? "ガイ" : k
            return (used, sokuon(p).joined() + voiced)
        }
        if let r = plainCounters[counter] {
            var q = p
            switch counter {
            case "月": q = replaceLast("ヨン", "シ"); q = q.last == "ナナ" ? Array(q.dropLast()) + ["シチ"] : q
                q = q.last == "キュー" ? Array(q.dropLast()) + ["ク"] : q
            case "時", "時間": q = replaceLast("ヨン", "ヨ"); q = q.last == "ナナ" ? Array(q.dropLast()) + ["シチ"] : q
                q = q.last == "キュー" ? Array(q.dropLast()) + ["ク"] : q
            case "年", "円": q = replaceLast("ヨン", "ヨ")
            default: break
            }
            return (used, q.joined() + r)
        }
        return nil
    }

    /// Reads a decimal written in digits ("3.5"): the whole part, テン, then each digit.
    static func decimal(whole: Int, fraction: String) -> String {
        let wholeReading = whole == 0 ? "レー" : sokuon(pieces(whole)).joined()
        return wholeReading + "テン" + fraction.compactMap { $0.wholeNumberValue.map { digits[$0] } }.joined()
    }
}
