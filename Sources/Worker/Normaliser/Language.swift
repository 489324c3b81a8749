/// The languages the normaliser reads, and the words each needs.
enum Language: String, CaseIterable, Sendable {
    case en, fr, de, es

    /// From a voice name (`en-us`, `fr`, `de-DE`, `es-419`); nil for a language without rules (its text is spoken as written).
    init?(voice: String) {
        let code = voice.lowercased().prefix { $0.isLetter }
        self.init(rawValue: String(code))
    }

    /// The decimal separator; the other of `.` and `,` groups thousands.
    var decimalComma: Bool { self != .en }

    struct Words {
        var point, minus, to, and, percent, at, dot, slash, dash, underscore, plus, number, hashtag, equals: String
    }

    var words: Words {
        switch self {
        case .en: Words(point: "point", minus: "minus", to: "to", and: "and", percent: "percent", at: "at", dot: "dot", slash: "slash",
                        dash: "dash", underscore: "underscore", plus: "plus", number: "number", hashtag: "hashtag", equals: "equals")
        case .fr: Words(point: "virgule", minus: "moins", to: "à", and: "et", percent: "pour cent", at: "arobase", dot: "point", slash: "slash",
                        dash: "tiret", underscore: "tiret bas", plus: "plus", number: "numéro", hashtag: "hashtag", equals: "égale")
        case .de: Words(point: "Komma", minus: "minus", to: "bis", and: "und", percent: "Prozent", at: "at", dot: "Punkt", slash: "Schrägstrich",
                        dash: "Bindestrich", underscore: "Unterstrich", plus: "plus", number: "Nummer", hashtag: "Hashtag", equals: "gleich")
        case .es: Words(point: "coma", minus: "menos", to: "a", and: "y", percent: "por ciento", at: "arroba", dot: "punto", slash: "barra",
                        dash: "guion", underscore: "guion bajo", plus: "más", number: "número", hashtag: "hashtag", equals: "igual a")
        }
    }

    /// A noun said after a number: its singular, plural and gender (for "une minute", "una libra", "eine Stunde").
    struct Noun {
        var one: String
        var many: String
        var feminine = false
    }

    /// Currency symbols: the main unit and its hundredth.
    func currency(_ symbol: Character) -> (main: Noun, cents: Noun?)? {
        switch (self, symbol) {
        case (.en, "$"): (Noun(one: "dollar", many: "dollars"), Noun(one: "cent", many: "cents"))
        case (.en, "€"): (Noun(one: "euro", many: "euros"), Noun(one: "cent", many: "cents"))
        case (.en, "£"): (Noun(one: "pound", many: "pounds"), Noun(one: "penny", many: "pence"))
        case (.en, "¥"): (Noun(one: "yen", many: "yen"), nil)
        case (.fr, "$"): (Noun(one: "dollar", many: "dollars"), nil)
        case (.fr, "€"): (Noun(one: "euro", many: "euros"), nil)
        case (.fr, "£"): (Noun(one: "livre", many: "livres", feminine: true), nil)
        case (.fr, "¥"): (Noun(one: "yen", many: "yens"), nil)
        case (.de, "$"): (Noun(one: "Dollar", many: "Dollar"), nil)
        case (.de, "€"): (Noun(one: "Euro", many: "Euro"), nil)
        case (.de, "£"): (Noun(one: "Pfund", many: "Pfund"), nil)
        case (.de, "¥"): (Noun(one: "Yen", many: "Yen"), nil)
        case (.es, "$"): (Noun(one: "dólar", many: "dólares"), nil)
        case (.es, "€"): (Noun(one: "euro", many: "euros"), nil)
        case (.es, "£"): (Noun(one: "libra", many: "libras", feminine: true), nil)
        case (.es, "¥"): (Noun(one: "yen", many: "yenes"), nil)
        default: nil
        }
    }

