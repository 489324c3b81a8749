import Captions
import Engines
import Foundation
import Manifest
import Media

/// Compose: the soundtrack mixed and measured, the captions laid out, then every frame drawn and encoded with the
/// soundtrack; the poster and the caption files beside it, all in the work folder until publish.
struct ComposeStage: JobStage {
    let manifest: JobManifest
    let timeline: Timeline
    let spoken: [SpokenScene]
    let pictures: [ScenePicture]
    let soundtrack: MusicStage.Soundtrack
    let sampleRate: Int
    var stage: Stage { .compose }

    /// The finished files, in the work folder.
    struct Files {
        var video, poster, srt, vtt: URL
        /// The captions as timed: the quality gate checks their reading speed.
        var cues: [Cue] = []
        /// The manifest's other renditions (`outputs:`), each composed for its own frame.
        var renditions: [RenditionFile] = []
        init(work: URL) {
            video = work.appendingPathComponent("video.mp4")
            poster = work.appendingPathComponent("poster.jpg")
            srt = work.appendingPathComponent("captions.srt")
            vtt = work.appendingPathComponent("captions.vtt")
        }
    }

    /// A rendition in the work folder, with the manifest it was laid out for (the gate's plan; its timeline is the
    /// main video's: a rendition keeps the frame rate).
    struct RenditionFile {
        var rendition: JobManifest.Rendition
        var video: URL
        var manifest: JobManifest
        var cues: [Cue]
    }

    var totalSamples: Int { timeline.totalFrames * sampleRate / timeline.fps }

    func run(_ job: JobRun) async throws(PipelineError) -> StageOutcome<Files> {
        var files = Files(work: job.work)
        let cues = captions(job, record: true)
        files.cues = cues
        // The mix is the same for every file (one timeline): spooled and measured once, each file reads it through its
        // own loudness gain.
        let mix = try spoolMix(job)
        // Compose's progress shared by pixels to encode: the main video, then each rendition.
        let layouts = [manifest] + manifest.renditions.map { r -> JobManifest in
            var m = manifest
            m.output = r.output
            m.renditions = []
            return m
        }
        let work = layouts.map { Double($0.output.width * $0.output.height) }
        let total = max(1, work.reduce(0, +))
        func share(_ i: Int) -> (Double) -> Void {
            let before = work[..<i].reduce(0, +) / total, part = work[i] / total
            return { [job] f in job.advance(before + f * part) }
        }
        try encode(job, to: files.video, cues: cues, mix: mix, loudness: -16, poster: manifest.poster.captions ? files.poster.path : nil,
                   record: true, progress: share(0))
        for (i, r) in manifest.renditions.enumerated() {
            try job.checkCancelled()
            let m = layouts[i + 1]
            let stage = ComposeStage(manifest: m, timeline: timeline, spoken: spoken, pictures: pictures, soundtrack: soundtrack, sampleRate: sampleRate)
            let video = job.work.appendingPathComponent("rendition-\(r.name).mp4")
            let cues = stage.captions(job, record: false)
            try stage.encode(job, to: video, cues: cues, mix: mix, loudness: r.loudness, poster: nil, record: false, progress: share(i + 1))
            files.renditions.append(RenditionFile(rendition: r, video: video, manifest: m, cues: cues))
        }
        if !manifest.poster.captions {
            do {
                try Thumbnail.render(manifest, pictures: pictures, timeline: timeline, style: CaptionLook.style(for: manifest),
                                     to: files.poster.path, work: job.work)
            } catch { throw PipelineError(error, stage: "compose") }
        }
        let language = CaptionLanguage(voice: manifest.voice.voice)
        do {
            try Data(SRT.document(cues: cues).utf8).write(to: files.srt)
            try Data(WebVTT.document(cues: cues, language: language.bcp47).utf8).write(to: files.vtt)
        } catch {
            throw PipelineError.io("io.work", "cannot write captions: \(error.localizedDescription)", stage: "compose")
        }
        let settings = (VideoQuality(rawValue: manifest.output.quality.rawValue) ?? .standard).encoder
        return StageOutcome(value: files, engine: "libx264 \(settings.preset) crf \(settings.crf) + aac")
    }

