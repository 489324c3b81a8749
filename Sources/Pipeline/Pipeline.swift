// Re-exported: `Sidecar` and the worker's messages are what a pipeline run produces, for every caller.
@_exported import Contract
import Captions
import Failures
import Engines
import Foundation
import Logging
import Manifest
import Media
import Normaliser

/// The stages in order; names appear in the sidecar, the journal and the logs.
public enum Stage: String, CaseIterable, Sendable {
    case plan, speech, visuals, music, compose, publish
}

/// Share of the job's progress bar each stage takes, from the engines the job uses. Compose dominates on the
/// embedded engines; a neural voice makes speech about as long as compose, and a video model's denoising makes
/// visuals about twice compose (which then also runs its decoder): the stage times of `inbox.example/neural.yaml`
/// and `diffusion.yaml` here. Real weights on a GPU will shift these; the bar only has to move steadily.
struct StageWeights: Sendable {
    private let shares: [Stage: Double]

    static let embedded = StageWeights(speech: 13, visuals: 2)

    init(for manifest: JobManifest, engines: EngineSet) {
        let diffusion = manifest.scenes.contains { $0.visuals.engine == .diffusion }
        let neural = manifest.scenes.contains { [.piper, .kokoro].contains(engines.resolve($0.voice).engine) }
        self.init(speech: neural ? 75 : 13, visuals: diffusion ? 165 : 2)
    }

    private init(speech: Double, visuals: Double) {
        let raw: [Stage: Double] = [.plan: 2, .speech: speech, .visuals: visuals, .music: 5, .compose: 75, .publish: 3]
        let sum = raw.values.reduce(0, +)
        shares = raw.mapValues { $0 / sum }
    }

    func share(_ stage: Stage) -> Double { shares[stage] ?? 0 }

    /// Progress of the whole job when `stage` is `fraction` done.
    func overall(_ stage: Stage, _ fraction: Double) -> Double {
        var total = 0.0
        for s in Stage.allCases {
            if s == stage { return min(1, total + share(s) * fraction) }
            total += share(s)
        }
        return min(1, total)
    }
}

/// What the pipeline reports as it goes.
public struct ProgressEvent: Sendable {
    public var stage: Stage
    /// Progress within the stage, 0...1.
    public var fraction: Double
    /// Progress of the whole job, 0...1.
    public var overall: Double
    public var finished: Bool
}

public struct PipelineOptions: Sendable {
    public var outbox: URL
    public var cache: URL
    public var models: URL?
    /// Site-wide manifest defaults (the daemon config's `defaults:`).
    public var defaults: ManifestDefaults?
    /// Told of every stage-cache entry written or reused.
    public var cacheObserver: (@Sendable (StageCache.Event) -> Void)?
    /// When set, the job reports what happens here, as the worker's typed messages (stage started and ended with its
    /// record, seed, warnings, details, outputs), instead of writing a sidecar: a daemon worker sends them to its
    /// supervisor, which journals them and writes the sidecar from the journal (Docs/contract.md).
    public var reporter: (@Sendable (WorkerMessage) -> Void)?
    /// The folder that holds the job's work folder; nil: the outbox (`prostudio render`). The daemon's is in its state
    /// folder, so a full outbox is found at publish (retryable) and a render never fills the outbox half-way.
    public var work: URL?
    public init(outbox: URL, cache: URL, models: URL? = nil, defaults: ManifestDefaults? = nil,
                cacheObserver: (@Sendable (StageCache.Event) -> Void)? = nil, reporter: (@Sendable (WorkerMessage) -> Void)? = nil) {
        self.outbox = outbox; self.cache = cache; self.models = models; self.defaults = defaults
        self.cacheObserver = cacheObserver; self.reporter = reporter
    }
}

/// Runs one job: manifest in, MP4 + SRT + poster + sidecar out. Blocking work runs on its own thread,
/// never on the cooperative pool.
public struct Pipeline: Sendable {
    public let options: PipelineOptions
    public let engines: EngineSet
    public let logger: Logger

    public init(options: PipelineOptions, engines: EngineSet = .embedded, logger: Logger = Logger(label: "prostudio.pipeline")) {
        self.options = options
        self.engines = engines
        self.logger = logger
        MediaLog.quiet()
    }

    /// Validates without rendering.
    /// `displayName` is how errors name the manifest (the daemon passes where the user dropped it).
    /// `models`: the packs folder, when given the model packs the manifest names must be installed there (`PackCheck`).
    public static func validate(manifestPath: String, displayName: String? = nil, defaults: ManifestDefaults? = nil,
                                models: String? = nil) throws(PipelineError) -> JobManifest {
        let manifest: JobManifest
        do { manifest = try ManifestLoader.load(path: manifestPath, displayName: displayName, defaults: defaults) } catch { throw PipelineError(error) }
        try VoiceCheck.validate(manifest, file: displayName ?? manifestPath)
        try AssetCheck.validate(manifest, file: displayName ?? manifestPath)
        try TextCheck.validate(manifest, file: displayName ?? manifestPath)
        if let models {
            let missing = PackCheck.problems(in: manifest, models: models, file: displayName ?? manifestPath)
            if !missing.isEmpty { throw PipelineError(ManifestErrors(errors: missing)) }
        }
        return manifest
    }

