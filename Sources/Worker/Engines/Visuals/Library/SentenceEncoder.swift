import Foundation
import TorchRuntime

/// What the library engine can get wrong, told with the field or file a person has to fix.
public struct LibraryError: Error, Sendable, CustomStringConvertible, Equatable {
    public let code: String
    public let message: String
    public let field: String?
    public init(_ code: String, _ message: String, field: String? = nil) { self.code = code; self.message = message; self.field = field }
    public var description: String { field.map { "\($0): \(message)" } ?? message }
}

/// An embedding pack's own fields in pack.json (install-minilm writes them).
public struct EmbeddingPackConfig: Sendable, Decodable, Equatable {
    public struct Tokenizer: Sendable, Decodable, Equatable {
        public var type: String
        public var vocab: String
        public var settings: WordPieceTokenizer.Settings
        enum CodingKeys: String, CodingKey { case type, vocab }
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            type = try c.decode(String.self, forKey: .type)
            vocab = try c.decode(String.self, forKey: .vocab)
            settings = try WordPieceTokenizer.Settings(from: decoder)
        }
    }
    public var dimension: Int
    public var pooling: String
    public var normalize: Bool
    public var maxTokens: Int
    public var tokenizer: Tokenizer
    enum CodingKeys: String, CodingKey { case dimension, pooling, normalize, maxTokens = "max_tokens", tokenizer }
}

/// all-MiniLM-L6-v2 (or any BERT sentence encoder in an embedding pack): WordPiece in Swift, the encoder in
/// libtorch, mean pooling over real tokens and L2 normalisation here, as pack.json says.
public struct SentenceEncoder: Sendable {
    public static let component = "encoder"
    public static let defaultPack = "minilm-l6-v2"

    public let pack: ModelPack
    public let config: EmbeddingPackConfig
    public let tokenizer: WordPieceTokenizer
    public var dimension: Int { config.dimension }

    /// The pack named `name` in `store`, checked for what this encoder needs. `field` names where the pack was asked for.
    public init(store: ModelStore, name: String = SentenceEncoder.defaultPack, field: String = "visuals.pack") throws(LibraryError) {
        let pack: ModelPack
        do { pack = try store.pack(named: name) } catch {
            throw LibraryError("visuals.pack_missing", "\(error); install it with `prostudio models install minilm-l6-v2 --models \(store.root.path)`", field: field)
        }
        try self.init(pack: pack, field: field)
    }

    public init(pack: ModelPack, field: String = "visuals.pack") throws(LibraryError) {
        guard pack.kind == .embedding else {
            throw LibraryError("visuals.pack_kind", "model pack '\(pack.name)' is a \(pack.kind.rawValue) pack, not an embedding pack " +
                               "(install one with Tools/export/install-minilm DIR)", field: field)
        }
        let config: EmbeddingPackConfig
        do { config = try JSONDecoder().decode(EmbeddingPackConfig.self, from: pack.json) } catch {
            throw LibraryError("visuals.pack_invalid", "model pack '\(pack.name)': pack.json lacks the embedding fields " +
                               "(dimension, pooling, normalize, max_tokens, tokenizer): \(error); re-run Tools/export/install-minilm", field: field)
        }
        guard config.pooling == "mean", config.tokenizer.type == "wordpiece" else {
            throw LibraryError("visuals.pack_invalid", "model pack '\(pack.name)': pooling '\(config.pooling)' with a '\(config.tokenizer.type)' " +
                               "tokenizer is not supported (mean pooling, wordpiece)", field: field)
        }
        let vocabURL = pack.directory.appendingPathComponent(config.tokenizer.vocab)
        do { tokenizer = try WordPieceTokenizer(vocabFile: vocabURL, settings: config.tokenizer.settings) } catch {
            throw LibraryError("visuals.pack_invalid", "model pack '\(pack.name)': \(error); re-run Tools/export/install-minilm", field: field)
        }
        self.pack = pack
        self.config = config
    }

    /// Loads the encoder straight from the pack (the CLI and benches; the engine goes through the model manager).
    public func loadModule(device: Device = .cpu) throws -> TorchModule {
        let (_, url) = try pack.component(Self.component)
        return try TorchModule(path: url.path, device: device, dtype: pack.dtype(on: device))
    }

    /// Unit-length embeddings of `texts`, in order, as one row-major matrix (`texts.count` x `dimension`).
    /// Texts are batched by length (little padding), as sentence-transformers does.
    public func embed(_ texts: [String], module: TorchModule, batchSize: Int = 32) throws -> [Float] {
        let dim = config.dimension
        var out = [Float](repeating: 0, count: texts.count * dim)
        let encoded = texts.map { tokenizer.encode($0, maxTokens: config.maxTokens) }
        let order = encoded.indices.sorted { encoded[$0].count > encoded[$1].count }
        var start = 0
        while start < order.count {
            let rows = Array(order[start..<min(order.count, start + batchSize)])
            start += rows.count
            let t = rows.map { encoded[$0].count }.max() ?? 2
            var ids = [Int64](repeating: Int64(tokenizer.padID), count: rows.count * t)
            var mask = [Int64](repeating: 0, count: rows.count * t)
            for (r, i) in rows.enumerated() {
                for (j, id) in encoded[i].enumerated() { ids[r * t + j] = Int64(id); mask[r * t + j] = 1 }
            }
            let hidden = try module.forward(.tensor(Tensor(ids, shape: [rows.count, t])), .tensor(Tensor(mask, shape: [rows.count, t])))
            guard let h = hidden.first, h.shape == [rows.count, t, dim] else {
                throw LibraryError("visuals.model_failed", "the encoder of pack '\(pack.name)' returned \(hidden.first?.shape ?? []), expected [\(rows.count), \(t), \(dim)]")
            }
            let values = try h.scalars(as: Float.self, convert: true)
            values.withUnsafeBufferPointer { v in
                out.withUnsafeMutableBufferPointer { o in
                    for (r, i) in rows.enumerated() {
                        let n = encoded[i].count  // real tokens come first: mean over them only
                        let dst = o.baseAddress! + i * dim
                        for j in 0..<n {
                            let src = v.baseAddress! + (r * t + j) * dim
                            for k in 0..<dim { dst[k] += src[k] }
                        }
                        var norm: Float = 0
                        for k in 0..<dim { dst[k] /= Float(n); norm += dst[k] * dst[k] }
                        if config.normalize {
                            let scale = 1 / max(norm.squareRoot(), 1e-12)
                            for k in 0..<dim { dst[k] *= scale }
                        }
                    }
                }
            }
        }
        return out
    }
}

extension TorchModule {
    fileprivate func forward(_ a: TorchValue, _ b: TorchValue) throws -> [Tensor] { try forward([a, b]) }
}
