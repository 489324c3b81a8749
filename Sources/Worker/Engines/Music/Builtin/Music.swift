import Foundation
import Manifest
import Synchronization

public protocol MusicEngine: Sendable {
    var identity: EngineIdentity { get }
    /// Who makes the bed for `music`: a model engine adds its pack's hash, so the stage cache and the sidecar
    /// tell packs apart. Defaults to `identity`.
    func identity(for music: JobManifest.Music) -> EngineIdentity
    /// One bed for the whole job, window by window: `emit` gets consecutive blocks of interleaved stereo Float
    /// at `sampleRate`, exactly `frames` long per channel in all, fades and loop seams included. An engine
    /// holds one window at a time, so a 10-minute bed costs what a 10-second one does.
    func bed(frames: Int, sampleRate: Int, music: JobManifest.Music, seed: UInt64, emit: @escaping @Sendable ([Float]) -> Void) async throws(EngineError)
    /// A scene's sound effect: interleaved stereo at `sampleRate`, exactly `frames` long, at full level (the
    /// pipeline applies the effect's volume). Defaults to "not supported" (the embedded engines).
    func effect(_ sfx: JobManifest.SoundEffect, frames: Int, sampleRate: Int, seed: UInt64) async throws(EngineError) -> [Float]
    /// Who makes `sfx`: names the pack's hash for the stage cache. Defaults to `identity`.
    func identity(for sfx: JobManifest.SoundEffect) -> EngineIdentity
}

extension MusicEngine {
    /// The whole bed in one buffer (tests, benchmarks, short beds).
    public func bed(frames: Int, sampleRate: Int, music: JobManifest.Music, seed: UInt64) async throws(EngineError) -> [Float] {
        let out = SampleBox()
        try await bed(frames: frames, sampleRate: sampleRate, music: music, seed: seed) { out.append($0) }
        return out.take()
    }

    public func identity(for music: JobManifest.Music) -> EngineIdentity { identity }
    public func identity(for sfx: JobManifest.SoundEffect) -> EngineIdentity { identity }
    public func effect(_ sfx: JobManifest.SoundEffect, frames: Int, sampleRate: Int, seed: UInt64) throws(EngineError) -> [Float] {
        throw EngineError(code: "music.sfx_unsupported", message: "the music engine \(identity.name) makes no sound effects", field: "scenes.sfx")
    }
}

/// Blocks collected into one buffer, from whichever thread an engine emits on.
public final class SampleBox: Sendable {
    private let samples = Mutex<[Float]>([])
    public init() {}
    public func append(_ block: [Float]) { samples.withLock { $0 += block } }
    /// Everything appended, leaving the box empty.
    public func take() -> [Float] {
        samples.withLock { buffer in
            var whole: [Float] = []
            swap(&whole, &buffer)
            return whole
        }
    }
}

public enum Fades {
    /// Fades both ends of an interleaved stereo buffer (equal-power curve).
    public static func apply(_ samples: inout [Float], sampleRate: Int, fadeIn: Double, fadeOut: Double) {
        Envelope(frames: samples.count / 2, sampleRate: sampleRate, fadeIn: fadeIn, fadeOut: fadeOut).apply(&samples, from: 0)
    }

    /// The fades of a bed `frames` long, applied a window at a time: the same gains as `apply` on the whole.
    public struct Envelope: Sendable {
        let frames: Int, inN: Int, outN: Int
        public init(frames: Int, sampleRate: Int, fadeIn: Double, fadeOut: Double) {
            self.frames = frames
            inN = min(frames / 2, Int(fadeIn * Double(sampleRate)))
            outN = min(frames / 2, Int(fadeOut * Double(sampleRate)))
        }

