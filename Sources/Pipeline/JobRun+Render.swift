import Captions
import Failures
import Engines
import Foundation
import Logging
import Manifest
import Media
import Normaliser
import Contract

/// The render: plan, speech, visuals, music, compose and publish, in order, each through `stage`.
extension JobRun {

    func render(_ manifest: JobManifest) throws(PipelineError) {
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
            try qualityGate(manifest, timeline: timeline, pictures: pictures, cues: cues, video: videoTemp, publishedAs: name + ".mp4")
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
}