    /// What the manifest asks for that will not look or sound right, one line per problem, naming the scene.
    public static func warnings(for manifest: JobManifest) -> [String] {
        VoiceCheck.warnings(manifest) + AssetCheck.warnings(manifest) + TextCheck.warnings(manifest) + [CaptionLook.fontWarning(manifest)].compactMap { $0 }
    }

    public func run(manifestPath: String, jobID: String, name: String? = nil, displayName: String? = nil,
                    progress: @escaping @Sendable (ProgressEvent) -> Void = { _ in },
                    isCancelled: @escaping @Sendable () -> Bool = { false }) async throws(PipelineError) -> Sidecar {
        let result: Result<Sidecar, PipelineError> = await withCheckedContinuation { continuation in
            let thread = Thread {
                let job = JobRun(pipeline: self, manifestPath: manifestPath, displayName: displayName, jobID: jobID, name: name,
                                 progress: progress, isCancelled: isCancelled)
                continuation.resume(returning: job.run())
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        return try result.get()
    }
}

/// One job's state while it runs.
final class JobRun {
    let pipeline: Pipeline
    let manifestPath: String
    let displayName: String?
    let jobID: String
    let progress: @Sendable (ProgressEvent) -> Void
    let isCancelled: @Sendable () -> Bool
    var sidecar: Sidecar
    var logger: Logger
    let cache: StageCache
    let work: URL
    /// Files outside `work` this job made and removes when it ends.
    var scratch: [URL] = []

    init(pipeline: Pipeline, manifestPath: String, displayName: String?, jobID: String, name: String?, progress: @escaping @Sendable (ProgressEvent) -> Void, isCancelled: @escaping @Sendable () -> Bool) {
        self.pipeline = pipeline
        self.manifestPath = manifestPath
        self.displayName = displayName
        self.jobID = jobID
        self.progress = progress
        self.isCancelled = isCancelled
        sidecar = Sidecar(name: name ?? ManifestLoader.jobName(forPath: manifestPath), jobID: jobID, state: .running)
        logger = pipeline.logger
        logger[metadataKey: "job_id"] = "\(jobID)"
        cache = StageCache(root: pipeline.options.cache, observer: pipeline.options.cacheObserver)
        work = (pipeline.options.work ?? pipeline.options.outbox).appendingPathComponent(".prostudio-work-\(jobID)")
    }

    func run() -> Result<Sidecar, PipelineError> {
        defer {
            try? FileManager.default.removeItem(at: work)
            for url in scratch { try? FileManager.default.removeItem(at: url) }
        }
        do {
            try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        } catch {
            return fail(.io("io.outbox", "cannot write to the output folder \(pipeline.options.outbox.path): \(error.localizedDescription)"))
        }
        do {
            let manifest = try stage(.plan) { () throws(PipelineError) -> JobManifest in
                let m = try Pipeline.validate(manifestPath: manifestPath, displayName: displayName, defaults: pipeline.options.defaults,
                                          models: pipeline.options.models?.path)
                // `auto` passed the loader's script check as if Kokoro reads it; now the engine is known.
                let unreadable = ScriptFit.problems(in: pipeline.engines.resolvingVoices(m), file: displayName ?? manifestPath)
                if !unreadable.isEmpty { throw PipelineError(ManifestErrors(errors: unreadable)) }
                return m
            }
            sidecar.warnings = Pipeline.warnings(for: pipeline.engines.resolvingVoices(manifest))
            for w in sidecar.warnings ?? [] { logger.warning("\(w)", metadata: ["stage": "plan"]) }
            if sidecar.warnings?.isEmpty == true { sidecar.warnings = nil }
            sidecar.name = sidecar.name.isEmpty ? manifest.name : sidecar.name
            sidecar.title = manifest.title
            sidecar.seed = manifest.seed
            sidecar.width = manifest.output.width
            sidecar.height = manifest.output.height
            sidecar.fps = manifest.output.fps
            // Which voice and why: the language detection's words for a plain script, else the manifest's (and the
            // site defaults') own setting. The engines that spoke are in `engines.speech`.
            sidecar.voice_choice = manifest.voiceChoice
                ?? "voice \(manifest.voice.voice) (engine \(manifest.voice.engine.rawValue)): as the manifest and the defaults set it"
            if manifest.voice.engine == .auto {
                let spoken = pipeline.engines.resolve(manifest.voice)
                let why = switch spoken.engine {
                case .kokoro: "a Kokoro pack with a \(spoken.voice) voice is installed"
                case .piper: "no Kokoro voice for \(spoken.voice) is installed; the Piper pack speaks it"
                default: "no neural voice pack for \(spoken.voice) is installed (`prostudio models install --list`)"
                }
                sidecar.voice_choice = (sidecar.voice_choice ?? "") + "; engine auto chose \(spoken.engine.rawValue)"
                    + (spoken.engine == .espeak ? "" : " (pack \(spoken.pack ?? "-"))") + ": \(why)"
            }
            report(.seed(manifest.seed))
            if let warnings = sidecar.warnings { report(.warnings(warnings)) }
            weights = StageWeights(for: manifest, engines: pipeline.engines)
            record(.plan, engine: "manifest-v1", cached: false)
            try render(manifest)
            sidecar.state = .done
            sidecar.stage = nil
            sidecar.progress = 1
            writeSidecar()
            report(.outputs(sidecar.outputs))
            return .success(sidecar)
        } catch {
            return fail(error)
        }
    }

    private func fail(_ error: PipelineError) -> Result<Sidecar, PipelineError> {
        var e = error
        if e.stage == nil { e.stage = sidecar.stage }
        sidecar.state = switch e.disposition {
        case .cancelled: .cancelled
        case .invalidInput: .rejected
        case .retryable, .permanent: .failed
        }
        sidecar.error = e.sidecarError
        // Logged for the record only (info): the caller reports the error itself, `render` on stderr, the daemon in the
        // journal and its own log; at error level `render` printed every failure twice.
        let level: Logger.Level = .info
        let what = sidecar.state == .cancelled ? "job stopped at a checkpoint" : (sidecar.state == .rejected ? "job rejected" : "job failed")
        logger.log(level: level, "\(what)", metadata: ["stage": "\(e.stage ?? "-")", "code": "\(e.code)", "error": "\(e.message)"])
        writeSidecar()
        return .failure(e)
    }

    // MARK: stages

    private var weights = StageWeights.embedded
    private var reportedDetails = JobDetails()

    func report(_ message: WorkerMessage) { pipeline.options.reporter?(message) }
    private var stageStarted = Date()
    private var stageCPU = 0.0
    private var stageEngine: [Stage: String] = [:]

    private func stage<T>(_ s: Stage, _ body: () throws(PipelineError) -> T) throws(PipelineError) -> T {
        if isCancelled() { throw PipelineError.cancelled }
        sidecar.stage = s.rawValue
        sidecar.progress = overall(s, 0)
        writeSidecar()
        report(.stageStarted(stage: s.rawValue))
        progress(ProgressEvent(stage: s, fraction: 0, overall: overall(s, 0), finished: false))
        logger.debug("stage started", metadata: ["stage": "\(s.rawValue)"])
        ResourceUsage.resetPeak()
        stageStarted = Date()
        stageCPU = ResourceUsage.cpuSeconds()
        let value = try body()
        return value
    }

    private func record(_ s: Stage, engine: String, cached: Bool) {
        let seconds = Date().timeIntervalSince(stageStarted)
        let cpu = ResourceUsage.cpuSeconds() - stageCPU
        let models = pipeline.engines.drainModelUses?() ?? []
        let stageRecord = Sidecar.StageRecord(engine: engine, seconds: (seconds * 1000).rounded() / 1000, cpu_seconds: (cpu * 1000).rounded() / 1000,
                                              peak_memory_bytes: ResourceUsage.peakBytes(), cached: cached, models: models.isEmpty ? nil : models)
        sidecar.stages[s.rawValue] = stageRecord
        report(.stageEnded(stage: s.rawValue, record: stageRecord))
        progress(ProgressEvent(stage: s, fraction: 1, overall: overall(s, 1), finished: true))
        logger.info("stage done", metadata: ["stage": "\(s.rawValue)", "seconds": "\(String(format: "%.3f", seconds))", "cached": "\(cached)"])
    }

    private func overall(_ s: Stage, _ fraction: Double) -> Double { weights.overall(s, fraction) }

    /// The sidecar as it stands: written to the outbox (`render`), or, for a daemon's worker, the details that changed
    /// since the last report (stage, progress and records go as their own messages).
    func writeSidecar() {
        if pipeline.options.reporter != nil {
            let details = JobDetails(of: sidecar)
            if details != reportedDetails {
                reportedDetails = details
                report(.details(details))
            }
            return
        }
        do { try sidecar.write(to: pipeline.options.outbox) } catch {
            logger.warning("cannot write sidecar", metadata: ["error": "\(error)"])
        }
    }

    // MARK: the render

    private func render(_ manifest: JobManifest) throws(PipelineError) {
        let sampleRate = EncoderSettings.audioSampleRate

        // Speech: one narration per scene, in the scene's voice, cached by text + voice + engine. Each goes to
        // disk as it is spoken (a long one a few sentences at a time); compose reads it back when it mixes the scene.
        var voiceNames: [String] = []
        let spoken = try stage(.speech) { () throws(PipelineError) -> [SpokenScene] in
            var result: [SpokenScene] = []
            var hits = 0
            for (i, scene) in manifest.scenes.enumerated() {
                if isCancelled() { throw PipelineError.cancelled }
                let voice = pipeline.engines.resolve(scene.voice)
                let speech: any SpeechEngine
                let field = scene.voice == manifest.voice ? "voice.engine" : "scenes[\(i)].voice.engine"
                do { speech = try pipeline.engines.speechEngine(voice.engine, field: field) } catch { throw PipelineError(error, stage: "speech") }
                let identity = speech.identity(for: voice)
                // A recorded scene is heard in the producer's voice; the engine only times its words.
                let name = scene.narrationAudio == nil ? identity.description : "narration_audio (aligned with \(identity.description))"
                if !voiceNames.contains(name) { voiceNames.append(name) }
                let lexicon = manifest.lexicon.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "\u{1F}")
                var parts = ["speech-v3", Normaliser.version, identity.description, scene.narration, "\(voice)",
                             lexicon, "\(scene.pauses.map { "\($0.offset):\($0.seconds)" })"]
                if let file = scene.narrationAudio { parts += ["voiceover-v1", file, Self.fileStamp(file)] }
                let key = StageCache.key(parts)
                if let cached = loadNarration(key) {
                    result.append(cached); hits += 1
                } else {
                    var header = NarrationHeader(sampleRate: 0, words: [])
                    let file = try spoolSamples(stage: "speech", key: key) { (writer: SampleFile.Writer) throws(PipelineError) in
                        if let file = scene.narrationAudio {
                            let n = try Voiceover.speak(scene: scene, recording: file, field: "scenes[\(i)].narration_audio", voice: voice,
                                                        lexicon: manifest.lexicon, engine: speech,
                                                        scratch: work.appendingPathComponent("voiceover-\(key).f32"), into: writer)
                            header = NarrationHeader(sampleRate: n.sampleRate, words: n.words)
                            return
                        }
                        do {
                            let n = try NarrationParts.speak(scene: scene, voice: voice, lexicon: manifest.lexicon, engine: speech, into: writer)
                            header = NarrationHeader(sampleRate: n.sampleRate, words: n.words)
                        } catch { throw PipelineError(error, stage: "speech") }
                    }
                    if let meta = try? JSONEncoder().encode(header) { cache.write(meta, stage: "speech", key: key, ext: "json") }
                    result.append(SpokenScene(sampleRate: header.sampleRate, frames: Self.sampleCount(file), words: header.words, file: file))
                }
                progress(ProgressEvent(stage: .speech, fraction: Double(i + 1) / Double(manifest.scenes.count), overall: overall(.speech, Double(i + 1) / Double(manifest.scenes.count)), finished: false))
            }
            record(.speech, engine: voiceNames.joined(separator: ", "), cached: hits == manifest.scenes.count)
            return result
        }
        sidecar.engines["speech"] = voiceNames.joined(separator: ", ")

        let narrations = spoken.map(\.narration)
        let timeline = Timeline(manifest: manifest, narrationDurations: narrations.map(\.duration))
        sidecar.duration_s = timeline.duration
        sidecar.scenes = timeline.scenes.indices.map { i in
            let start = timeline.start(of: i), scene = timeline.scenes[i]
            return .init(start_s: start, duration_s: Double(scene.frames) / Double(timeline.fps),
                         narration_start_s: start + scene.narrationOffset, narration_end_s: start + scene.narrationOffset + scene.narrationDuration)
        }

        // Visuals: each engine describes its scenes' pictures; compose draws them.
        let pictures = try stage(.visuals) { () throws(PipelineError) -> [ScenePicture] in
            var pictures: [ScenePicture] = []
            var names: [String] = []
            let count = Double(manifest.scenes.count)
            var scenes: [(engine: any VisualsEngine, canvas: SceneCanvas)] = []
            for (i, scene) in manifest.scenes.enumerated() {
                let visuals: any VisualsEngine
                do { visuals = try pipeline.engines.visualsEngine(scene.visuals.engine, field: "scenes[\(i)].visuals.engine") } catch { throw PipelineError(error, stage: "visuals") }
                if !names.contains(visuals.identity.description) { names.append(visuals.identity.description) }
                let overlap = i < manifest.scenes.count - 1 ? timeline.transitionFrames : 0
                var canvas = SceneCanvas(index: i, width: manifest.output.width, height: manifest.output.height, fps: manifest.output.fps,
                                         frames: timeline.scenes[i].frames + overlap, prompt: scene.prompt, image: scene.image,
                                         visuals: scene.visuals, jobSeed: manifest.seed, focus: scene.focus,
                                         narration: scene.narration)
                canvas.video = scene.video
                canvas.videoStart = scene.start
                canvas.videoLoops = scene.fill == .loop
                canvas.spokenWords = narrations[i].words
                canvas.narrationOffset = timeline.scenes[i].narrationOffset
                canvas.narrationDuration = narrations[i].duration
                if i == 0, let end = Self.titleEnd(manifest, timeline) { canvas.titleUntil = end }
                if manifest.captions.mode == .burn { canvas.captions = (CaptionLook.style(for: manifest), manifest.captions.maxLines) }
                scenes.append((visuals, canvas))
            }
            // Each engine first sees all of its scenes (a model engine loads each component once for the job).
            for name in names {
                if isCancelled() { throw PipelineError.cancelled }
                let mine = scenes.filter { $0.engine.identity.description == name }
                mine.first?.engine.prepare(mine.map(\.canvas))
            }
            for (i, (visuals, canvas)) in scenes.enumerated() {
                if isCancelled() { throw PipelineError.cancelled }
                let sidecarProgress = SidecarProgress(job: self)
                let report: @Sendable (Double) -> Void = { [progress, weights] f in
                    let fraction = (Double(i) + min(1, max(0, f))) / count
                    progress(ProgressEvent(stage: .visuals, fraction: fraction, overall: weights.overall(.visuals, fraction), finished: false))
                    sidecarProgress.update(weights.overall(.visuals, fraction))
                }
                do { pictures.append(try visuals.picture(for: canvas, progress: report)) } catch { throw PipelineError(error, stage: "visuals") }
            }
            for (i, (visuals, canvas)) in scenes.enumerated() {
                if let media = visuals.media(for: canvas) { sidecar.scenes?[i].media = media }
            }
            sidecar.engines["visuals"] = names.joined(separator: ", ")
            record(.visuals, engine: names.joined(separator: ", "), cached: false)
            return pictures
        }

        // Music: one bed for the whole job, streamed by the engine to the stage cache (or the work folder) and
        // read back a window at a time when compose mixes it.
        let totalSamples = timeline.totalFrames * sampleRate / timeline.fps
        let bed = try stage(.music) { () throws(PipelineError) -> URL? in
            var engine: (any MusicEngine)?
            if manifest.music.engine != .none {
                do { engine = try pipeline.engines.musicEngine(manifest.music.engine) } catch { throw PipelineError(error, stage: "music") }
            }
            guard let engine else {
                record(.music, engine: "none", cached: false)
                return nil
            }
            // A model engine's identity names its pack's hash: the key changes when the pack does.
            let identity = engine.identity(for: manifest.music)
            sidecar.engines["music"] = identity.description
            let fileStamp = manifest.music.file.map { path in
                let attrs = try? FileManager.default.attributesOfItem(atPath: path)
                return "\(path)|\(attrs?[.size] ?? 0)|\((attrs?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)"
            } ?? ""
            let key = StageCache.key(["music", identity.description, identity.packHash ?? "", "\(manifest.music)", fileStamp, "\(manifest.seed)", "\(totalSamples)"])
            if let file = cache.use(stage: "music", key: key), Self.sampleCount(file) == totalSamples * 2 {
                record(.music, engine: identity.description, cached: true)
                return file
            }
            let file = try spoolSamples(stage: "music", key: key) { (writer: SampleFile.Writer) throws(PipelineError) in
                do {
                    try engine.bed(frames: totalSamples, sampleRate: sampleRate, music: manifest.music, seed: manifest.seed) { writer.write($0) }
                } catch { throw PipelineError(error, stage: "music") }
            }
            record(.music, engine: identity.description, cached: false)
            return file
        }

        // Scenes' sound effects (part of the music stage's work): added after the bed is ducked.
        let effects = try soundEffects(manifest, timeline: timeline, sampleRate: sampleRate, totalSamples: totalSamples)

        // Compose: mix, captions, draw + encode.
        let name = sidecar.name
        let outbox = pipeline.options.outbox
        let rules = CaptionRules(width: manifest.output.width, height: manifest.output.height, fontSize: manifest.captions.size,
                                 maxLines: manifest.captions.maxLines)
        let cues = CaptionLayout.track(manifest.scenes.indices.map { i in
            let start = timeline.start(of: i)
            let end = i + 1 < manifest.scenes.count ? timeline.start(of: i + 1) : timeline.duration
            return SceneCaptions(script: manifest.scenes[i].narration, narration: narrations[i],
                                 offset: start + timeline.scenes[i].narrationOffset, window: start...max(start, end))
        }, rules: rules)
        sidecar.captions = .init(cues: cues.count, max_characters_per_line: rules.maxCharacters, max_lines: rules.maxLines,
                                 fast_cues: CaptionLayout.fastCues(cues, rules: rules))
        let language = CaptionLanguage(voice: manifest.voice.voice)
        let videoTemp = work.appendingPathComponent("video.mp4")
        let posterTemp = work.appendingPathComponent("poster.jpg")
        let srtTemp = work.appendingPathComponent("captions.srt")
        let vttTemp = work.appendingPathComponent("captions.vtt")
        try stage(.compose) { () throws(PipelineError) in
            // The mix, scene by scene a second at a time, spooled to the work folder and measured as it goes; the
            // encoder reads it back through the loudness gain and the limiter. A clip's own sound joins the bed in
            // its scene (so the voice ducks it too), at its clip_volume.
            let bedGain = Float(manifest.music.volume)
            let mixScenes = manifest.scenes.indices.map { i -> SoundtrackMix.Scene in
                let scene = manifest.scenes[i]
                let from = Int(timeline.start(of: i) * Double(sampleRate))
                let to = i + 1 < manifest.scenes.count ? Int(timeline.start(of: i + 1) * Double(sampleRate)) : totalSamples
                let start = Int((timeline.start(of: i) + timeline.scenes[i].narrationOffset) * Double(sampleRate))
                let clip = scene.video.flatMap { path in
                    scene.clipVolume > 0 ? SoundtrackMix.Clip(path: path, first: scene.start, loops: scene.fill == .loop,
                                                              gain: Float(scene.clipVolume) / max(bedGain, 0.05)) : nil
                }
                return SoundtrackMix.Scene(from: from, to: to, voiceStart: start, voice: spoken[i], clip: clip)
            }
            let mix = SoundtrackMix(sampleRate: sampleRate, totalFrames: totalSamples, bed: bed, bedGain: bedGain, scenes: mixScenes, effects: effects)
            let mixFile = work.appendingPathComponent("mix.f32")
            let audio: AudioFeed
            do {
                let started = Date()
                let loudness = try mix.render(to: mixFile)
                logger.debug("soundtrack mixed", metadata: ["stage": "compose", "seconds": "\(String(format: "%.3f", Date().timeIntervalSince(started)))",
                                                            "loudness": "\(String(format: "%.2f", loudness))"])
                audio = AudioMix.normalized(try SampleFile.Reader(url: mixFile), loudness: loudness, sampleRate: sampleRate)
            } catch { throw PipelineError(error, stage: "compose") }

            let last = manifest.scenes.count - 1
            // `poster: {captions: true}`: the poster is the video's own frame, the middle of the first scene unless the
            // manifest says when; the title card runs past it (so it shows the title) or ends just before it
            // (`title: false`). Otherwise `Thumbnail` draws it after the video, and the card keeps its own length.
            let posterTime = Self.posterTime(manifest, timeline)
            var overlays: [TextOverlay] = []
            if let title = manifest.title, let end = Self.titleEnd(manifest, timeline) {
                overlays.append(TextOverlay(text: title, start: 0, end: end, kind: .title))
            }
            for (i, scene) in manifest.scenes.enumerated() {
                guard let heading = scene.heading else { continue }
                let start = timeline.start(of: i), end = i + 1 < manifest.scenes.count ? timeline.start(of: i + 1) : timeline.duration
                overlays.append(TextOverlay(text: heading, start: start + 0.3, end: max(start + 0.3, min(start + 4.5, end - 0.3)), kind: .lowerThird))
            }
            var composition = Composition(
                outputPath: videoTemp.path, width: manifest.output.width, height: manifest.output.height, fps: manifest.output.fps,
                frameCount: timeline.totalFrames,
                scenes: pictures.enumerated().map { i, picture in
                    Composition.Scene(picture: picture, start: timeline.scenes[i].startFrame,
                                      frames: timeline.scenes[i].frames + (i < last ? timeline.transitionFrames : 0))
                },
                crossfadeFrames: timeline.transitionFrames,
                burnedCaptions: manifest.captions.mode == .burn ? cues : [], overlays: overlays, textStyle: CaptionLook.style(for: manifest),
                embeddedCaptions: manifest.captions.mode == .embed ? cues : [], captionLanguage: language.iso639_2,
                audio: [], quality: VideoQuality(rawValue: manifest.output.quality.rawValue) ?? .standard,
                posterFrame: min(timeline.totalFrames - 1, max(0, Int((posterTime * Double(manifest.output.fps)).rounded()))),
                posterPath: manifest.poster.captions ? posterTemp.path : nil)
            composition.audioFeed = audio
            let chapters = ChapterPlan.chapters(manifest, starts: manifest.scenes.indices.map { timeline.start(of: $0) })
            composition.chapters = chapters.map { Chapter(start: $0.start_s, title: $0.title) }
            sidecar.chapters = chapters.isEmpty ? nil : chapters
            logger.debug("video graph", metadata: ["stage": "compose", "graph": "\(Composer.graphText(for: composition))"])
            if let script = Composer.captionScript(for: composition) {
                // Base64 keeps the script on one log line: Benchmarks/render_bench.py burns it with the ffmpeg CLI.
                logger.debug("caption script", metadata: ["stage": "compose", "ass_base64": "\(Data(script.utf8).base64EncodedString())"])
            }
            let settings = composition.quality.encoder
            do {
                _ = try Composer.compose(composition, progress: { [self] f in
                    progress(ProgressEvent(stage: .compose, fraction: f, overall: overall(.compose, f), finished: false))
                }, shouldContinue: { [self] in !isCancelled() })
            } catch {
                if isCancelled() { throw PipelineError.cancelled }
                throw PipelineError(error, stage: "compose")
            }
            if !manifest.poster.captions {
                do {
                    try Thumbnail.render(manifest, pictures: pictures, timeline: timeline, style: CaptionLook.style(for: manifest),
                                         to: posterTemp.path, work: work)
                } catch { throw PipelineError(error, stage: "compose") }
            }
            do {
                try Data(SRT.document(cues: cues).utf8).write(to: srtTemp)
                try Data(WebVTT.document(cues: cues, language: language.bcp47).utf8).write(to: vttTemp)
            } catch {
                throw PipelineError.io("io.work", "cannot write captions: \(error.localizedDescription)", stage: "compose")
            }
            record(.compose, engine: "libx264 \(settings.preset) crf \(settings.crf) + aac", cached: false)
        }

        // Publish: captions and poster first, the video last, each by rename.
        try stage(.publish) { () throws(PipelineError) in
            do {
                if manifest.captions.mode != .off {
                    try AtomicFile.publish(srtTemp, as: outbox.appendingPathComponent(name + ".srt"))
                    sidecar.outputs.captions = name + ".srt"
                    try AtomicFile.publish(vttTemp, as: outbox.appendingPathComponent(name + ".vtt"))
                    sidecar.outputs.webvtt = name + ".vtt"
                }
                try AtomicFile.publish(posterTemp, as: outbox.appendingPathComponent(name + ".jpg"))
                sidecar.outputs.poster = name + ".jpg"
                try AtomicFile.publish(videoTemp, as: outbox.appendingPathComponent(name + ".mp4"))
                sidecar.outputs.video = name + ".mp4"
            } catch {
                throw PipelineError.io("io.publish", "cannot publish outputs to \(outbox.path): \(error.localizedDescription)", stage: "publish")
            }
            record(.publish, engine: "rename", cached: false)
        }
    }

    // MARK: narration cache

    /// Each scene's `sfx` from the musicgen engine (cached like the bed: engine, pack hash, effect, seed, length),
    /// at its volume, placed `at` seconds into its scene: their files, read when compose reaches them.
    private func soundEffects(_ manifest: JobManifest, timeline: Timeline, sampleRate: Int, totalSamples: Int) throws(PipelineError) -> [SoundtrackMix.Effect] {
        guard manifest.scenes.contains(where: { $0.sfx != nil }) else { return [] }
        let engine: any MusicEngine
        do { engine = try pipeline.engines.musicEngine(.musicgen) } catch { throw PipelineError(error, stage: "music") }
        var effects: [SoundtrackMix.Effect] = []
        for (i, scene) in manifest.scenes.enumerated() {
            guard let sfx = scene.sfx else { continue }
            let start = Int((timeline.start(of: i) + sfx.at) * Double(sampleRate))
            let frames = min(Int(sfx.duration * Double(sampleRate)), totalSamples - start)
            guard frames > 0 else { continue }
            let seed = (manifest.music.seed ?? manifest.seed) &+ UInt64(i + 1)
            let identity = engine.identity(for: sfx)
            let key = StageCache.key(["sfx", identity.description, identity.packHash ?? "", "\(sfx)", "\(seed)", "\(frames)"])
            let file: URL
            if let cached = cache.use(stage: "music", key: key) {
                file = cached
            } else {
                file = try spoolSamples(stage: "music", key: key) { (writer: SampleFile.Writer) throws(PipelineError) in
                    do throws(EngineError) { writer.write(try engine.effect(sfx, frames: frames, sampleRate: sampleRate, seed: seed)) } catch {
                        throw PipelineError(EngineError(code: error.code, message: "scenes[\(i)].sfx: \(error.message)",
                                                        field: error.field.map { $0.replacingOccurrences(of: "scenes.", with: "scenes[\(i)].") }), stage: "music")
                    }
                }
            }
            effects.append(SoundtrackMix.Effect(start: start, file: file, gain: Float(sfx.volume)))
        }
        return effects
    }

    /// Writes a sample file as a stream into the stage cache (`stage`/`key`), or into the work folder when the
    /// cache cannot take it (cannot open, or its disk fills while writing: then `body` runs again into the work
    /// folder, so a full cache costs time, not the job); returns where it is.
    private func spoolSamples(stage: String, key: String, _ body: (SampleFile.Writer) throws(PipelineError) -> Void) throws(PipelineError) -> URL {
        let local = work.appendingPathComponent("\(stage)-\(key).f32")
        /// Runs `body` into `writer`; the write error, if the file could not be written, else nil.
        func fill(_ writer: SampleFile.Writer) throws(PipelineError) -> MediaError? {
            do throws(PipelineError) { try body(writer) } catch {
                try? writer.close()
                try? FileManager.default.removeItem(at: writer.url)
                throw error
            }
            do { try writer.close() } catch {
                try? FileManager.default.removeItem(at: writer.url)
                return error
            }
            return nil
        }
        if let temp = cache.spool(stage: stage, key: key), let writer = try? SampleFile.Writer(url: temp), try fill(writer) == nil {
            if let entry = cache.commit(writer.url, stage: stage, key: key) { return entry }
            // The cache would not take it: keep the file for this job in the work folder.
            if rename(writer.url.path, local.path) == 0 { return local }
            scratch.append(writer.url)
            return writer.url
        }
        // The job's own work file (under the state folder) not written: its disk full or read-only, which freeing
        // space mends: retryable, not the stage's failure (the fault suite's full state disk failed a job for good).
        func workIO(_ error: MediaError) -> PipelineError {
            .io("io.work", "\(stage): cannot write the work file \(local.lastPathComponent): \(error.detail)", stage: stage)
        }
        let writer: SampleFile.Writer
        do { writer = try SampleFile.Writer(url: local) } catch { throw workIO(error) }
        if let error = try fill(writer) { throw workIO(error) }
        return local
    }

    /// Samples in a raw Float32 file.
    /// Size and modification time: a re-recorded take under the same name is not served from the cache.
    static func fileStamp(_ path: String) -> String {
        let a = try? FileManager.default.attributesOfItem(atPath: path)
        return "\((a?[.size] as? Int64) ?? -1):\((a?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)"
    }

    /// When the poster frame is taken (seconds).
    static func posterTime(_ manifest: JobManifest, _ timeline: Timeline) -> Double {
        min(timeline.duration, manifest.poster.time ?? Double(timeline.scenes[0].frames) / Double(timeline.fps) / 2)
    }

    /// When the title card leaves the screen (seconds), nil without one: compose burns it until then, and the first
    /// scene's picture engine may keep its own type clear of it.
    static func titleEnd(_ manifest: JobManifest, _ timeline: Timeline) -> Double? {
        guard manifest.title != nil, manifest.titleCard else { return nil }
        let firstScene = Double(timeline.scenes[0].frames) / Double(timeline.fps)
        let poster = Self.posterTime(manifest, timeline)
        let end = !manifest.poster.captions ? min(firstScene, 2.5)
            : manifest.poster.title ? max(poster + 0.8, min(firstScene, 2.5)) : max(0.5, poster - 0.05)
        return min(end, max(firstScene, 1.5))
    }

    static func sampleCount(_ file: URL) -> Int {
        Int(((try? FileManager.default.attributesOfItem(atPath: file.path))?[.size] as? Int64) ?? 0) / 4
    }

    private func loadNarration(_ key: String) -> SpokenScene? {
        guard let meta = cache.read(stage: "speech", key: key, ext: "json"),
              let header = try? JSONDecoder().decode(NarrationHeader.self, from: meta),
              let file = cache.use(stage: "speech", key: key) else { return nil }
        return SpokenScene(sampleRate: header.sampleRate, frames: Self.sampleCount(file), words: header.words, file: file)
    }

    struct NarrationHeader: Codable {
        var sampleRate: Int
        var words: [Narration.Word]
    }
}

/// Peak resident memory per stage, from the kernel's high-water mark (reset at each stage start).
enum ResourceUsage {
    static func resetPeak() {
        // Writing 5 to clear_refs resets VmHWM (Linux >= 4.0); harmless where it is refused.
        if let fd = fopen("/proc/self/clear_refs", "w") { fputs("5", fd); fclose(fd) }
    }

    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    static func peakBytes() -> Int64 {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kb = line.split(separator: " ").compactMap { Int64($0) }.first ?? 0
            return kb * 1024
        }
        return 0
    }
}

/// Lets an engine's progress (a model's denoising steps) reach the sidecar, at most twice a second.
/// `@unchecked Sendable`: engines call `progress` on the job's own thread, the one that called them (the
/// diffusion engine relays its model task's progress back to that thread), so the job is never touched
/// from two threads at once.
final class SidecarProgress: @unchecked Sendable {
    private unowned let job: JobRun
    private var last = Date.distantPast
    init(job: JobRun) { self.job = job }
    func update(_ overall: Double) {
        guard Date().timeIntervalSince(last) >= 0.5 else { return }
        last = Date()
        job.sidecar.progress = overall
        job.writeSidecar()
    }
}