        /// Fades `window`, which holds the bed's frames from `start` on.
        public func apply(_ window: inout [Float], from start: Int) {
            let n = window.count / 2
            for i in max(0, start)..<max(max(0, start), min(inN, start + n)) {
                let g = Float(sin(Double.pi / 2 * Double(i) / Double(inN)))
                window[2 * (i - start)] *= g; window[2 * (i - start) + 1] *= g
            }
            // Fade-out gain for frame k is that of its distance from the end, j = frames - 1 - k.
            for k in max(start, frames - outN)..<max(max(start, frames - outN), min(frames, start + n)) {
                let j = frames - 1 - k
                let g = Float(sin(Double.pi / 2 * Double(j) / Double(outN)))
                window[2 * (k - start)] *= g; window[2 * (k - start) + 1] *= g
            }
        }
    }

    /// Frames per window an engine emits: about 0.7 s at 48 kHz (256 KiB of stereo Float).
    public static let window = 32_768
}

/// The user's own track, looped or trimmed to the job's length.
public struct FileMusic: MusicEngine {
    public init() {}
    public var identity: EngineIdentity { EngineIdentity(name: "file", version: "1") }

    public func bed(frames: Int, sampleRate: Int, music: JobManifest.Music, seed: UInt64, emit: @escaping @Sendable ([Float]) -> Void) throws(EngineError) {
        guard let path = music.file else { throw EngineError(code: "music.missing_file", message: "music engine `file` needs music.file", field: "music.file") }
        let source: [Float]
        do { source = try MediaDecode.audio(path, sampleRate: sampleRate) } catch {
            throw EngineError(code: "music.unreadable", message: "cannot read the music file \(path): \(error)", field: "music.file")
        }
        guard source.count >= 2 else { throw EngineError(code: "music.unreadable", message: "the music file \(path) holds no audio", field: "music.file") }
        let fades = Fades.Envelope(frames: frames, sampleRate: sampleRate, fadeIn: 0.5, fadeOut: 2)
        var looper = Looper(source: source, frames: frames, sampleRate: sampleRate)
        var start = 0
        while start < frames {
            var window = looper.next(min(Fades.window, frames - start))
            fades.apply(&window, from: start)
            emit(window)
            start += window.count / 2
        }
    }

    /// `source` (interleaved stereo) repeated to `frames`: each repeat crossfades (equal power, up to half a
    /// second) from the end of the track into its start, so the seam never steps or clicks.
    static func loop(_ source: [Float], frames: Int, sampleRate: Int) -> [Float] {
        var looper = Looper(source: source, frames: frames, sampleRate: sampleRate)
        return looper.next(frames)
    }

    /// The loop a window at a time (its place in the track carries over).
    struct Looper {
        let source: [Float], frames: Int, n: Int, fade: Int
        var pos = 0, i = 0
        init(source: [Float], frames: Int, sampleRate: Int) {
            self.source = source; self.frames = frames
            n = source.count / 2
            fade = min(n / 4, sampleRate / 2)
        }

        mutating func next(_ count: Int) -> [Float] {
            let end = min(frames, i + count)
            var out = [Float](repeating: 0, count: max(0, end - i) * 2)
            guard n > 0 else { i = end; return out }
            let first = i
            while i < end {
                let o = i - first
                // Crossfade only where the track repeats: a video that ends within this pass plays it as recorded.
                if fade > 0 && pos >= n - fade && frames - i > n - pos {
                    // The track's last `fade` frames under its first ones.
                    let k = pos - (n - fade)
                    let t = (Double(k) + 0.5) / Double(fade)
                    let a = Float(cos(t * Double.pi / 2)), b = Float(sin(t * Double.pi / 2))
                    out[2 * o] = source[2 * pos] * a + source[2 * k] * b
                    out[2 * o + 1] = source[2 * pos + 1] * a + source[2 * k + 1] * b
                    pos += 1
                    if pos == n { pos = fade }
                } else {
                    out[2 * o] = source[2 * pos]
                    out[2 * o + 1] = source[2 * pos + 1]
                    pos += 1
                    if pos == n { pos = 0 }
                }
                i += 1
            }
            return out
        }
    }
}
