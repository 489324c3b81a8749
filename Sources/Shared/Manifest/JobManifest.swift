import Foundation

/// A validated manifest with every default resolved: what the pipeline plans from.
/// Asset paths are absolute and already checked to lie inside the manifest's folder.
public struct JobManifest: Sendable, Equatable, Codable {
    public var name: String
    public var title: String?
    public var seed: UInt64
    public var output: Output
    public var voice: Voice
    public var visuals: Visuals
    public var music: Music
    public var captions: Captions
    public var transitions: Transitions
    public var scenes: [Scene]
    /// The title in large type over the opening of the first scene (when there is a title).
    public var titleCard: Bool = true
    public var poster: Poster = Poster()
    /// Which scenes become chapters (in the MP4 and the sidecar).
    public var chapters: ChapterMode = .headings
    /// What the quality gate does when a check of the finished video fails.
    public var quality: QualityPolicy = QualityPolicy()
    /// Where the daemon POSTs the sidecar when the job ends (done, failed, rejected), signed with `secret`.
    public var notify: Notify? = nil
    /// Why a plain script's voice is what it is, when the loader chose it from the script's language
    /// ("the script reads as French"); not part of the manifest's fields.
    public var voiceChoice: String? = nil
    /// How the voice says words of the script (`lexicon:`, over the site's defaults): the captions keep the words.
    public var lexicon: [String: String] = [:]
    /// The job's place in the daemon's queue (issue 32): higher first (`ManifestLimits.priority`), and not started
    /// before `notBefore`. Not the video's: left out of `CodingKeys`, so they never reach the resolved manifest's
    /// fields a cache key or `validate --json` is made of, and a reprioritised job reuses its cached stages.
    public var priority: Int = 0
    public var notBefore: Date? = nil
    /// `outputs:`: more files of the same video beside `NAME.mp4` (`Renditions.swift`), composed from the same speech,
    /// music and pictures; empty by default. Left out of `CodingKeys` like the queue fields: no stage before compose
    /// depends on them.
    public var renditions: [Rendition] = []

    /// `quality: {on_fail: fail|flag}`: a failing check fails the job (`quality.<check>`), or the video is published
    /// and the sidecar says it was flagged.
    public struct QualityPolicy: Sendable, Equatable, Codable {
        public enum OnFail: String, Sendable, Codable, CaseIterable { case fail, flag }
        public var onFail: OnFail = .fail
        public init(onFail: OnFail = .fail) { self.onFail = onFail }
        enum CodingKeys: String, CodingKey { case onFail = "on_fail" }
    }

    public struct Notify: Sendable, Equatable, Codable {
        public var url: String
        public var secret: String
    }

    /// `headings`: each scene with a heading starts a chapter (the default); `scenes`: every scene does, titled by
    /// its heading or its narration's first words; `off`: none.
    public enum ChapterMode: String, Sendable, Codable, CaseIterable { case headings, scenes, off }

    public struct Poster: Sendable, Equatable, Codable {
        /// Seconds into the video; nil: the middle of the first scene.
        public var time: Double? = nil
        /// Draw the title on it (when there is one), laid out as a designed title.
        public var title: Bool = true
        /// Burn the captions (and headings) into it as the video shows them; by default the thumbnail is the
        /// picture alone.
        public var captions: Bool = false

        public init(time: Double? = nil, title: Bool = true, captions: Bool = false) { self.time = time; self.title = title; self.captions = captions }

        enum CodingKeys: String, CodingKey { case time, title, captions }

