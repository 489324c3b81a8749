import Contract
import Failures
import Foundation
import Manifest
import Media

/// What the finished video should be, from the job's plan: the yardstick the gate holds the decoded file to.
struct QualityPlan: Sendable {
    struct Span: Sendable {
        var start: Double
        var end: Double
    }
    var width: Int
    var height: Int
    var fps: Int
    var frames: Int
    var embeddedCaptions: Bool
    /// Narration, music, effects or a clip's sound: something should be heard.
    var soundPlanned: Bool
    /// Where each scene may be black (a dark designed background) or may stand still (a still with no move, a
    /// background, a clip that holds its last frame), crossfades included.
    var mayBeBlack: [Span] = []
    var mayFreeze: [Span] = []
    /// Where narration is spoken, with the longest pause the script asks for inside it.
    var narration: [(span: Span, pause: Double)] = []
    /// Characters and seconds of each caption cue.
    var cues: [(start: Double, characters: Int, seconds: Double)] = []

    var duration: Double { Double(frames) / Double(fps) }
    var frame: Double { 1 / Double(fps) }
}

/// The limits the gate holds a video to. Loudness: the mix is normalised to -16 LUFS with a -1.5 dBFS sample-peak
/// limiter (`AudioMix.normalized`); the AAC encode may move both a little, hence ±1 LU and -1 dBTP.
struct QualityLimits: Sendable {
    var loudnessTarget = -16.0
    var loudnessTolerance = 1.0
    /// How far under target a mix may be when its peaks sit at the limiter's ceiling (true peak within 1.5 dB of the limit).
    var limiterAllowance = 3.0
    var truePeak = -1.0
    /// Black no scene planned, longer than this, is a fault (a cut or a fade may pass through a few dark frames).
    var black = 0.5
    /// A moving picture standing still longer than this is a fault.
    var frozen = 2.0
    /// Silence inside narration longer than this plus the script's longest pause there.
    var silence = 1.5
    /// Reading speed above which a cue flashes by (the sidecar's `fast_cues` counts those above 20).
    var charactersPerSecond = 25.0
    /// How far audio and video may start apart, in frames.
    var startOffsetFrames = 1.0
}

enum QualityGate {
    /// Checks whose failure is reported and warned about but fails nothing.
    static let advisory: Set<String> = ["caption_speed"]

    static func plan(_ m: JobManifest, timeline: Timeline, pictures: [ScenePicture], cues: [Cue]) -> QualityPlan {
        // Sound a listener would hear: a voice, music or effect at volume 0 is planned silence, not a fault.
        let spoken = { (i: Int) in timeline.scenes[i].narrationDuration > 0 && i < m.scenes.count && m.scenes[i].voice.volume > 0 }
        let soundPlanned = (m.music.engine != .none && m.music.volume > 0) || timeline.scenes.indices.contains(where: spoken)
            || m.scenes.contains { $0.clipVolume > 0 || ($0.sfx?.volume ?? 0) > 0 }
        var plan = QualityPlan(width: m.output.width, height: m.output.height, fps: timeline.fps, frames: timeline.totalFrames,
                               embeddedCaptions: m.captions.mode == .embed && !cues.isEmpty, soundPlanned: soundPlanned)
        let fade = Double(timeline.transitionFrames) / Double(timeline.fps)
        for (i, picture) in pictures.enumerated() where i < timeline.scenes.count {
            let start = timeline.start(of: i), end = start + Double(timeline.scenes[i].frames) / Double(timeline.fps)
            let span = QualityPlan.Span(start: max(0, start - fade), end: end + fade)
            switch picture {
            case .still(let s):
                if s.move.startZoom == s.move.endZoom && s.move.panX == 0 && s.move.panY == 0 { plan.mayFreeze.append(span) }
            case .background(let b):
                plan.mayFreeze.append(span)
                // A background of dark colours only is meant to look black.
                if b.colors.allSatisfy({ c in
                    0.2126 * Double(c >> 16 & 0xFF) + 0.7152 * Double(c >> 8 & 0xFF) + 0.0722 * Double(c & 0xFF) < 25
                }) { plan.mayBeBlack.append(span) }
            case .clip(let c):
                if !c.loop { plan.mayFreeze.append(span) }
            case .frames:
                break
            }
            let scene = timeline.scenes[i]
            if spoken(i) {
                let from = start + scene.narrationOffset
                plan.narration.append((QualityPlan.Span(start: from, end: from + scene.narrationDuration),
                                       m.scenes[i].pauses.map(\.seconds).max() ?? 0))
            }
        }
        if m.captions.mode != .off {
            plan.cues = cues.map { ($0.start, $0.lineTexts.joined(separator: " ").count, $0.end - $0.start) }
        }
        return plan
    }