    /// Units written after a number (`5 km`, `20°C`, `35 min`).
    func unit(_ symbol: String) -> Noun? {
        let table: [String: Noun]
        switch self {
        case .en: table = [
            "km": Noun(one: "kilometer", many: "kilometers"), "m": Noun(one: "meter", many: "meters"),
            "cm": Noun(one: "centimeter", many: "centimeters"), "mm": Noun(one: "millimeter", many: "millimeters"),
            "kg": Noun(one: "kilogram", many: "kilograms"), "g": Noun(one: "gram", many: "grams"), "mg": Noun(one: "milligram", many: "milligrams"),
            "km/h": Noun(one: "kilometer per hour", many: "kilometers per hour"), "mph": Noun(one: "mile per hour", many: "miles per hour"),
            "°C": Noun(one: "degree Celsius", many: "degrees Celsius"), "°F": Noun(one: "degree Fahrenheit", many: "degrees Fahrenheit"),
            "°": Noun(one: "degree", many: "degrees"), "min": Noun(one: "minute", many: "minutes"), "h": Noun(one: "hour", many: "hours"),
            "s": Noun(one: "second", many: "seconds"), "ms": Noun(one: "millisecond", many: "milliseconds"),
            "KB": Noun(one: "kilobyte", many: "kilobytes"), "MB": Noun(one: "megabyte", many: "megabytes"),
            "GB": Noun(one: "gigabyte", many: "gigabytes"), "TB": Noun(one: "terabyte", many: "terabytes"),
            "l": Noun(one: "liter", many: "liters"), "ml": Noun(one: "milliliter", many: "milliliters"), "L": Noun(one: "liter", many: "liters"),
            "lb": Noun(one: "pound", many: "pounds"), "lbs": Noun(one: "pound", many: "pounds"), "ft": Noun(one: "foot", many: "feet"),
            "mi": Noun(one: "mile", many: "miles"), "oz": Noun(one: "ounce", many: "ounces"), "kWh": Noun(one: "kilowatt hour", many: "kilowatt hours"),
            "Hz": Noun(one: "hertz", many: "hertz"), "kHz": Noun(one: "kilohertz", many: "kilohertz"), "GHz": Noun(one: "gigahertz", many: "gigahertz"),
        ]
        case .fr: table = [
            "km": Noun(one: "kilomètre", many: "kilomètres"), "m": Noun(one: "mètre", many: "mètres"),
            "cm": Noun(one: "centimètre", many: "centimètres"), "mm": Noun(one: "millimètre", many: "millimètres"),
            "kg": Noun(one: "kilogramme", many: "kilogrammes"), "g": Noun(one: "gramme", many: "grammes"), "mg": Noun(one: "milligramme", many: "milligrammes"),
            "km/h": Noun(one: "kilomètre heure", many: "kilomètres heure"), "°C": Noun(one: "degré Celsius", many: "degrés Celsius"),
            "°": Noun(one: "degré", many: "degrés"), "min": Noun(one: "minute", many: "minutes", feminine: true),
            "h": Noun(one: "heure", many: "heures", feminine: true), "s": Noun(one: "seconde", many: "secondes", feminine: true),
            "Mo": Noun(one: "mégaoctet", many: "mégaoctets"), "Go": Noun(one: "gigaoctet", many: "gigaoctets"),
            "MB": Noun(one: "mégaoctet", many: "mégaoctets"), "GB": Noun(one: "gigaoctet", many: "gigaoctets"),
            "l": Noun(one: "litre", many: "litres"), "L": Noun(one: "litre", many: "litres"), "ml": Noun(one: "millilitre", many: "millilitres"),
        ]
        case .de: table = [
            "km": Noun(one: "Kilometer", many: "Kilometer"), "m": Noun(one: "Meter", many: "Meter"),
            "cm": Noun(one: "Zentimeter", many: "Zentimeter"), "mm": Noun(one: "Millimeter", many: "Millimeter"),
            "kg": Noun(one: "Kilogramm", many: "Kilogramm"), "g": Noun(one: "Gramm", many: "Gramm"), "mg": Noun(one: "Milligramm", many: "Milligramm"),
            "km/h": Noun(one: "Kilometer pro Stunde", many: "Kilometer pro Stunde"), "°C": Noun(one: "Grad Celsius", many: "Grad Celsius"),
            "°": Noun(one: "Grad", many: "Grad"), "min": Noun(one: "Minute", many: "Minuten", feminine: true),
            "h": Noun(one: "Stunde", many: "Stunden", feminine: true), "s": Noun(one: "Sekunde", many: "Sekunden", feminine: true),
            "MB": Noun(one: "Megabyte", many: "Megabyte"), "GB": Noun(one: "Gigabyte", many: "Gigabyte"),
            "l": Noun(one: "Liter", many: "Liter"), "L": Noun(one: "Liter", many: "Liter"), "ml": Noun(one: "Milliliter", many: "Milliliter"),
        ]
        case .es: table = [
            "km": Noun(one: "kilómetro", many: "kilómetros"), "m": Noun(one: "metro", many: "metros"),
            "cm": Noun(one: "centímetro", many: "centímetros"), "mm": Noun(one: "milímetro", many: "milímetros"),
            "kg": Noun(one: "kilogramo", many: "kilogramos"), "g": Noun(one: "gramo", many: "gramos"), "mg": Noun(one: "miligramo", many: "miligramos"),
            "km/h": Noun(one: "kilómetro por hora", many: "kilómetros por hora"), "°C": Noun(one: "grado Celsius", many: "grados Celsius"),
            "°": Noun(one: "grado", many: "grados"), "min": Noun(one: "minuto", many: "minutos"),
            "h": Noun(one: "hora", many: "horas", feminine: true), "s": Noun(one: "segundo", many: "segundos"),
            "MB": Noun(one: "megabyte", many: "megabytes"), "GB": Noun(one: "gigabyte", many: "gigabytes"),
            "l": Noun(one: "litro", many: "litros"), "L": Noun(one: "litro", many: "litros"), "ml": Noun(one: "mililitro", many: "mililitros"),
        ]
        }
        return table[symbol]
    }

