import Foundation

/// Gives a `DocNode` tree its meaning: field by field, with defaults and limits.
struct ManifestDecoder {
    var reader: Reader
    let base: String
    /// music.pack when music is engine musicgen: the default pack of scenes' sound effects.
    var sfxPack: String? = nil
    /// The folders a library folder may be in (API and inbox manifests); nil: any.
    var access: FolderAccess? = nil


    mutating func decode(_ doc: DocNode, name: String) -> JobManifest? {
        guard let top = reader.mapping(doc, "", allowed: ManifestFields.top) else { return nil }
        if let v = top["version"] { _ = reader.int(v, "version", range: ManifestLimits.version) }
        let title = reader.string(top["title"], "title")
        // Without a seed, the job's own words choose its look: different scripts look different, the same script
        // looks the same every time.
        let seed = reader.seed(top["seed"], "seed") ?? Self.contentSeed(doc)
        let output = decodeOutput(top["output"])
        let voice = decodeVoice(top["voice"], "voice", inherited: nil)
        let visuals = decodeVisuals(top["visuals"], "visuals", inherited: nil)
        var music = decodeMusic(top["music"])
        music.title = title
        let captions = decodeCaptions(top["captions"], output: output)
        let transitions = decodeTransitions(top["transitions"])
        sfxPack = music.engine == .musicgen ? music.pack : nil
        var scenes = decodeScenes(top["scenes"], visuals: visuals, voice: voice, root: doc)
        // A job-level recording is the narration of a one-scene job: cutting one take across scenes would need
        // scene boundaries the producer never marked, so more than one scene gives each its own file.
        if let node = top["narration_audio"], let rel = reader.string(node, "narration_audio"),
           let file = resolveAsset(rel, "narration_audio", node, kinds: ManifestFields.narrationAudioKinds) {
            if scenes.count > 1 {
                reader.fail(.invalidValue, "narration_audio", node, found: "one recording for \(scenes.count) scenes",
                            expected: "a job-level recording only with one scene (give each scene its own narration_audio)")
            } else if !scenes.isEmpty {
                if scenes[0].narrationAudio != nil {
                    reader.fail(.invalidValue, "narration_audio", node, expected: "a recording for the job or for its scene, not both")
                }
                scenes[0].narrationAudio = file
            }
        }
        var manifest = JobManifest(name: name, title: title, seed: seed, output: output, voice: voice, visuals: visuals, music: music,
                                   captions: captions, transitions: transitions, scenes: scenes)
        if let card = reader.bool(top["title_card"], "title_card") { manifest.titleCard = card }
        if let p = reader.int(top["priority"], "priority", range: ManifestLimits.priority) { manifest.priority = p }
        if let node = top["not_before"] { manifest.notBefore = reader.time(node, "not_before") }
        if let mode = reader.choice(top["chapters"], "chapters", JobManifest.ChapterMode.self) { manifest.chapters = mode }
        if let node = top["lexicon"] { manifest.lexicon = decodeLexicon(node) }
        if let node = top["poster"], let p = reader.mapping(node, "poster", allowed: ["time", "title", "captions"]) {
            manifest.poster.time = reader.double(p["time"], "poster.time", range: ManifestLimits.posterTime, unit: " seconds")
            if let t = reader.bool(p["title"], "poster.title") { manifest.poster.title = t }
            if let c = reader.bool(p["captions"], "poster.captions") { manifest.poster.captions = c }
        }
        if let node = top["outputs"] { manifest.renditions = decodeRenditions(node, base: output) }
        if let node = top["quality"], let q = reader.mapping(node, "quality", allowed: ["on_fail"]),
           let mode = reader.choice(q["on_fail"], "quality.on_fail", JobManifest.QualityPolicy.OnFail.self) {
            manifest.quality.onFail = mode
        }
        if let node = top["notify"], let n = reader.mapping(node, "notify", allowed: ["url", "secret"]) {
            let url = reader.string(n["url"], "notify.url")
            let secret = reader.string(n["secret"], "notify.secret")
            if n["url"] == nil { reader.fail(.missingField, "notify.url", node, found: "no url", expected: "the http:// or https:// address to POST to") }
            if n["secret"] == nil { reader.fail(.missingField, "notify.secret", node, found: "no secret", expected: "the key that signs each POST (HMAC-SHA256)") }
            if let url, let urlNode = n["url"] {
                let parts = URL(string: url)
                if !["http", "https"].contains(parts?.scheme?.lowercased() ?? "") || (parts?.host ?? "").isEmpty {
                    reader.fail(.invalidValue, "notify.url", urlNode, expected: "an http:// or https:// URL with a host")
                }
            }
            if let url, let secret { manifest.notify = .init(url: url, secret: secret) }
        }
        return manifest
    }