        // A manifest stored before `captions` existed still decodes.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            time = try c.decodeIfPresent(Double.self, forKey: .time)
            title = try c.decodeIfPresent(Bool.self, forKey: .title) ?? true
            captions = try c.decodeIfPresent(Bool.self, forKey: .captions) ?? false
        }
    }

    enum CodingKeys: String, CodingKey {
        case name, title, seed, output, voice, visuals, music, captions, transitions, scenes, poster, notify, lexicon, chapters, quality
        case titleCard = "title_card"
    }

    /// The job's asset files (absolute, inside the manifest's folder): what must travel with the manifest when it is
    /// copied elsewhere (`prostudio submit` of a single file makes a job folder of them).
    public var assetPaths: [String] {
        var paths: [String] = []
        if let f = music.file { paths.append(f) }
        for scene in scenes {
            if let p = scene.image { paths.append(p) }
            if let p = scene.video { paths.append(p) }
            if let p = scene.narrationAudio { paths.append(p) }
        }
        var seen = Set<String>()
        return paths.filter { seen.insert($0).inserted }
    }

    public struct Output: Sendable, Equatable, Codable {
        public var width: Int
        public var height: Int
        public var fps: Int
        public var quality: Quality
    }

    public enum Quality: String, Sendable, Codable, CaseIterable {
        case draft, standard, high
    }

    public struct Voice: Sendable, Equatable, Codable {
        /// `auto`: a Kokoro voice when a Kokoro pack for the voice's language is installed, else the Piper voice
        /// when its pack is installed and speaks the language, else espeak-ng.
        public enum Engine: String, Sendable, Codable, CaseIterable { case auto, espeak, piper, kokoro }
        public var engine: Engine
        /// espeak-ng voice name (e.g. `en-us`); ignored by model voices.
        public var voice: String
        public var pack: String?
        /// Speaking speed, 1 = the engine's normal speed.
        public var rate: Double
        /// Pitch factor, 1 = the voice's normal pitch.
        public var pitch: Double
        /// Narration gain before mixing, 1 = unchanged.
        public var volume: Double
        /// Piper's `noise_scale` (variation in the voice) and `noise_w` (variation in phoneme timing); nil =
        /// the pack's defaults. Ignored by espeak.
        public var noiseScale: Double? = nil
        public var noiseW: Double? = nil
        /// Kokoro's voice (style) in the pack, e.g. `jf_alpha`; nil = the pack's first voice for the language.
        public var speaker: String? = nil

        /// A manifest's default voice: `auto` (Piper's joe-medium when installed, else espeak-ng `en-us`).
        public init(engine: Engine = .auto, voice: String = "en-us", pack: String? = "joe-medium", rate: Double = 1, pitch: Double = 1, volume: Double = 1) {
            self.engine = engine; self.voice = voice; self.pack = pack; self.rate = rate; self.pitch = pitch; self.volume = volume
        }

        enum CodingKeys: String, CodingKey {
            case engine, voice, pack, rate, pitch, volume, speaker, noiseScale = "noise_scale", noiseW = "noise_w"
        }
    }

    public struct Visuals: Sendable, Equatable, Codable {
        public enum Engine: String, Sendable, Codable, CaseIterable { case procedural, diffusion, library, explainer }
        public var engine: Engine
        public var style: Style
        public var pack: String?
        public var steps: Int?
        public var guidance: Double?
        public var seed: UInt64?
        /// How a scene image fills the frame; nil: `cover` when its aspect is within 15% of the frame's, else `blur`.
        public var fit: Fit? = nil
        /// The motif of a scene without a picture; nil: chosen by the job's seed.
        public var look: Look? = nil
        /// The move over a scene image; nil: a zoom in or out with a drift, chosen per scene by the seed.
        public var motion: Motion? = nil
        /// Engine `library`: the folder of the user's pictures and clips (absolute), and the lowest similarity
        /// a match may have before the scene falls back to procedural (nil: the engine's default).
        public var folder: String? = nil
        public var minScore: Double? = nil

        enum CodingKeys: String, CodingKey {
            case engine, style, pack, steps, guidance, seed, fit, look, motion, folder, minScore = "min_score"
        }
    }

    public enum Motion: String, Sendable, Codable, CaseIterable {
        case none, zoomIn = "zoom_in", zoomOut = "zoom_out", panLeft = "pan_left", panRight = "pan_right"
    }

    public enum Look: String, Sendable, Codable, CaseIterable {
        case gradient, bokeh, shapes, flow
    }

    public enum Fit: String, Sendable, Codable, CaseIterable {
        case cover, contain, blur
    }

    public enum Style: String, Sendable, Codable, CaseIterable {
        case soft, vivid, dark, mono
    }

    public struct Music: Sendable, Equatable, Codable {
        public enum Engine: String, Sendable, Codable, CaseIterable { case procedural, file, musicgen, none }
        public var engine: Engine
        public var mood: Mood
        public var prompt: String?
        /// Bed level under the narration, 0...1.
        public var volume: Double
        /// Absolute path of the user's audio file (engine `file`).
        public var file: String?
        public var pack: String?
        /// Engine musicgen: the sampling seed (default: the job's seed), classifier-free guidance and temperature
        /// (default: the pack's; temperature 0 is greedy).
        public var seed: UInt64? = nil
        public var guidance: Double? = nil
        public var temperature: Double? = nil
        /// The job's title, copied here by the loader (not a field of `music`): a model engine with no prompt
        /// makes one from the mood and the title.
        public var title: String? = nil
    }

    public enum Mood: String, Sendable, Codable, CaseIterable {
        case calm, uplifting, dramatic, mysterious, playful, melancholy
    }

    public struct Captions: Sendable, Equatable, Codable {
        public enum Mode: String, Sendable, Codable, CaseIterable { case burn, embed, sidecar, off }
        public enum Position: String, Sendable, Codable, CaseIterable { case bottom, middle, top }
        public enum Highlight: String, Sendable, Codable, CaseIterable { case none, word }
        public struct Box: Sendable, Equatable, Codable {
            /// `#RRGGBB`.
            public var color: String
            /// 0 (clear) ... 1 (opaque).
            public var opacity: Double
        }
        public var mode: Mode
        /// Font size in pixels at the output height.
        public var size: Int
        public var position: Position
        /// Font family, as fontconfig names it; glyphs it lacks (CJK, Arabic) come from fallback fonts.
        public var font: String = Captions.defaultFont
        public static let defaultFont = "DejaVu Sans"
        /// `#RRGGBB` of the text.
        public var color: String = "#FFFFFF"
        /// Outline width in pixels (0: none); nil: a width that follows the size.
        public var outline: Double? = nil
        /// A background box behind each line instead of an outline.
        public var box: Box? = nil
        public var maxLines: Int = 2
        /// `word`: the word being spoken is coloured `highlightColor` (the short-form look).
        public var highlight: Highlight = .none
        public var highlightColor: String = "#FFD400"

        enum CodingKeys: String, CodingKey {
            case mode, size, position, font, color, outline, box, highlight
            case maxLines = "max_lines", highlightColor = "highlight_color"
        }
    }

    public struct Transitions: Sendable, Equatable, Codable {
        public enum Kind: String, Sendable, Codable, CaseIterable { case cut, crossfade }
        public var kind: Kind
        public var duration: Double
    }

    public struct Scene: Sendable, Equatable, Codable {
        public var narration: String
        public var prompt: String?
        /// Absolute path of the scene image, inside the manifest's folder.
        public var image: String?
        /// Extra seconds of picture after the narration.
        public var pause: Double
        /// A scene may override the job's visuals.
        public var visuals: Visuals
        /// A scene may override the job's voice (dialogue, a second narrator, another language).
        public var voice: Voice
        /// Where a `cover` crop of the image centres: x and y, 0...1.
        public var focus: [Double]? = nil
        /// Shown as a lower third while the scene plays (a Markdown `##` heading).
        public var heading: String? = nil
        /// The user's footage for this scene (absolute path, inside the manifest's folder), instead of an image.
        public var video: String? = nil
        /// Seconds into the clip where the scene starts.
        public var start: Double = 0
        /// A clip shorter than the scene loops (`loop`) or holds its last frame (`hold`).
        public var fill: Fill = .loop
        /// The clip's own sound under the narration, 0 (muted) ... 1.
        public var clipVolume: Double = 0
        /// A sound effect made by a model engine, mixed under the narration.
        public var sfx: SoundEffect? = nil
        /// Where the voice stops and for how long: `[pause 0.8s]` marks (blanked in `narration`) and paragraph ends.
        public var pauses: [Pause] = []
        /// The producer's own recording of `narration` (absolute path, inside the manifest's folder): spoken instead
        /// of a voice, its words placed by aligning it with the voice's rendering of the same text.
        public var narrationAudio: String? = nil

        public struct Pause: Sendable, Equatable, Codable {
            /// Unicode scalars into `narration`.
            public var offset: Int
            public var seconds: Double
        }

        public enum Fill: String, Sendable, Codable, CaseIterable { case loop, hold }

        enum CodingKeys: String, CodingKey {
            case narration, prompt, image, pause, visuals, voice, focus, heading, video, start, fill, sfx, pauses
            case clipVolume = "clip_volume", narrationAudio = "narration_audio"
        }
    }

    /// `sfx: {prompt, at, duration, pack, volume}`: `at` seconds after the scene starts, `duration` seconds long.
    public struct SoundEffect: Sendable, Equatable, Codable {
        public var prompt: String
        public var at: Double
        public var duration: Double
        /// A music-kind pack (MusicGen architecture; AudioGen-style for effects); default: music.pack.
        public var pack: String
        /// Level in the final mix, 0...2 (the narration is 1).
        public var volume: Double
        public init(prompt: String, at: Double = 0, duration: Double = 2, pack: String, volume: Double = 0.5) {
            self.prompt = prompt; self.at = at; self.duration = duration; self.pack = pack; self.volume = volume
        }
    }
}