    /// Abbreviations written with their dot, as they are read. Case matters (`No.` before a number only: see the scanner).
    var abbreviations: [String: String] {
        switch self {
        case .en: ["Dr.": "Doctor", "Mr.": "Mister", "Mrs.": "Missus", "Ms.": "Miz", "Prof.": "Professor", "St.": "Saint", "Jr.": "Junior",
                   "Sr.": "Senior", "e.g.": "for example", "i.e.": "that is", "etc.": "et cetera", "vs.": "versus", "approx.": "approximately",
                   "Mt.": "Mount", "Ave.": "Avenue", "Blvd.": "Boulevard", "Dept.": "Department", "Jan.": "January", "Feb.": "February",
                   "Aug.": "August", "Sept.": "September", "Oct.": "October", "Nov.": "November", "Dec.": "December"]
        case .fr: ["M.": "Monsieur", "MM.": "Messieurs", "Mme": "Madame", "Mmes": "Mesdames", "Mlle": "Mademoiselle", "Dr": "Docteur",
                   "Pr": "Professeur", "etc.": "et cetera", "env.": "environ", "cf.": "confer", "av.": "avenue", "bd": "boulevard"]
        case .de: ["z.B.": "zum Beispiel", "z. B.": "zum Beispiel", "usw.": "und so weiter", "bzw.": "beziehungsweise", "d.h.": "das heißt",
                   "Dr.": "Doktor", "Prof.": "Professor", "ca.": "circa", "Str.": "Straße", "Hr.": "Herr", "Fr.": "Frau", "evtl.": "eventuell",
                   "inkl.": "inklusive", "ggf.": "gegebenenfalls", "u.a.": "unter anderem", "etc.": "et cetera", "vgl.": "vergleiche"]
        case .es: ["Sr.": "señor", "Sra.": "señora", "Srta.": "señorita", "Dr.": "doctor", "Dra.": "doctora", "Ud.": "usted", "Uds.": "ustedes",
                   "etc.": "etcétera", "aprox.": "aproximadamente", "Avda.": "avenida", "pág.": "página", "núm.": "número", "EE.UU.": "Estados Unidos"]
        }
    }

