/// The language a plain script is written in, guessed from its writing system and its commonest words, so a
/// French `.txt` is read by a French voice and not, silently, by the English default.
public enum ScriptLanguage {
    public struct Guess: Sendable, Equatable {
        /// The espeak-ng voice for it (`fr`, `cmn`, `ja`); its language code is what comes before any `-`.
        public var voice: String
        /// The language's English name, for messages.
        public var name: String
    }

    /// Function words: short, frequent, and (mostly) one language's own. A word shared by several languages
    /// counts for each a fraction.
    static let words: [(voice: String, name: String, words: Set<String>)] = [
        ("en-us", "English", ["the", "and", "of", "to", "is", "in", "that", "it", "with", "for", "this", "was", "are", "you", "on", "be",
                              "have", "not", "they", "we", "from", "by", "at", "or", "an", "will", "can", "your", "our", "their", "what",
                              "which", "there", "been", "has", "would", "its", "these", "those", "when", "how", "who"]),
        ("fr", "French", ["le", "la", "les", "et", "des", "est", "une", "un", "du", "que", "qui", "dans", "pour", "pas", "sur", "au", "aux",
                          "avec", "ce", "cette", "sont", "nous", "vous", "il", "elle", "ils", "mais", "ou", "son", "sa", "ses", "leur",
                          "être", "plus", "très", "à", "c'est", "l'", "d'", "qu'", "n'", "ne", "on", "y"]),
        ("de", "German", ["der", "die", "das", "und", "ist", "nicht", "ein", "eine", "mit", "auf", "den", "dem", "des", "zu", "sich",
                          "von", "für", "auch", "es", "sie", "wir", "ihr", "ich", "sind", "wird", "werden", "aus", "bei", "nach",
                          "noch", "über", "oder", "aber", "wie", "im", "einen", "einem", "hat", "kann", "man"]),
        ("es", "Spanish", ["el", "los", "las", "y", "que", "es", "una", "un", "del", "por", "para", "con", "se", "lo", "su", "sus", "más",
                           "como", "pero", "está", "son", "al", "muy", "también", "hay", "este", "esta", "nosotros", "ellos", "donde",
                           "cuando", "la", "de", "en", "no", "ya", "porque", "sin"]),
        ("it", "Italian", ["il", "di", "che", "e", "la", "per", "non", "una", "un", "sono", "del", "della", "con", "gli", "le", "è",
                           "ma", "come", "anche", "più", "questo", "questa", "nel", "alla", "dei", "delle", "molto", "essere", "hanno",
                           "si", "ci", "da", "lo", "perché"]),
        ("pt", "Portuguese", ["o", "os", "as", "e", "de", "que", "não", "uma", "um", "do", "da", "dos", "das", "em", "para", "com", "por",
                              "mais", "como", "mas", "é", "são", "está", "também", "muito", "você", "nós", "ele", "ela", "no", "na", "se"]),
        ("nl", "Dutch", ["de", "het", "een", "en", "van", "is", "dat", "niet", "op", "te", "met", "voor", "zijn", "er", "maar", "ook",
                         "als", "bij", "nog", "wordt", "door", "naar", "uit", "wij", "jij", "hij", "zij", "dit", "deze", "ik", "je"]),
    ]

    /// How many of the languages above share each word.
    static let sharing: [String: Int] = {
        var n: [String: Int] = [:]
        for l in words { for w in l.words { n[w, default: 0] += 1 } }
        return n
    }()

    /// The script's language, or nil when the text says too little (a few words, or words of no listed language).
    public static func guess(_ text: String) -> Guess? {
        var latin = 0
        var other: [ScriptFit.Script: Int] = [:]
        var cyrillicUkrainian = 0, persian = 0
        for s in text.unicodeScalars {
            if let script = ScriptFit.Script.of(s) {
                other[script, default: 0] += 1
                if "їєіґЇЄІҐ".unicodeScalars.contains(s) { cyrillicUkrainian += 1 }
                if "پچژگ".unicodeScalars.contains(s) { persian += 1 }
            } else if s.properties.isAlphabetic {
                latin += 1
            }
        }
        let nonLatin = other.values.reduce(0, +)
        if nonLatin >= 4, nonLatin > latin {
            let kana = other[.kana] ?? 0, han = other[.han] ?? 0
            if kana > 0 && kana * 10 >= kana + han { return Guess(voice: "ja", name: "Japanese") }
            guard let (script, _) = other.max(by: { $0.value < $1.value }) else { return nil }
            switch script {
            case .han: return Guess(voice: "cmn", name: "Chinese (Mandarin)")
            case .kana: return Guess(voice: "ja", name: "Japanese")
            case .hangul: return Guess(voice: "ko", name: "Korean")
            case .cyrillic: return cyrillicUkrainian > 0 ? Guess(voice: "uk", name: "Ukrainian") : Guess(voice: "ru", name: "Russian")
            case .arabic: return persian > 0 ? Guess(voice: "fa", name: "Persian") : Guess(voice: "ar", name: "Arabic")
            case .hebrew: return Guess(voice: "he", name: "Hebrew")
            case .greek: return Guess(voice: "el", name: "Greek")
            case .thai: return Guess(voice: "th", name: "Thai")
            case .devanagari: return Guess(voice: "hi", name: "Hindi")
            }
        }
        // Latin letters: score each language by its function words.
        var scores = [Double](repeating: 0, count: words.count)
        var tokens = 0
        for raw in text.lowercased().split(whereSeparator: { !($0.isLetter || $0 == "'" || $0 == "’") }) {
            var word = String(raw).replacingOccurrences(of: "’", with: "'")
            tokens += 1
            // French elision: "l'homme" counts "l'".
            if let apostrophe = word.firstIndex(of: "'"), word.distance(from: word.startIndex, to: apostrophe) <= 2 {
                word = String(word[...apostrophe])
            }
            guard let shared = sharing[word] else { continue }
            for (i, l) in words.enumerated() where l.words.contains(word) { scores[i] += 1 / Double(shared) }
        }
        let ranked = scores.enumerated().sorted { $0.element > $1.element }
        guard tokens >= 4, let best = ranked.first, best.element >= 2,
              best.element >= 1.5 * ranked[1].element, best.element >= 0.1 * Double(tokens) else { return nil }
        return Guess(voice: words[best.offset].voice, name: words[best.offset].name)
    }