    /// Every check of `scan` against `plan`, in a fixed order.
    static func checks(_ scan: MediaScan, plan: QualityPlan, limits: QualityLimits = QualityLimits()) -> [Sidecar.QualityCheck] {
        var out: [Sidecar.QualityCheck] = []
        out.append(streams(scan, plan))
        // Duration: by the frames decoded (a file cut short still has a header that promises the whole length).
        let videoOff = scan.videoEnd - plan.duration
        let audioOff = scan.audioDuration - plan.duration
        // AAC ends on a whole 1024-sample frame: the sound may run that much past the picture.
        let audioOK = !plan.soundPlanned || scan.info.first(.audio) == nil || (audioOff > -plan.frame && audioOff < plan.frame + 1024.0 / 48_000)
        out.append(.init(name: "duration", passed: abs(videoOff) <= plan.frame + 1e-6 && audioOK, value: scan.videoEnd, limit: plan.frame, unit: "s",
                         at_s: videoOff < 0 ? scan.videoEnd : nil,
                         detail: String(format: "video %.3f s, sound %.3f s, planned %.3f s; allowed one frame (%.3f s) either way", scan.videoEnd,
                                        scan.audioDuration, plan.duration, plan.frame)))
        let decodable = scan.decodeErrors == 0 && scan.videoFrames == plan.frames
        out.append(.init(name: "decodable", passed: decodable, value: Double(scan.videoFrames), limit: Double(plan.frames), unit: "frames",
                         at_s: scan.firstDecodeError ?? (scan.videoFrames < plan.frames ? scan.videoEnd : nil),
                         detail: "\(scan.videoFrames) of \(plan.frames) frames decoded, \(scan.decodeErrors) decoding errors"))
        let offset = abs((scan.videoStart ?? 0) - (scan.audioStart ?? scan.videoStart ?? 0))
        out.append(.init(name: "av_offset", passed: offset <= limits.startOffsetFrames * plan.frame + 1e-6, value: offset,
                         limit: limits.startOffsetFrames * plan.frame, unit: "s",
                         detail: String(format: "video starts at %.3f s, sound at %.3f s", scan.videoStart ?? 0, scan.audioStart ?? 0)))
        out.append(contentsOf: sound(scan, plan, limits))
        out.append(stretch("black", scan.black, allowed: plan.mayBeBlack, limit: limits.black, what: "black picture"))
        out.append(stretch("frozen", scan.frozen, allowed: plan.mayFreeze, limit: limits.frozen, what: "picture standing still"))
        out.append(silence(scan, plan, limits))
        let speeds = plan.cues.map { (start: $0.start, cps: Double($0.characters) / max(0.001, $0.seconds)) }
        let fastest = speeds.max { $0.cps < $1.cps }
        out.append(.init(name: "caption_speed", passed: (fastest?.cps ?? 0) <= limits.charactersPerSecond, value: fastest?.cps ?? 0,
                         limit: limits.charactersPerSecond, unit: "characters/s", at_s: (fastest?.cps ?? 0) > limits.charactersPerSecond ? fastest?.start : nil,
                         detail: plan.cues.isEmpty ? "no captions" : "\(plan.cues.count) cues, the fastest asks for \(String(format: "%.1f", fastest?.cps ?? 0)) characters a second"))
        return out
    }