    /// `lexicon: {ProStudio: pro studio, SQL: sequel}`: how the voice says a word of the script (the captions keep it).
    mutating func decodeLexicon(_ node: DocNode) -> [String: String] {
        guard case .map(let pairs) = node.value else {
            reader.fail(.wrongType, "lexicon", node, found: node.typeName, expected: "a mapping of words to how they are said (SQL: sequel)")
            return [:]
        }
        var lexicon: [String: String] = [:]
        for (word, value) in pairs {
            let path = "lexicon." + word
            guard !word.isEmpty, !word.contains(where: \.isWhitespace) else {
                reader.fail(.invalidValue, path, value, found: "\"\(word)\"", expected: "a single word of the script (no spaces) as the key")
                continue
            }
            if let said = reader.string(value, path) { lexicon[word] = said }
        }
        return lexicon
    }

    mutating func decodeOutput(_ node: DocNode?) -> JobManifest.Output {
        var out = JobManifest.Output(width: 1280, height: 720, fps: 30, quality: .standard)
        guard let node, let m = reader.mapping(node, "output", allowed: ManifestFields.output) else { return out }
        let width = reader.int(m["width"], "output.width", range: ManifestLimits.dimension)
        let height = reader.int(m["height"], "output.height", range: ManifestLimits.dimension)
        if let aspectNode = m["aspect"], let aspect = reader.string(aspectNode, "output.aspect") {
            if let (aw, ah) = ManifestFields.aspects[aspect] {
                if width != nil && height != nil {
                    reader.fail(.invalidValue, "output.aspect", aspectNode, expected: "either aspect or both width and height, not all three")
                } else if let width {
                    out.width = width; out.height = Self.even(Double(width) * Double(ah) / Double(aw))
                } else if let height {
                    out.height = height; out.width = Self.even(Double(height) * Double(aw) / Double(ah))
                } else if aw >= ah {
                    // Without a size the short side is 720 pixels: 16:9 is 1280x720, 9:16 is 720x1280.
                    out.height = 720; out.width = Self.even(720 * Double(aw) / Double(ah))
                } else {
                    out.width = 720; out.height = Self.even(720 * Double(ah) / Double(aw))
                }
            } else {
                reader.fail(.invalidValue, "output.aspect", aspectNode, expected: "one of " + ManifestFields.aspects.keys.sorted().joined(separator: ", "))
            }
        } else if let width, let height {
            out.width = width; out.height = height
        } else if let width {
            // One side alone keeps the default 16:9: {width: 640} is 640x360, {height: 1080} is 1920x1080.
            out.width = width; out.height = Self.even(Double(width) * 9 / 16)
        } else if let height {
            out.height = height; out.width = Self.even(Double(height) * 16 / 9)
        }
        for (field, value) in [("output.width", out.width), ("output.height", out.height)] where value % 2 != 0 {
            reader.fail(.invalidValue, field, m[String(field.dropFirst(7))], found: String(value), expected: "an even number of pixels (H.264 4:2:0 needs it)")
        }
        if !ManifestLimits.dimension.contains(out.width) || !ManifestLimits.dimension.contains(out.height) {
            reader.fail(.outOfRange, "output.aspect", m["aspect"], found: "\(out.width)x\(out.height)", expected: "each side from 64 to 3840 pixels")
        }
        if let fps = reader.int(m["fps"], "output.fps", range: ManifestLimits.fps) { out.fps = fps }
        if let q = reader.choice(m["quality"], "output.quality", JobManifest.Quality.self) { out.quality = q }
        return out
    }

    /// The nearest even whole number; 0 (refused as a side) for anything that is not a sane pixel count, never a trap.
    static func even(_ v: Double) -> Int {
        let half = (v / 2).rounded()
        return half.isFinite && half.magnitude < 1e9 ? Int(half) * 2 : 0
    }