/// Limits that keep a typo from asking for a 100,000-pixel video.
public enum ManifestLimits {
    public static let dimension = 64...3840
    public static let fps = 1...60
    /// A rendition's loudness target, LUFS: -30 is quieter than any broadcast norm, -9 louder than any platform wants.
    public static let renditionLoudness = -30.0 ... -9.0
    public static let scenes = 1...500
    public static let narrationCharacters = 1...5000
    public static let pause = 0.0...30.0
    public static let rate = 0.5...2.0
    public static let pitch = 0.5...2.0
    public static let voiceVolume = 0.0...2.0
    public static let musicVolume = 0.0...1.0
    public static let sfxAt = 0.0...3600.0
    public static let sfxDuration = 0.1...30.0
    public static let sfxVolume = 0.0...2.0
    public static let musicGuidance = 0.0...20.0
    public static let musicTemperature = 0.0...5.0
    public static let captionSize = 8...200
    public static let captionOutline = 0.0...20.0
    public static let captionLines = 1...3
    public static let opacity = 0.0...1.0
    public static let transition = 0.0...3.0
    public static let steps = 1...200
    public static let guidance = 0.0...30.0
    public static let noise = 0.0...2.0
    public static let version = 1...1
    /// 2^53 - 1: every seed survives a trip through a JSON number (a double) unchanged.
    public static let seed = 0...9_007_199_254_740_991
    public static let minScore = -1.0...1.0
    public static let focus = 0.0...1.0
    public static let clipStart = 0.0...86_400.0
    public static let clipVolume = 0.0...1.0
    public static let posterTime = 0.0...86_400.0
    /// The queue's priorities (the journal's `QueueOrder.priorityRange`, the API's and `jobs priority`'s).
    public static let priority = -100...100