    private static func streams(_ scan: MediaScan, _ plan: QualityPlan) -> Sidecar.QualityCheck {
        var problems: [String] = []
        if let v = scan.info.first(.video) {
            if v.codec != "h264" { problems.append("video codec \(v.codec), expected h264") }
            if v.width != plan.width || v.height != plan.height { problems.append("picture \(v.width)x\(v.height), expected \(plan.width)x\(plan.height)") }
            if v.pixelFormat != "yuv420p" { problems.append("pixel format \(v.pixelFormat), expected yuv420p") }
            if let c = scan.colour, c != .bt709 {
                problems.append("colour \(c.primaries)/\(c.transfer)/\(c.matrix)/\(c.range), expected bt709/bt709/bt709/tv")
            }
        } else { problems.append("no video stream") }
        if let a = scan.info.first(.audio) {
            if a.codec != "aac" || a.sampleRate != EncoderSettings.audioSampleRate || a.channels != 2 {
                problems.append("sound \(a.codec) \(a.sampleRate) Hz \(a.channels) channels, expected aac 48000 Hz stereo")
            }
        } else { problems.append("no audio stream") }
        let subtitles = scan.info.streams.filter { $0.kind == .subtitle }
        if plan.embeddedCaptions && !subtitles.contains(where: { $0.codec == "mov_text" }) { problems.append("no mov_text caption track") }
        if !plan.embeddedCaptions && !subtitles.isEmpty { problems.append("\(subtitles.count) caption tracks, none asked for") }
        let found = scan.info.streams.map { "\($0.kind.rawValue) \($0.codec)" }.joined(separator: ", ")
        return .init(name: "streams", passed: problems.isEmpty, value: Double(scan.info.streams.count), unit: "streams",
                     detail: problems.isEmpty ? found : problems.joined(separator: "; "))
    }

    private static func sound(_ scan: MediaScan, _ plan: QualityPlan, _ limits: QualityLimits) -> [Sidecar.QualityCheck] {
        guard plan.soundPlanned else {
            return [.init(name: "loudness", passed: true, value: scan.loudness, unit: "LUFS", detail: "no sound planned: not judged"),
                    .init(name: "true_peak", passed: (scan.truePeak ?? -.infinity) <= limits.truePeak, value: scan.truePeak.map(finite),
                          limit: limits.truePeak, unit: "dBTP", detail: "no sound planned")]
        }
        let lufs = scan.loudness ?? -.infinity
        let tp = scan.truePeak ?? -.infinity
        let within = abs(lufs - limits.loudnessTarget) <= limits.loudnessTolerance
        // The mix brings a peaky narration up to the target and its limiter then holds the peaks under -1.5 dBFS, which
        // can leave the whole a little under target (welcome.yaml with the Piper voice: -17.1 LUFS, peaks -1.4 dBTP; -16.2
        // since the mix's make-up pass, `AudioMix.madeUp`, which stops at +4 dB).
        // That is the ceiling doing its job, not a fault: quieter by at most `limiterAllowance`, with peaks at the ceiling.
        let held = !within && lufs < limits.loudnessTarget && limits.loudnessTarget - lufs <= limits.limiterAllowance
            && tp >= limits.truePeak - 1.5
        let loud = Sidecar.QualityCheck(
            name: "loudness", passed: within || held, value: finite(lufs),
            limit: limits.loudnessTarget, unit: "LUFS",
            detail: String(format: "integrated %.1f LUFS, target %.0f ± %.0f LU", finite(lufs), limits.loudnessTarget, limits.loudnessTolerance)
                + (held ? String(format: "; under target because the peak limiter holds its peaks at %.1f dBTP (allowed down to %.0f LUFS)",
                                 tp, limits.loudnessTarget - limits.limiterAllowance) : ""))
        let peak = Sidecar.QualityCheck(name: "true_peak", passed: tp <= limits.truePeak, value: finite(tp), limit: limits.truePeak, unit: "dBTP",
                                        detail: String(format: "true peak %.2f dBTP, at most %.1f", finite(tp), limits.truePeak))
        return [loud, peak]
    }

    /// -infinity (digital silence) as a number JSON can hold.
    private static func finite(_ v: Double) -> Double { v.isFinite ? (v * 100).rounded() / 100 : -200 }

    /// The longest part of `runs` that no allowed span covers.
    static func unplanned(_ runs: [MediaScan.Run], allowed: [QualityPlan.Span]) -> MediaScan.Run? {
        var longest: MediaScan.Run?
        for run in runs {
            var pieces = [run]
            for a in allowed {
                pieces = pieces.flatMap { p -> [MediaScan.Run] in
                    guard a.end > p.start && a.start < p.end else { return [p] }
                    return [MediaScan.Run(start: p.start, end: a.start), MediaScan.Run(start: a.end, end: p.end)].filter { $0.duration > 0 }
                }
            }
            for p in pieces where p.duration > (longest?.duration ?? 0) { longest = p }
        }
        return longest
    }

