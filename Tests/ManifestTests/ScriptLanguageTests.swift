import Foundation
@testable import Manifest
import Testing
import TestSupport

/// A plain script is read in its own language (issue 33: a French `.txt` was read by the English voice, silently).
@Suite struct ScriptLanguageTests {
    static let samples: [(voice: String?, text: String)] = [
        ("fr", "Le marché de la ville ouvre à huit heures. Les habitants y viennent pour acheter du pain et des légumes."),
        ("de", "Der Markt in der Stadt öffnet um acht Uhr. Die Leute kommen, um Brot und Gemüse zu kaufen."),
        ("es", "El mercado de la ciudad abre a las ocho. La gente viene para comprar pan y verduras."),
        ("it", "Il mercato della città apre alle otto. La gente viene per comprare il pane e la verdura."),
        ("pt", "O mercado da cidade abre às oito horas. As pessoas vêm para comprar pão e legumes, e não é caro."),
        ("nl", "De markt in de stad gaat om acht uur open. De mensen komen er om brood en groente te kopen."),
        ("en-us", "The market opens at eight. People come to buy bread and vegetables from the farmers of the valley."),
        ("ja", "きょうは いい てんき ですね。こうえんに いきましょう。"),
        ("cmn", "北京是中国的首都，也是一座历史悠久的城市。"),
        ("ko", "서울은 한국의 수도입니다. 아주 큰 도시입니다."),
        ("ru", "Москва является столицей России и крупнейшим городом страны."),
        ("el", "Η Αθήνα είναι η πρωτεύουσα της Ελλάδας."),
        (nil, "Hello."),
        (nil, "Paris, Berlin, Madrid, Roma."),
    ]

    @Test func eachSampleIsGuessedItsLanguage() {
        for s in Self.samples {
            #expect(ScriptLanguage.guess(s.text)?.voice == s.voice, "\(s.text)")
        }
    }

    @Test func aFrenchScriptGetsAFrenchVoiceUnlessItsFrontMatterSaysOtherwise() throws {
        let dir = TempDir()
        let fr = try ManifestLoader.load(path: dir.write("fr.txt", Self.samples[0].text + "\n\nC'est un lieu très vivant.\n"))
        #expect(fr.voice.voice == "fr" && fr.scenes.allSatisfy { $0.voice.voice == "fr" })
        #expect(fr.voiceChoice == "voice fr: the script reads as French")
        // The front matter's voice wins; an English script keeps the default (or the site's) voice untouched.
        let told = try ManifestLoader.load(path: dir.write("told.md", "---\nvoice: {voice: fr-be}\n---\n" + Self.samples[1].text + "\n"))
        #expect(told.voice.voice == "fr-be" && told.voiceChoice == nil)
        let site = try ManifestDefaults.fromConfig(yaml: "defaults:\n  voice: {voice: en-gb, rate: 1.1}\n", file: "site.yaml")
        let en = try ManifestLoader.load(path: dir.write("en.txt", Self.samples[6].text + "\n"), defaults: site)
        #expect(en.voice.voice == "en-gb" && en.voiceChoice == nil)
        // Under the site's defaults a German script gets German, keeping the site's other voice settings.
        let de = try ManifestLoader.load(path: dir.write("de.txt", Self.samples[1].text + "\n"), defaults: site)
        #expect(de.voice.voice == "de" && de.voice.rate == 1.1)
        // YAML says what it wants: no guessing there.
        let yaml = try ManifestLoader.load(path: dir.write("y.yaml", "scenes: [\"\(Self.samples[0].text)\"]\n"))
        #expect(yaml.voice.voice == "en-us")
    }

    /// A plain Japanese script gets voice ja with engine auto, which the loader lets through (Kokoro reads kanji when
    /// its pack is installed; the pipeline refuses it at plan when auto falls back to espeak-ng). espeak-ng named
    /// outright is refused here, naming the language and what would read it.
    @Test func aJapaneseScriptWithKanjiIsRefusedNamingTheLanguage() throws {
        let dir = TempDir()
        let text = "東京は日本の首都です。とても大きな都市で、たくさんの人が住んでいます。"
        let plain = try ManifestLoader.load(path: dir.write("ja.txt", text + "\n"))
        #expect(plain.voice.voice == "ja" && plain.voice.engine == .auto)
        let path = dir.write("ja.yaml", "voice: {engine: espeak, voice: ja}\nscenes: [\"\(text)\"]\n")
        #expect { try ManifestLoader.load(path: path) } throws: { error in
            guard let e = (error as? ManifestErrors)?.errors.first else { return false }
            return e.code == .noVoice && e.field == "scenes[0].narration" && (e.found ?? "").contains("Japanese")
                && e.expected.contains("kana") && e.expected.contains("prostudio models install kokoro-ja")
        }
    }
}
