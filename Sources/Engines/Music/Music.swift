import Foundation
import Manifest

public protocol MusicEngine: Sendable {
    var identity: EngineIdentity { get }
    /// Who makes the bed for `music`: a model engine adds its pack's hash, so the stage cache and the sidecar
    /// tell packs apart. Defaults to `identity`.
    func identity(for music: JobManifest.Music) -> EngineIdentity
    /// One bed for the whole job: interleaved stereo Float at `sampleRate`, exactly `frames` long per channel.
    func bed(frames: Int, sampleRate: Int, music: JobManifest.Music, seed: UInt64) throws(EngineError) -> [Float]
    /// A scene's sound effect: interleaved stereo at `sampleRate`, exactly `frames` long, at full level (the
    /// pipeline applies the effect's volume). Defaults to "not supported" (the embedded engines).
    func effect(_ sfx: JobManifest.SoundEffect, frames: Int, sampleRate: Int, seed: UInt64) throws(EngineError) -> [Float]
    /// Who makes `sfx`: names the pack's hash for the stage cache. Defaults to `identity`.
    func identity(for sfx: JobManifest.SoundEffect) -> EngineIdentity
}

extension MusicEngine {
    public func identity(for music: JobManifest.Music) -> EngineIdentity { identity }
    public func identity(for sfx: JobManifest.SoundEffect) -> EngineIdentity { identity }
    public func effect(_ sfx: JobManifest.SoundEffect, frames: Int, sampleRate: Int, seed: UInt64) throws(EngineError) -> [Float] {
        throw EngineError(code: "music.sfx_unsupported", message: "the music engine \(identity.name) makes no sound effects", field: "scenes.sfx")
    }
}

public enum Fades {
    /// Fades both ends of an interleaved stereo buffer (equal-power curve).
    public static func apply(_ samples: inout [Float], sampleRate: Int, fadeIn: Double, fadeOut: Double) {
        let frames = samples.count / 2
        let inN = min(frames / 2, Int(fadeIn * Double(sampleRate)))
        let outN = min(frames / 2, Int(fadeOut * Double(sampleRate)))
        for i in 0..<inN {
            let g = Float(sin(Double.pi / 2 * Double(i) / Double(inN)))
            samples[2 * i] *= g; samples[2 * i + 1] *= g
        }
        for i in 0..<outN {
            let g = Float(sin(Double.pi / 2 * Double(i) / Double(outN)))
            let k = frames - 1 - i
            samples[2 * k] *= g; samples[2 * k + 1] *= g
        }
    }
}

/// The user's own track, looped or trimmed to the job's length.
public struct FileMusic: MusicEngine {
    public init() {}
    public var identity: EngineIdentity { EngineIdentity(name: "file", version: "1") }

    public func bed(frames: Int, sampleRate: Int, music: JobManifest.Music, seed: UInt64) throws(EngineError) -> [Float] {
        guard let path = music.file else { throw EngineError(code: "music.missing_file", message: "music engine `file` needs music.file", field: "music.file") }
        let source: [Float]
        do { source = try MediaDecode.audio(path, sampleRate: sampleRate) } catch {
            throw EngineError(code: "music.unreadable", message: "cannot read the music file \(path): \(error)", field: "music.file")
        }
        guard source.count >= 2 else { throw EngineError(code: "music.unreadable", message: "the music file \(path) holds no audio", field: "music.file") }
        var out = Self.loop(source, frames: frames, sampleRate: sampleRate)
        Fades.apply(&out, sampleRate: sampleRate, fadeIn: 0.5, fadeOut: 2)
        return out
    }

    /// `source` (interleaved stereo) repeated to `frames`: each repeat crossfades (equal power, up to half a
    /// second) from the end of the track into its start, so the seam never steps or clicks.
    static func loop(_ source: [Float], frames: Int, sampleRate: Int) -> [Float] {
        let n = source.count / 2
        var out = [Float](repeating: 0, count: frames * 2)
        guard n > 0 else { return out }
        let fade = min(n / 4, sampleRate / 2)
        var pos = 0
        var i = 0
        while i < frames {
            // Crossfade only where the track repeats: a video that ends within this pass plays it as recorded.
            if fade > 0 && pos >= n - fade && frames - i > n - pos {
                // The track's last `fade` frames under its first ones.
                let k = pos - (n - fade)
                let t = (Double(k) + 0.5) / Double(fade)
                let a = Float(cos(t * Double.pi / 2)), b = Float(sin(t * Double.pi / 2))
                out[2 * i] = source[2 * pos] * a + source[2 * k] * b
                out[2 * i + 1] = source[2 * pos + 1] * a + source[2 * k + 1] * b
                pos += 1
                if pos == n { pos = fade }
            } else {
                out[2 * i] = source[2 * pos]
                out[2 * i + 1] = source[2 * pos + 1]
                pos += 1
                if pos == n { pos = 0 }
            }
            i += 1
        }
        return out
    }
}