    private static func stretch(_ name: String, _ runs: [MediaScan.Run], allowed: [QualityPlan.Span], limit: Double, what: String) -> Sidecar.QualityCheck {
        let worst = unplanned(runs, allowed: allowed)
        let seconds = worst?.duration ?? 0
        return .init(name: name, passed: seconds <= limit, value: (seconds * 1000).rounded() / 1000, limit: limit, unit: "s",
                     at_s: seconds > limit ? worst?.start : nil,
                     detail: worst.map { String(format: "longest unplanned %@: %.2f s from %.2f s", what, $0.duration, $0.start) } ?? "none unplanned")
    }

    private static func silence(_ scan: MediaScan, _ plan: QualityPlan, _ limits: QualityLimits) -> Sidecar.QualityCheck {
        var worst: (run: MediaScan.Run, over: Double)?
        for (span, pause) in plan.narration {
            for run in scan.silent {
                let inside = MediaScan.Run(start: max(run.start, span.start), end: min(run.end, span.end))
                guard inside.duration > 0 else { continue }
                let over = inside.duration - (limits.silence + pause)
                if over > (worst?.over ?? -.infinity) { worst = (inside, over) }
            }
        }
        let failed = (worst?.over ?? -1) > 0
        return .init(name: "silence", passed: failed == false, value: worst.map { ($0.run.duration * 1000).rounded() / 1000 } ?? 0, limit: limits.silence,
                     unit: "s", at_s: failed ? worst?.run.start : nil,
                     detail: worst.map { String(format: "longest silence while narration is planned: %.2f s from %.2f s", $0.run.duration, $0.run.start) }
                        ?? "no silence while narration is planned")
    }
}

extension JobRun {
    /// Opens the composed video again, checks it against the plan and writes the sidecar's `quality` block (the main
    /// video's; a rendition's goes into its own entry: `primary: false`). A failing check fails the job with
    /// `quality.<check>`, unless the manifest says `quality: {on_fail: flag}`.
    @discardableResult
    func qualityGate(_ m: JobManifest, timeline: Timeline, pictures: [ScenePicture], cues: [Cue], video: URL,
                     publishedAs file: String, loudnessTarget: Double = -16, primary: Bool = true) throws(PipelineError) -> Sidecar.Quality {
        let started = Date()
        let plan = QualityGate.plan(m, timeline: timeline, pictures: pictures, cues: cues)
        let scan: MediaScan
        do { scan = try MediaScanner.scan(video.path) } catch {
            throw PipelineError(code: "quality.decodable", message: "\(file): the composed video cannot be opened again: \(error)", stage: "publish")
        }
        var limits = QualityLimits()
        limits.loudnessTarget = loudnessTarget
        let checks = QualityGate.checks(scan, plan: plan, limits: limits)
        // Caption speed is advice, not a broken file: captions follow the voice, so a fast voice (espeak reads French at
        // about 27 characters a second) must not fail the job. It is reported, and warned about, never blocking.
        let advice = checks.filter { !$0.passed && QualityGate.advisory.contains($0.name) }
        if !advice.isEmpty {
            let lines = advice.map { "quality: \($0.name): \($0.detail) (advice; the video is published)" }
            sidecar.warnings = (sidecar.warnings ?? []) + lines
            report(.warnings(lines))
            for w in lines { logger.warning("\(w)", metadata: ["stage": "publish"]) }
        }
        let failed = checks.filter { !$0.passed && !QualityGate.advisory.contains($0.name) }
        let status = failed.isEmpty ? "passed" : (m.quality.onFail == .flag ? "flagged" : "failed")
        let quality = Sidecar.Quality(status: status, on_fail: m.quality.onFail.rawValue, file: file, checks: checks,
                                      seconds: (Date().timeIntervalSince(started) * 1000).rounded() / 1000)
        if primary {
            sidecar.quality = quality
            writeSidecar()
        }
        logger.debug("quality gate", metadata: ["stage": "publish", "file": "\(file)", "status": "\(status)", "seconds": "\(quality.seconds)"])
        guard let first = failed.first else { return quality }
        let at = first.at_s.map { String(format: " at %.2f s", $0) } ?? ""
        let message = "\(file): quality check \(first.name) failed\(at): \(first.detail)"
            + (failed.count > 1 ? " (also failed: \(failed.dropFirst().map(\.name).joined(separator: ", ")))" : "")
        if m.quality.onFail == .flag {
            logger.warning("\(message)", metadata: ["stage": "publish"])
            return quality
        }
        throw PipelineError(code: "quality.\(first.name)", message: message, stage: "publish")
    }
}
