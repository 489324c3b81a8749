import Foundation

/// The status file beside each output (`NAME.json`): what a person or a script reads to learn how a job went.
/// Its fields are the contract written down in Docs/contract.md; the daemon writes it as a projection of the
/// journal row (`Sidecar.projection`), `prostudio render` from the pipeline's own record.
public struct Sidecar: Codable, Sendable, Hashable {
    public enum State: String, Codable, Sendable, CaseIterable { case queued, running, done, failed, rejected, cancelled }

    public struct Outputs: Codable, Sendable, Hashable {
        public var video: String?
        public var captions: String?
        public var poster: String?
        /// The same cues as WebVTT, for web players.
        public var webvtt: String?
        public init(video: String? = nil, captions: String? = nil, poster: String? = nil, webvtt: String? = nil) {
            self.video = video; self.captions = captions; self.poster = poster; self.webvtt = webvtt
        }
        public var isEmpty: Bool { video == nil && captions == nil && poster == nil && webvtt == nil }
    }

    /// How the captions came out: cue count, the layout limits they were set to, and how many cues ask for
    /// more than 20 characters a second of reading.
    public struct CaptionStats: Codable, Sendable, Hashable {
        public var cues: Int
        public var max_characters_per_line: Int
        public var max_lines: Int
        public var fast_cues: Int
        public init(cues: Int, max_characters_per_line: Int, max_lines: Int, fast_cues: Int) {
            self.cues = cues; self.max_characters_per_line = max_characters_per_line; self.max_lines = max_lines; self.fast_cues = fast_cues
        }
    }

    public struct StageRecord: Codable, Sendable, Hashable {
        public var engine: String
        public var seconds: Double
        /// CPU time of all the process's threads during the stage (user + system).
        public var cpu_seconds: Double?
        public var peak_memory_bytes: Int64
        public var cached: Bool
        /// Model components this stage used (load time, peak memory), when it ran a model engine.
        public var models: [ModelUse]?
        public init(engine: String, seconds: Double, cpu_seconds: Double? = nil, peak_memory_bytes: Int64, cached: Bool, models: [ModelUse]? = nil) {
            self.engine = engine; self.seconds = seconds; self.cpu_seconds = cpu_seconds
            self.peak_memory_bytes = peak_memory_bytes; self.cached = cached; self.models = models
        }
    }

    /// Where each scene sits in the video, in seconds.
    public struct SceneTiming: Codable, Sendable, Hashable {
        public var start_s: Double
        public var duration_s: Double
        public var narration_start_s: Double
        public var narration_end_s: Double
        /// The picture or clip the `library` engine chose (or why it fell back).
        public var media: SceneMedia? = nil
        public init(start_s: Double, duration_s: Double, narration_start_s: Double, narration_end_s: Double, media: SceneMedia? = nil) {
            self.start_s = start_s; self.duration_s = duration_s; self.narration_start_s = narration_start_s
            self.narration_end_s = narration_end_s; self.media = media
        }
    }

    /// A chapter of the video (a scene with a heading, or every scene by `chapters: scenes`): where it starts and
    /// its title, with `time` written as YouTube reads chapter lines in a description (`1:05`, `1:02:03`).
    public struct Chapter: Codable, Sendable, Hashable {
        public var start_s: Double
        public var time: String
        public var title: String
        public init(start_s: Double, title: String) {
            self.start_s = start_s; self.title = title
            let s = Int(start_s.rounded(.down))
            time = s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
        }
    }

    /// The published file opened again and checked before it was published (`quality` in the sidecar). `status`:
    /// `passed`, `failed` (the job failed with `quality.<check>`), or `flagged` (a check failed, the manifest said
    /// `quality: {on_fail: flag}`, and the job was published all the same).
    /// One rendition as published: `NAME.<name>.mp4` beside `NAME.mp4`.
    public struct Rendition: Codable, Sendable, Hashable {
        public var name: String
        public var file: String
        public var width: Int
        public var height: Int
        public var fps: Int
        public var codec: String
        public var bytes: Int64
        public var duration_s: Double
        /// The loudness the mix was brought to (LUFS).
        public var loudness_target: Double
        public var quality: Quality?
        public init(name: String, file: String, width: Int, height: Int, fps: Int, codec: String, bytes: Int64, duration_s: Double,
                    loudness_target: Double, quality: Quality? = nil) {
            self.name = name; self.file = file; self.width = width; self.height = height; self.fps = fps; self.codec = codec
            self.bytes = bytes; self.duration_s = duration_s; self.loudness_target = loudness_target; self.quality = quality
        }
    }

    public struct Quality: Codable, Sendable, Hashable {
        public var status: String
        public var on_fail: String
        /// The file checked (the rendition's name in the outbox).
        public var file: String
        public var checks: [QualityCheck]
        /// Time the checks took.
        public var seconds: Double
        public init(status: String, on_fail: String, file: String, checks: [QualityCheck], seconds: Double) {
            self.status = status; self.on_fail = on_fail; self.file = file; self.checks = checks; self.seconds = seconds
        }
    }