    /// The language code of a voice name (`en-us` -> `en`).
    static func code(_ voice: String) -> String { voice.lowercased().split(separator: "-").first.map(String.init) ?? "" }

    /// A plain script whose front matter names no voice is read in its own language: when the guess differs from
    /// the voice it would get (the defaults', else `en-us`), the voice is set to the guess's. Returns the document
    /// and the guess it acted on.
    static func choosingVoice(_ doc: DocNode, script: String, defaults: ManifestDefaults?) -> (DocNode, Guess?) {
        guard case .map(let pairs) = doc.value, !pairs.contains(where: { $0.key == "voice" }), let guess = guess(script) else { return (doc, nil) }
        let merged = defaults?.apply(to: doc) ?? doc
        var current = "en-us"
        if case .map(let top) = merged.value, let voice = top.first(where: { $0.key == "voice" })?.node, case .map(let fields) = voice.value,
           let name = fields.first(where: { $0.key == "voice" })?.node, case .scalar(let text, _) = name.value {
            current = text
        }
        guard code(current) != code(guess.voice) else { return (doc, nil) }
        let voice = DocNode(value: .map([(key: "voice", node: DocNode(value: .scalar(text: guess.voice, plain: false), line: 1))]), line: 1)
        return (DocNode(value: .map(pairs + [(key: "voice", node: voice)]), line: doc.line), guess)
    }
}

extension ScriptFit {
    /// Scenes most of whose letters their voice cannot read (a Japanese script with kanji under espeak-ng's `ja`,
    /// Chinese under an English voice): refused, naming the scene, what was found and what would read it. A few such
    /// characters in a scene are left to the plan's warning.
    public static func problems(in m: JobManifest, file: String) -> [ManifestError] {
        m.scenes.enumerated().compactMap { i, scene in
            let scripts = unreadable(scene.narration, language: scene.voice.voice, engine: scene.voice.engine)
            guard let first = scripts.first else { return nil }
            var letters = 0, foreign = 0
            for s in scene.narration.unicodeScalars where s.properties.isAlphabetic {
                letters += 1
                if let script = Script.of(s), scripts.contains(script) { foreign += 1 }
            }
            guard foreign >= 5, foreign * 10 >= letters else { return nil }
            let language = ScriptLanguage.guess(scene.narration)?.name ?? first.rawValue
            return ManifestError(.noVoice, file: file, field: "scenes[\(i)].narration",
                                 found: "\(language) text with \(scripts.map(\.rawValue).joined(separator: " and ")), which the voice \"\(scene.voice.voice)\" cannot read aloud",
                                 expected: readers(first, voice: scene.voice.voice))
        }
    }

    /// What would read a script, for the messages.
    static func readers(_ s: Script, voice: String) -> String {
        switch s {
        case .han where code(voice) == "ja":
            "the Japanese Kokoro voice (`prostudio models install kokoro-ja`, then voice engine auto or kokoro), or the kanji written in kana (espeak-ng's ja reads kana only)"
        case .han: "voice: {voice: cmn} (Mandarin) or {voice: yue} (Cantonese)"
        case .kana: "voice: {voice: ja}, with any kanji written in kana (espeak-ng's ja reads kana only)"
        case .hangul: "voice: {voice: ko}"
        case .arabic: "voice: {voice: ar} or {voice: fa}"
        case .hebrew: "voice: {voice: he}"
        case .cyrillic: "voice: {voice: ru}, {voice: uk} or {voice: bg}"
        case .greek: "voice: {voice: el}"
        case .thai: "voice: {voice: th}"
        case .devanagari: "voice: {voice: hi} or {voice: mr}"
        }
    }

    static func code(_ voice: String) -> String { ScriptLanguage.code(voice) }
}