    /// FNV-1a over the title and every scene's narration and prompt, as written.
    static func contentSeed(_ doc: DocNode) -> UInt64 {
        var text = ""
        func walk(_ node: DocNode, key: String?) {
            switch node.value {
            case .scalar(let s, _) where key == nil || ["title", "narration", "prompt"].contains(key!): text += s + "\u{1F}"
            case .map(let pairs): for p in pairs where p.key != "seed" { walk(p.node, key: p.key) }
            case .list(let items): for item in items { walk(item, key: key == "scenes" ? nil : key) }
            default: break
            }
        }
        walk(doc, key: "")
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in text.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return h % 1_000_000_007
    }

    mutating func decodeVoice(_ node: DocNode?, _ path: String, inherited: JobManifest.Voice?) -> JobManifest.Voice {
        var voice = inherited ?? JobManifest.Voice(engine: .auto, voice: "en-us", pack: "joe-medium", rate: 1, pitch: 1, volume: 1)
        guard let node, let m = reader.mapping(node, path, allowed: ManifestFields.voice) else { return voice }
        if let e = reader.choice(m["engine"], path + ".engine", JobManifest.Voice.Engine.self) {
            if e != voice.engine { voice.pack = nil }
            voice.engine = e
        }
        if let v = reader.string(m["voice"], path + ".voice") { voice.voice = v }
        if let p = reader.string(m["pack"], path + ".pack") { voice.pack = p }
        if voice.engine == .kokoro && voice.pack == nil { voice.pack = PackCheck.defaultKokoroPack }
        if voice.engine != .espeak && voice.pack == nil { voice.pack = "joe-medium" }
        if let s = reader.string(m["speaker"], path + ".speaker") { voice.speaker = s }
        if let r = reader.double(m["rate"], path + ".rate", range: ManifestLimits.rate) { voice.rate = r }
        if let p = reader.double(m["pitch"], path + ".pitch", range: ManifestLimits.pitch) { voice.pitch = p }
        if let v = reader.double(m["volume"], path + ".volume", range: ManifestLimits.voiceVolume) { voice.volume = v }
        if let n = reader.double(m["noise_scale"], path + ".noise_scale", range: ManifestLimits.noise) { voice.noiseScale = n }
        if let n = reader.double(m["noise_w"], path + ".noise_w", range: ManifestLimits.noise) { voice.noiseW = n }
        return voice
    }

    mutating func decodeVisuals(_ node: DocNode?, _ path: String, inherited: JobManifest.Visuals?) -> JobManifest.Visuals {
        var visuals = inherited ?? JobManifest.Visuals(engine: .procedural, style: .soft, pack: nil, steps: nil, guidance: nil, seed: nil)
        guard let node, let m = reader.mapping(node, path, allowed: ManifestFields.visuals) else { return visuals }
        if let e = reader.choice(m["engine"], path + ".engine", JobManifest.Visuals.Engine.self) {
            if e != visuals.engine { visuals.pack = nil }
            visuals.engine = e
        }
        if let s = reader.choice(m["style"], path + ".style", JobManifest.Style.self) { visuals.style = s }
        if let p = reader.string(m["pack"], path + ".pack") { visuals.pack = p }
        if let s = reader.int(m["steps"], path + ".steps", range: ManifestLimits.steps) { visuals.steps = s }
        if let g = reader.double(m["guidance"], path + ".guidance", range: ManifestLimits.guidance) { visuals.guidance = g }
        if let s = reader.seed(m["seed"], path + ".seed") { visuals.seed = s }
        if let fit = reader.choice(m["fit"], path + ".fit", JobManifest.Fit.self) { visuals.fit = fit }
        if let look = reader.choice(m["look"], path + ".look", JobManifest.Look.self) { visuals.look = look }
        if let motion = reader.choice(m["motion"], path + ".motion", JobManifest.Motion.self) { visuals.motion = motion }
        if let fnode = m["folder"], let f = reader.string(fnode, path + ".folder") { visuals.folder = resolveFolder(f, path + ".folder", fnode) }
        if let s = reader.double(m["min_score"], path + ".min_score", range: ManifestLimits.minScore) { visuals.minScore = s }
        if visuals.engine == .library && visuals.folder == nil && m["folder"] == nil {
            reader.fail(.missingField, path + ".folder", node, found: "engine library without a folder", expected: "the folder of your pictures and clips")
        }
        if visuals.engine == .diffusion && visuals.pack == nil {
            reader.fail(.missingField, path + ".pack", node, found: "engine diffusion without a pack", expected: "the name of an installed video pack (see `prostudio models list`)")
        }
        return visuals
    }