    /// A noun's gender, guessed from its ending (German, Spanish) or a list of common feminine nouns (French): enough
    /// for the one word that agrees with it, "eine Minute", "una hora", "vingt et une heures". English has none.
    func gender(ofNoun word: Substring) -> NumberWords.Gender {
        let w = word.lowercased()
        switch self {
        case .en: return .masculine
        case .de:
            guard word.first?.isUppercase == true else { return .masculine }
            let feminine = ["e", "ung", "heit", "keit", "schaft", "ion", "tät", "ei", "ik"]
            let masculineE = ["käse", "name", "gedanke", "glaube", "wille", "friede", "funke", "buchstabe", "junge", "kunde", "löwe", "affe", "ende", "auge", "interesse"]
            if masculineE.contains(w) { return .masculine }
            return feminine.contains { w.hasSuffix($0) } ? .feminine : .masculine
        case .es:
            let masculineA = ["día", "días", "mapa", "mapas", "problema", "problemas", "programa", "programas", "sistema", "sistemas", "tema", "temas", "idioma", "idiomas", "planeta", "planetas", "clima"]
            if masculineA.contains(w) { return .masculine }
            let feminine = ["a", "as", "ción", "ciones", "dad", "dades", "tud", "tudes", "sión", "siones"]
            return feminine.contains { w.hasSuffix($0) } ? .feminine : .masculine
        case .fr:
            let stem = w.hasSuffix("s") ? String(w.dropLast()) : w
            let feminine: Set<String> = ["heure", "minute", "seconde", "fois", "personne", "semaine", "année", "journée", "page", "étape",
                                         "vidéo", "image", "scène", "idée", "chose", "femme", "ville", "maison", "voiture", "livre",
                                         "photo", "question", "réponse", "histoire", "minute", "nuit", "tonne", "place", "partie", "saison"]
            return feminine.contains(stem) || feminine.contains(w) ? .feminine : .masculine
        }
    }

    /// Words after a number that are not its noun (`1 de mayo`, `3 et 4`).
    var functionWords: Set<String> {
        switch self {
        case .en: []
        case .fr: ["de", "du", "des", "à", "au", "aux", "et", "ou", "en", "par", "pour", "sur", "sous", "avec", "sans", "le", "la", "les", "un", "une"]
        case .de: ["und", "oder", "bis", "von", "zu", "mit", "nach", "in", "im", "am", "an", "auf", "der", "die", "das", "den", "dem", "des"]
        case .es: ["de", "del", "a", "al", "y", "o", "en", "por", "para", "con", "sin", "el", "la", "los", "las", "un", "una"]
        }
    }

    var months: [String] {
        switch self {
        case .en: ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
        case .fr: ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"]
        case .de: ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"]
        case .es: ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"]
        }
    }

    func isMonth(_ word: Substring) -> Bool {
        let w = word.lowercased()
        return months.contains { $0.lowercased() == w }
    }

    /// Names after which a Roman numeral is a regnal number read as an ordinal ("Louis XIV" is "Louis the fourteenth",
    /// "Mark II" is "Mark two").
    static let regnalNames: Set<String> = [
        "Louis", "Henry", "Henri", "Heinrich", "Enrique", "Elizabeth", "Elisabeth", "Isabel", "George", "Georg", "Charles", "Karl", "Carlos",
        "Edward", "William", "Wilhelm", "Guillaume", "James", "Richard", "John", "Jean", "Juan", "Pius", "Benedict", "Benedikt", "Leo", "León",
        "Gregory", "Philip", "Philippe", "Felipe", "Frederick", "Friedrich", "Alfonso", "Ferdinand", "Fernando", "Catherine", "Katharina",
        "Peter", "Pierre", "Pedro", "Napoleon", "Napoléon", "Victor", "Alexander", "Alexandre", "Nicholas", "Nikolaus", "Ludwig", "Otto",
        "Francis", "François", "Franz", "Mary", "Marie", "Anne", "Paul", "Pope", "Juan Carlos", "Victoria", "Ivan", "Ramses", "Urban", "Innocent",
    ]
}