    /// One video of this layout: the spooled mix brought to `loudness`, every frame drawn and encoded into `path`.
    /// `record`: the main video's, whose chapters go into the sidecar.
    func encode(_ job: JobRun, to path: URL, cues: [Cue], mix: (file: URL, loudness: Double), loudness: Double, poster: String?,
                record: Bool, progress: (Double) -> Void) throws(PipelineError) {
        let language = CaptionLanguage(voice: manifest.voice.voice)
        let audio: AudioFeed
        do {
            audio = AudioMix.normalized(try SampleFile.Reader(url: mix.file), loudness: mix.loudness, sampleRate: sampleRate, target: loudness)
        } catch { throw PipelineError(error, stage: "compose") }
        var composition = Composition(
            outputPath: path.path, width: manifest.output.width, height: manifest.output.height, fps: manifest.output.fps,
            frameCount: timeline.totalFrames,
            scenes: pictures.enumerated().map { i, picture in
                Composition.Scene(picture: picture, start: timeline.scenes[i].startFrame,
                                  frames: timeline.scenes[i].frames + (i < pictures.count - 1 ? timeline.transitionFrames : 0))
            },
            crossfadeFrames: timeline.transitionFrames,
            burnedCaptions: manifest.captions.mode == .burn ? cues : [], overlays: overlays(), textStyle: CaptionLook.style(for: manifest),
            embeddedCaptions: manifest.captions.mode == .embed ? cues : [], captionLanguage: language.iso639_2,
            audio: [], quality: VideoQuality(rawValue: manifest.output.quality.rawValue) ?? .standard,
            posterFrame: min(timeline.totalFrames - 1, max(0, Int((JobRun.posterTime(manifest, timeline) * Double(manifest.output.fps)).rounded()))),
            posterPath: poster)
        composition.audioFeed = audio
        let chapters = ChapterPlan.chapters(manifest, starts: manifest.scenes.indices.map { timeline.start(of: $0) })
        composition.chapters = chapters.map { Chapter(start: $0.start_s, title: $0.title) }
        if record { job.sidecar.chapters = chapters.isEmpty ? nil : chapters }
        job.logger.debug("video graph", metadata: ["stage": "compose", "graph": "\(Composer.graphText(for: composition))"])
        if let script = Composer.captionScript(for: composition) {
            // Base64 keeps the script on one log line: Benchmarks/render_bench.py burns it with the ffmpeg CLI.
            job.logger.debug("caption script", metadata: ["stage": "compose", "ass_base64": "\(Data(script.utf8).base64EncodedString())"])
        }
        do {
            _ = try Composer.compose(composition, progress: progress, shouldContinue: { [job] in !job.isCancelled() })
        } catch {
            try job.checkCancelled()
            throw PipelineError(error, stage: "compose")
        }
    }

    /// The captions from the script's own words, timed by the voice, laid out to the output's size. `record`: the main
    /// video's, whose layout figures go into the sidecar.
    func captions(_ job: JobRun, record: Bool) -> [Cue] {
        let rules = CaptionRules(width: manifest.output.width, height: manifest.output.height, fontSize: manifest.captions.size,
                                 maxLines: manifest.captions.maxLines)
        let cues = CaptionLayout.track(manifest.scenes.indices.map { i in
            let start = timeline.start(of: i)
            let end = i + 1 < manifest.scenes.count ? timeline.start(of: i + 1) : timeline.duration
            return SceneCaptions(script: manifest.scenes[i].narration, narration: spoken[i].narration,
                                 offset: start + timeline.scenes[i].narrationOffset, window: start...max(start, end))
        }, rules: rules)
        if record {
            job.sidecar.captions = .init(cues: cues.count, max_characters_per_line: rules.maxCharacters, max_lines: rules.maxLines,
                                         fast_cues: CaptionLayout.fastCues(cues, rules: rules))
        }
        return cues
    }

    /// The mix, scene by scene a second at a time, spooled to the work folder and measured as it goes (its integrated
    /// loudness); each encoder reads it back through its loudness gain and the limiter. A clip's own sound joins the
    /// bed in its scene (so the voice ducks it too), at its clip_volume.
    func spoolMix(_ job: JobRun) throws(PipelineError) -> (file: URL, loudness: Double) {
        let bedGain = Float(manifest.music.volume)
        let scenes = manifest.scenes.indices.map { i -> SoundtrackMix.Scene in
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
        let mix = SoundtrackMix(sampleRate: sampleRate, totalFrames: totalSamples, bed: soundtrack.bed, bedGain: bedGain, scenes: scenes,
                                effects: soundtrack.effects)
        let file = job.work.appendingPathComponent("mix.f32")
        do {
            let started = Date()
            let loudness = try mix.render(to: file)
            job.logger.debug("soundtrack mixed", metadata: ["stage": "compose", "seconds": "\(String(format: "%.3f", Date().timeIntervalSince(started)))",
                                                            "loudness": "\(String(format: "%.2f", loudness))"])
            return (file, loudness)
        } catch { throw PipelineError(error, stage: "compose") }
    }

    /// The title card and each scene's heading as a lower third. `poster: {captions: true}`: the poster is the video's
    /// own frame, the middle of the first scene unless the manifest says when; the title card runs past it (so it
    /// shows the title) or ends just before it (`title: false`). Otherwise `Thumbnail` draws it after the video, and the
    /// card keeps its own length.
    func overlays() -> [TextOverlay] {
        var overlays: [TextOverlay] = []
        if let title = manifest.title, let end = JobRun.titleEnd(manifest, timeline) {
            overlays.append(TextOverlay(text: title, start: 0, end: end, kind: .title))
        }
        for (i, scene) in manifest.scenes.enumerated() {
            guard let heading = scene.heading else { continue }
            let start = timeline.start(of: i), end = i + 1 < manifest.scenes.count ? timeline.start(of: i + 1) : timeline.duration
            overlays.append(TextOverlay(text: heading, start: start + 0.3, end: max(start + 0.3, min(start + 4.5, end - 0.3)), kind: .lowerThird))
        }
        return overlays
    }
}