    mutating func decodeMusic(_ node: DocNode?) -> JobManifest.Music {
        var music = JobManifest.Music(engine: .procedural, mood: .calm, prompt: nil, volume: 0.25, file: nil, pack: nil)
        guard let node else { return music }
        if case .scalar(let text, _) = node.value, ["none", "off"].contains(text.lowercased()) {
            music.engine = .none
            return music
        }
        guard let m = reader.mapping(node, "music", allowed: ManifestFields.music) else { return music }
        let explicit = reader.choice(m["engine"], "music.engine", JobManifest.Music.Engine.self)
        if let mood = reader.choice(m["mood"], "music.mood", JobManifest.Mood.self) { music.mood = mood }
        music.prompt = reader.string(m["prompt"], "music.prompt")
        if let v = reader.double(m["volume"], "music.volume", range: ManifestLimits.musicVolume) { music.volume = v }
        music.pack = reader.string(m["pack"], "music.pack")
        music.seed = reader.seed(m["seed"], "music.seed")
        music.guidance = reader.double(m["guidance"], "music.guidance", range: ManifestLimits.musicGuidance)
        music.temperature = reader.double(m["temperature"], "music.temperature", range: ManifestLimits.musicTemperature)
        if let fileNode = m["file"], let file = reader.string(fileNode, "music.file") {
            music.file = resolveAsset(file, "music.file", fileNode, kinds: ["wav", "mp3", "flac", "ogg", "oga", "opus", "m4a", "aac"])
        }
        music.engine = explicit ?? (m["file"] != nil ? .file : .procedural)
        if music.engine == .file && m["file"] == nil {
            reader.fail(.missingField, "music.file", node, found: "engine file without a file", expected: "a path to an audio file next to the manifest")
        }
        if music.engine == .musicgen && music.pack == nil {
            reader.fail(.missingField, "music.pack", node, found: "engine musicgen without a pack", expected: "the name of an installed music pack (see `prostudio models list`)")
        }
        return music
    }

    mutating func decodeCaptions(_ node: DocNode?, output: JobManifest.Output) -> JobManifest.Captions {
        // The short side sets the default size, so a vertical video's captions fit its width.
        var captions = JobManifest.Captions(mode: .burn, size: max(12, min(output.width, output.height) / 16), position: .bottom)
        guard let node else { return captions }
        if case .scalar = node.value {
            if let mode = reader.choice(node, "captions", JobManifest.Captions.Mode.self) { captions.mode = mode }
            return captions
        }
        guard let m = reader.mapping(node, "captions", allowed: ManifestFields.captions) else { return captions }
        if let mode = reader.choice(m["mode"], "captions.mode", JobManifest.Captions.Mode.self) { captions.mode = mode }
        if let size = reader.int(m["size"], "captions.size", range: ManifestLimits.captionSize) { captions.size = size }
        if let p = reader.choice(m["position"], "captions.position", JobManifest.Captions.Position.self) { captions.position = p }
        if let f = reader.string(m["font"], "captions.font") { captions.font = f }
        if let c = color(m["color"], "captions.color") { captions.color = c }
        if let o = reader.double(m["outline"], "captions.outline", range: ManifestLimits.captionOutline, unit: " pixels") { captions.outline = o }
        if let l = reader.int(m["max_lines"], "captions.max_lines", range: ManifestLimits.captionLines) { captions.maxLines = l }
        if let h = reader.choice(m["highlight"], "captions.highlight", JobManifest.Captions.Highlight.self) { captions.highlight = h }
        if let c = color(m["highlight_color"], "captions.highlight_color") { captions.highlightColor = c }
        if let boxNode = m["box"] {
            let standard = JobManifest.Captions.Box(color: "#000000", opacity: 0.6)
            if case .bool(let on) = boxNode.value {
                captions.box = on ? standard : nil
            } else if case .map = boxNode.value, let b = reader.mapping(boxNode, "captions.box", allowed: ["color", "opacity"]) {
                var box = standard
                if let c = color(b["color"], "captions.box.color") { box.color = c }
                if let o = reader.double(b["opacity"], "captions.box.opacity", range: ManifestLimits.opacity) { box.opacity = o }
                captions.box = box
            } else {
                reader.fail(.wrongType, "captions.box", boxNode, found: boxNode.typeName, expected: "true, false, or {color, opacity}")
            }
        }
        return captions
    }