    /// One check: what was measured (`value`, in `unit`) against what is allowed (`limit`; `detail` says which way),
    /// and where in the video the first fault is (`at_s`).
    public struct QualityCheck: Codable, Sendable, Hashable {
        public var name: String
        public var passed: Bool
        public var value: Double?
        public var limit: Double?
        public var unit: String?
        public var at_s: Double?
        public var detail: String
        public init(name: String, passed: Bool, value: Double? = nil, limit: Double? = nil, unit: String? = nil, at_s: Double? = nil, detail: String) {
            self.name = name; self.passed = passed; self.value = value; self.limit = limit; self.unit = unit; self.at_s = at_s; self.detail = detail
        }
    }

    public struct ErrorInfo: Codable, Sendable, Hashable {
        public var code: String
        public var message: String
        public var field: String?
        /// The stage that failed, when one did.
        public var stage: String?
        /// `JobFailure.Disposition`: `invalid_input` (rejected), `retryable`, `permanent` or `cancelled`; absent in
        /// sidecars written before it existed.
        public var disposition: String?
        public init(code: String, message: String, field: String?, stage: String? = nil, disposition: String? = nil) {
            self.code = code; self.message = message; self.field = field; self.stage = stage; self.disposition = disposition
        }
    }

    public var name: String
    public var job_id: String
    public var state: State
    public var stage: String?
    public var progress: Double
    public var title: String?
    public var duration_s: Double?
    public var seed: UInt64?
    public var width: Int?
    public var height: Int?
    public var fps: Int?
    public var outputs: Outputs
    public var scenes: [SceneTiming]?
    public var stages: [String: StageRecord]
    /// Engine name -> identity (version, pack hash) for every engine the job used.
    public var engines: [String: String]
    public var captions: CaptionStats?
    /// The video's chapters, also written into the MP4 (ready to paste as `time title` lines).
    public var chapters: [Chapter]?
    /// Which voice the job's narration was given and why (`voice fr: the script reads as French`).
    public var voice_choice: String?
    /// The quality gate's checks of the published video.
    public var quality: Quality?
    /// More files of the same video (`outputs:` in the manifest), each checked by the gate on its own.
    public var renditions: [Rendition]?
    /// Problems that did not stop the job but will show (a voice that cannot read a scene's script).
    public var warnings: [String]?
    /// Each model the job used and whether a warm worker had it resident already (`ModelLoad`).
    public var models: [ModelLoad]?
    public var error: ErrorInfo?
    public var created_at: String
    public var updated_at: String

    public init(name: String, jobID: String, state: State) {
        self.name = name
        self.job_id = jobID
        self.state = state
        self.progress = 0
        self.outputs = Outputs()
        self.stages = [:]
        self.engines = [:]
        let now = Timestamp.format()
        created_at = now
        updated_at = now
    }

    public static func timestamp(_ date: Date = Date()) -> String { Timestamp.format(date) }

    /// The one encoding of a sidecar: pretty, keys sorted (a stable order a diff or a test can rely on), slashes
    /// left alone.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// Writes it as it is (timestamps included) to `url`, atomically.
    public func write(at url: URL) throws {
        try AtomicFile.write(try encoded(), to: url)
    }

    /// Replaces `DIR/NAME.json` atomically, `updated_at` set to now (`prostudio render`, which has no journal).
    public func write(to directory: URL) throws {
        var copy = self
        copy.updated_at = Timestamp.format()
        try copy.write(at: directory.appendingPathComponent(name + ".json"))
    }

    public static func read(_ url: URL) throws -> Sidecar {
        try JSONDecoder().decode(Sidecar.self, from: Data(contentsOf: url))
    }

    /// Whose sidecar is at `url` (its `job_id`): which job owns a NAME's files now. Reads no other field.
    public static func owner(_ url: URL) -> String? {
        struct Owner: Decodable { var job_id: String }
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        return (try? JSONDecoder().decode(Owner.self, from: data))?.job_id
    }
}

/// A model component's uses within one stage, summed: how often it was loaded and called, the time that
/// took and the highest memory seen. The sidecar lists one per component.
public struct ModelUse: Sendable, Codable, Hashable {
    public var pack: String
    public var component: String
    public var device: String
    public var loads: Int
    public var uses: Int
    public var load_seconds: Double
    public var use_seconds: Double
    public var peak_memory_bytes: Int64
    /// Peak process RSS while the component was loaded and used (every device).
    public var peak_rss_bytes: Int64?
    /// Peak of the CUDA caching allocator while the component was loaded and used (CUDA only).
    public var peak_gpu_bytes: Int64?
    public init(pack: String, component: String, device: String, loads: Int, uses: Int, loadSeconds: Double, useSeconds: Double,
                peakMemoryBytes: Int64, peakRSSBytes: Int64? = nil, peakGPUBytes: Int64? = nil) {
        self.pack = pack; self.component = component; self.device = device; self.loads = loads; self.uses = uses
        load_seconds = loadSeconds; use_seconds = useSeconds; peak_memory_bytes = peakMemoryBytes
        peak_rss_bytes = peakRSSBytes; peak_gpu_bytes = peakGPUBytes
    }
}

/// What a scene shows when an engine picked it from the user's media: the file, the description it was matched
/// by and its score; `file` nil when the scene fell back (then `score` is the best there was).
public struct SceneMedia: Sendable, Codable, Hashable {
    public var engine: String
    public var file: String?
    public var description: String?
    public var score: Double?
    public var note: String?
    public init(engine: String, file: String?, description: String?, score: Double?, note: String? = nil) {
        self.engine = engine; self.file = file; self.description = description; self.score = score; self.note = note
    }
}
