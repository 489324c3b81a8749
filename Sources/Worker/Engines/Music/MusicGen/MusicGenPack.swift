import Engines
import Foundation
import TorchRuntime
import VideoDiffusion

/// The MusicGen part of a `musicgen` music pack's pack.json (written by Tools/export/export_musicgen.py;
/// Docs/musicgen.md).
public struct MusicGenSettings: Sendable, Decodable, Equatable {
    public struct Generation: Sendable, Decodable, Equatable {
        public var interface: Int
        /// The start/pad token (= card): BOS and EOS padding of the delay pattern.
        public var padToken: Int
        /// Codebook k is delayed by delayPattern[k] frames (MusicGen: 0, 1, 2, 3).
        public var delayPattern: [Int]
        /// Frames per generation window (prompt included): MusicGen's 30 s.
        public var windowFrames: Int
        /// Frames of the previous window each later window continues from.
        public var promptFrames: Int
        public var maxPositions: Int
        public var guidance: Double
        public var topK: Int
        public var topP: Double
        public var temperature: Double
        /// Codec decoding: frames per call and frames shared (crossfaded) with the next call.
        public var codecChunkFrames: Int
        public var codecOverlapFrames: Int

        enum CodingKeys: String, CodingKey {
            case interface, guidance, temperature
            case padToken = "pad_token", delayPattern = "delay_pattern", windowFrames = "window_frames"
            case promptFrames = "prompt_frames", maxPositions = "max_positions", topK = "top_k", topP = "top_p"
            case codecChunkFrames = "codec_chunk_frames", codecOverlapFrames = "codec_overlap_frames"
        }
    }

    public var sampleRate: Int
    public var frameRate: Int
    public var hopLength: Int
    public var codebooks: Int
    public var card: Int
    public var text: VideoPackSettings.Text
    public var musicgen: Generation

    enum CodingKeys: String, CodingKey {
        case codebooks, card, text, musicgen
        case sampleRate = "sample_rate", frameRate = "frame_rate", hopLength = "hop_length"
    }

    public static let interface = 1
    public static let architecture = "musicgen"

    /// What is wrong with these settings for this engine; empty when usable.
    public func problems() -> [String] {
        var out: [String] = []
        let g = musicgen
        if g.interface != Self.interface { out.append("musicgen.interface \(g.interface) is not supported (this build reads \(Self.interface))") }
        if codebooks < 1 { out.append("codebooks must be at least 1") }
        if g.delayPattern != Array(0..<codebooks) { out.append("musicgen.delay_pattern must be [0, 1, ..., codebooks-1] (MusicGen's delay pattern)") }
        if g.padToken != card { out.append("musicgen.pad_token must equal card (\(card))") }
        if g.windowFrames < 2 || g.windowFrames + codebooks > g.maxPositions {
            out.append("musicgen.window_frames must be at least 2 and window_frames + codebooks at most max_positions (\(g.maxPositions))")
        }
        if g.promptFrames < 0 || g.promptFrames >= g.windowFrames { out.append("musicgen.prompt_frames must be in 0..<window_frames") }
        if g.codecChunkFrames < 1 || g.codecOverlapFrames < 0 || 2 * g.codecOverlapFrames >= g.codecChunkFrames {
            out.append("musicgen.codec_chunk_frames must be more than twice codec_overlap_frames")
        }
        if hopLength * frameRate != sampleRate { out.append("hop_length x frame_rate must equal sample_rate") }
        return out
    }
}

/// How tokens are chosen. temperature 0 (or topK 1) is greedy: the argmax, as transformers' do_sample=False.
public struct MusicSampling: Sendable, Equatable {
    public var guidance: Double
    public var temperature: Double
    public var topK: Int
    public var topP: Double
    public var seed: UInt64

    public init(guidance: Double, temperature: Double, topK: Int, topP: Double, seed: UInt64) {
        self.guidance = guidance; self.temperature = temperature; self.topK = topK; self.topP = topP; self.seed = seed
    }

    public static func greedy(guidance: Double) -> MusicSampling {
        MusicSampling(guidance: guidance, temperature: 0, topK: 0, topP: 0, seed: 0)
    }

    public var isGreedy: Bool { temperature <= 0 || topK == 1 }
    /// transformers applies classifier-free guidance only above 1.
    public var guided: Bool { guidance > 1 }
}

/// The engine's own error, mapped onto an EngineError (with the manifest field) at the engine's edge.
public struct MusicGenError: Error, Sendable, CustomStringConvertible {
    public var code: String
    public var message: String
    public init(_ code: String, _ message: String) { self.code = code; self.message = message }
    public var description: String { message }
}