    /// A manifest file larger than this is refused from its size, before a byte is read (a 1 GB sparse `big.yaml`
    /// once took the supervisor to 2.15 GB). 500 scenes of 5,000 characters are about 2.5 MB.
    public static let fileBytes = 4 << 20
    /// At most this many problems are listed; the rest are counted in one summary entry (190,000 unknown keys once
    /// made a 40 MB job error, journal row and sidecar).
    public static let listedProblems = 50

    /// A numeric field and its range, as errors name it (`scenes[].` for a scene's own field; a scene's `voice` and
    /// `visuals` are checked as the job's). The schema and the README's table are tested against this list.
    public struct Numeric: Sendable {
        public let field: String
        public let lower: Double
        public let upper: Double
        public let integer: Bool
        static func int(_ field: String, _ r: ClosedRange<Int>) -> Numeric { Numeric(field: field, lower: Double(r.lowerBound), upper: Double(r.upperBound), integer: true) }
        static func number(_ field: String, _ r: ClosedRange<Double>) -> Numeric { Numeric(field: field, lower: r.lowerBound, upper: r.upperBound, integer: false) }
    }

    public static let numeric: [Numeric] = [
        .int("version", version), .int("seed", seed), .int("priority", priority),
        .int("output.width", dimension), .int("output.height", dimension), .int("output.fps", fps),
        .number("voice.rate", rate), .number("voice.pitch", pitch), .number("voice.volume", voiceVolume),
        .number("voice.noise_scale", noise), .number("voice.noise_w", noise),
        .int("visuals.steps", steps), .number("visuals.guidance", guidance), .int("visuals.seed", seed), .number("visuals.min_score", minScore),
        .number("music.volume", musicVolume), .int("music.seed", seed), .number("music.guidance", musicGuidance),
        .number("music.temperature", musicTemperature),
        .int("captions.size", captionSize), .number("captions.outline", captionOutline), .int("captions.max_lines", captionLines),
        .number("captions.box.opacity", opacity),
        .number("transitions.duration", transition),
        .number("poster.time", posterTime),
        .int("outputs[].width", dimension), .int("outputs[].height", dimension), .number("outputs[].loudness", renditionLoudness),
        .number("scenes[].pause", pause), .number("scenes[].focus[]", focus), .number("scenes[].start", clipStart),
        .number("scenes[].clip_volume", clipVolume),
        .number("scenes[].sfx.at", sfxAt), .number("scenes[].sfx.duration", sfxDuration), .number("scenes[].sfx.volume", sfxVolume),
    ]
}
