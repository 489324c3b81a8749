import Foundation
import TorchRuntime

/// The video-specific part of a pack's pack.json (video interface 1, Docs/video-diffusion.md). TorchRuntime's
/// `PackManifest` reads the common fields; this reads the rest from the same file.
public struct VideoPackSettings: Sendable, Codable, Equatable {
    public struct Text: Sendable, Codable, Equatable {
        /// "unigram": a SentencePiece-style `piece<TAB>score` file; "bytes": UTF-8 bytes as ids.
        public var tokenizer: String
        public var file: String?
        public var sha256: String?
        public var padID: Int
        public var eosID: Int?
        public var unkID: Int?
        public var maxTokens: Int
        public var dim: Int
        public var lowercase: Bool?
        enum CodingKeys: String, CodingKey {
            case tokenizer, file, sha256, dim, lowercase
            case padID = "pad_id", eosID = "eos_id", unkID = "unk_id", maxTokens = "max_tokens"
        }
    }

    public struct Scheduler: Sendable, Codable, Equatable {
        /// Only "flow_match_euler" (rectified flow, Euler steps) for now.
        public var kind: String
        /// The family's sigma shift: sigma' = shift * s / (1 + (shift - 1) * s).
        public var shift: Double
        /// What the denoiser's timestep input is: sigma * timestep_scale (1000 for Wan and LTX, 1 for tiny).
        public var timestepScale: Double
        public var steps: Int
        public var guidance: Double
        enum CodingKeys: String, CodingKey {
            case kind, shift, steps, guidance
            case timestepScale = "timestep_scale"
        }
    }

    /// FramePack-style sections: `window` latent frames per section; `recent` frames before it at full
    /// detail; `old` slots, each the mean of `old_group` earlier frames (the model sees them coarser).
    public struct Sections: Sendable, Codable, Equatable {
        public var window: Int
        public var recent: Int
        public var old: Int
        public var oldGroup: Int
        enum CodingKeys: String, CodingKey {
            case window, recent, old
            case oldGroup = "old_group"
        }
    }

    /// Generation size: sides are multiples of `multiple`, at most `max_pixels`; or one of `sizes` exactly
    /// (packs whose TorchScript was traced at fixed shapes).
    public struct Generation: Sendable, Codable, Equatable {
        public var multiple: Int
        public var maxPixels: Int
        public var sizes: [[Int]]?
        enum CodingKeys: String, CodingKey {
            case multiple, sizes
            case maxPixels = "max_pixels"
        }
    }

    public struct VAE: Sendable, Codable, Equatable {
        /// Latent frames per decoder call.
        public var decodeChunk: Int
        /// Latent frames before a chunk decoded with it and dropped (0 for frame-wise decoders; causal
        /// decoders need a little of the past, never the future).
        public var decodeOverlap: Int
        enum CodingKeys: String, CodingKey {
            case decodeChunk = "decode_chunk"
            case decodeOverlap = "decode_overlap"
        }
    }

    /// For packs whose components were traced (torch.jit.trace) at fixed shapes: the batch the text encoder
    /// and denoiser take (2: prompt and negative prompt, even without guidance) and the latent frames the
    /// VAE decoder takes per call (chunks are padded by repeating their edge frames).
    public struct Trace: Sendable, Codable, Equatable {
        public var batch: Int?
        public var decodeFrames: Int?
        enum CodingKeys: String, CodingKey {
            case batch
            case decodeFrames = "decode_frames"
        }
    }

    public var videoInterface: Int
    public var trace: Trace?
    public var fps: Double
    public var latent: LatentGeometry
    public var text: Text
    public var scheduler: Scheduler
    public var sections: Sections
    public var generation: Generation
    public var vae: VAE

    enum CodingKeys: String, CodingKey {
        case fps, latent, text, scheduler, sections, generation, vae, trace
        case videoInterface = "video_interface"
    }

    public static let supportedInterface = 1

    /// Reads `pack.json` of an installed video pack; a message naming the missing field otherwise.
    public static func load(_ pack: ModelPack) throws(EngineFailure) -> VideoPackSettings {
        let file = pack.directory.appendingPathComponent("pack.json")
        guard pack.kind == .video else {
            throw EngineFailure("pack", "model pack '\(pack.name)' is a \(pack.kind.rawValue) pack, not a video pack: choose a video pack (`prostudio models list`)")
        }
        let settings: VideoPackSettings
        do {
            settings = try JSONDecoder().decode(VideoPackSettings.self, from: Data(contentsOf: file))
        } catch let DecodingError.keyNotFound(key, ctx) {
            let at = (ctx.codingPath + [key]).map(\.stringValue).joined(separator: ".")
            throw EngineFailure("pack", "model pack '\(pack.name)': \(file.path) lacks '\(at)', which the diffusion engine needs; re-export the pack with Tools/export")
        } catch {
            throw EngineFailure("pack", "model pack '\(pack.name)': \(file.path) is not a video pack this engine reads (\(error)); re-export the pack with Tools/export")
        }
        guard settings.videoInterface == supportedInterface else {
            throw EngineFailure("pack", "model pack '\(pack.name)' uses video interface \(settings.videoInterface); this build reads \(supportedInterface)")
        }
        var problems: [String] = []
        if settings.scheduler.kind != "flow_match_euler" { problems.append("scheduler.kind '\(settings.scheduler.kind)' is not flow_match_euler") }
        if settings.sections.window < 1 { problems.append("sections.window must be at least 1") }
        if settings.sections.recent < 0 || settings.sections.old < 0 || settings.sections.oldGroup < 1 { problems.append("sections.recent/old/old_group are invalid") }
        if settings.generation.multiple < 1 || settings.generation.maxPixels < 1 { problems.append("generation.multiple/max_pixels must be positive") }
        if settings.vae.decodeChunk < 1 || settings.vae.decodeOverlap < 0 { problems.append("vae.decode_chunk/decode_overlap are invalid") }
        if let b = settings.trace?.batch, b != 1 && b != 2 { problems.append("trace.batch must be 1 or 2") }
        if let f = settings.trace?.decodeFrames, f < settings.vae.decodeChunk + settings.vae.decodeOverlap {
            problems.append("trace.decode_frames must hold vae.decode_chunk + vae.decode_overlap frames")
        }
        if settings.latent.temporalCompression < 1 || settings.latent.spatialCompression < 1 { problems.append("latent compression must be positive") }
        if !problems.isEmpty {
            throw EngineFailure("pack", "model pack '\(pack.name)': \(problems.joined(separator: "; ")); re-export the pack")
        }
        return settings
    }
}

/// An engine-internal failure with a short code suffix; turned into `EngineError` at the engine's edge.
public struct EngineFailure: Error, Sendable, CustomStringConvertible {
    public var code: String
    public var message: String
    /// An out-of-memory while a loaded component ran (not a load refused or failed): smaller work may fit.
    public var outOfMemoryInStep = false
    public init(_ code: String, _ message: String) { self.code = code; self.message = message }
    public var description: String { message }
}