    /// `#RRGGBB`, `#RGB` or a common colour name, normalised to `#RRGGBB`.
    mutating func color(_ node: DocNode?, _ path: String) -> String? {
        guard let node, let text = reader.string(node, path) else { return nil }
        if let hex = ManifestFields.colorNames[text.lowercased()] { return hex }
        var digits = text.hasPrefix("#") ? String(text.dropFirst()) : text
        if digits.count == 3 { digits = digits.map { "\($0)\($0)" }.joined() }
        guard digits.count == 6, digits.allSatisfy(\.isHexDigit) else {
            reader.fail(.invalidValue, path, node, found: "\"\(text)\"", expected: "a colour as #RRGGBB or a name (" + ManifestFields.colorNames.keys.sorted().joined(separator: ", ") + ")")
            return nil
        }
        return "#" + digits.uppercased()
    }

    mutating func decodeTransitions(_ node: DocNode?) -> JobManifest.Transitions {
        var t = JobManifest.Transitions(kind: .cut, duration: 0.5)
        guard let node else { return t }
        if case .scalar = node.value {
            if let kind = reader.choice(node, "transitions", JobManifest.Transitions.Kind.self) { t.kind = kind }
            return t
        }
        guard let m = reader.mapping(node, "transitions", allowed: ManifestFields.transitions) else { return t }
        if let kind = reader.choice(m["type"], "transitions.type", JobManifest.Transitions.Kind.self) { t.kind = kind }
        if let d = reader.double(m["duration"], "transitions.duration", range: ManifestLimits.transition, unit: " seconds") { t.duration = d }
        return t
    }
}

/// The fields each part of a manifest accepts. The JSON Schema in `schema/` is tested against these.
public enum ManifestFields {
    public static let top = ["version", "title", "seed", "output", "voice", "visuals", "music", "captions", "transitions", "scenes", "title_card", "poster", "notify", "lexicon", "narration_audio", "chapters", "priority", "not_before", "quality", "outputs"]
    public static let output = ["width", "height", "aspect", "fps", "quality"]
    public static let voice = ["engine", "voice", "pack", "rate", "pitch", "volume", "noise_scale", "noise_w", "speaker"]
    public static let visuals = ["engine", "style", "pack", "steps", "guidance", "seed", "fit", "look", "motion", "folder", "min_score"]
    public static let music = ["engine", "mood", "prompt", "volume", "file", "pack", "seed", "guidance", "temperature"]
    public static let captions = ["mode", "size", "position", "font", "color", "outline", "box", "max_lines", "highlight", "highlight_color"]
    public static let transitions = ["type", "duration"]
    public static let scene = ["narration", "prompt", "image", "pause", "visuals", "voice", "fit", "focus", "heading", "video", "start", "fill", "clip_volume", "sfx", "motion", "narration_audio"]
    /// What `narration_audio` may be: the formats a producer's recording usually comes in.
    public static let narrationAudioKinds = ["wav", "flac", "mp3", "m4a"]
    public static let sfx = ["prompt", "at", "duration", "pack", "volume"]
    public static let colorNames = ["white": "#FFFFFF", "black": "#000000", "yellow": "#FFD400", "red": "#E53935", "green": "#43A047",
                                    "blue": "#1E88E5", "cyan": "#00BCD4", "magenta": "#D81B60", "orange": "#FB8C00", "gray": "#9E9E9E", "grey": "#9E9E9E"]
    public static let aspects: [String: (Int, Int)] = ["16:9": (16, 9), "9:16": (9, 16), "1:1": (1, 1), "4:3": (4, 3), "4:5": (4, 5)]
}
