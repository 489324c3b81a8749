import Engines
import Foundation
import TorchRuntime

/// MusicGen's delay pattern for one window: codebook k runs k frames behind codebook 0, so the frame-t token of
/// codebook k is predicted knowing codebooks < k of frame t. transformers' `build_delay_pattern_mask`, as a table.
///
/// Column t of codebook k holds: the pad token where t <= k (start) or t >= L - K + 1 + k (end), the prompt's
/// frame t - k - 1 where that frame is in the prompt, else a token to generate (-1). L = P + N + K for P prompt
/// frames and N new frames, so the window yields exactly P + N frames per codebook.
public struct DelayPattern: Sendable, Equatable {
    public let codebooks: Int
    public let promptFrames: Int
    public let newFrames: Int
    public let pad: Int
    /// K rows of L columns: the forced token, or -1 where the model chooses.
    public let forced: [[Int]]

    public init(prompt: [[Int32]], newFrames: Int, codebooks: Int, pad: Int) {
        let p = prompt.first?.count ?? 0
        let length = p + newFrames + codebooks
        self.codebooks = codebooks
        self.promptFrames = p
        self.newFrames = newFrames
        self.pad = pad
        forced = (0..<codebooks).map { k in
            (0..<length).map { t in
                if t <= k || t >= length - codebooks + 1 + k { return pad }
                let frame = t - k - 1
                return frame < p ? Int(prompt[k][frame]) : -1
            }
        }
    }

    /// Columns in the delayed sequence (what the decoder sees).
    public var length: Int { promptFrames + newFrames + codebooks }
    /// The first column to predict: every column before it is known, and is fed in one call.
    public var firstPredicted: Int { promptFrames + 1 }

    /// The window's frames (prompt then new), K rows, from the filled delayed sequence.
    public func frames(_ sequence: [[Int32]]) -> [[Int32]] {
        (0..<codebooks).map { k in Array(sequence[k][(k + 1)..<(k + 1 + promptFrames + newFrames)]) }
    }
}

/// Chooses the next token of each codebook from the decoder's logits: classifier-free guidance
/// (uncond + (cond - uncond) x guidance, transformers' ClassifierFreeGuidanceLogitsProcessor), then greedy argmax,
/// or temperature -> top-k -> top-p -> a draw from a seeded generator (transformers' warper order).
struct TokenSampler {
    let sampling: MusicSampling
    let card: Int
    var random: SeededRandom

    init(sampling: MusicSampling, card: Int) {
        self.sampling = sampling
        self.card = card
        random = SeededRandom(seed: sampling.seed)
    }

    /// logits: B x K x card (B = 2 when guided: conditional rows, then unconditional).
    mutating func choose(_ logits: [Float], codebooks: Int) -> [Int] {
        var out = [Int](repeating: 0, count: codebooks)
        var row = [Float](repeating: 0, count: card)
        let scale = Float(sampling.guidance)
        for k in 0..<codebooks {
            let cond = k * card
            if sampling.guided {
                let uncond = (codebooks + k) * card
                for i in 0..<card { row[i] = logits[uncond + i] + (logits[cond + i] - logits[uncond + i]) * scale }
            } else {
                for i in 0..<card { row[i] = logits[cond + i] }
            }
            out[k] = sampling.isGreedy ? Self.argmax(row) : draw(&row)
        }
        return out
    }

    /// The first index of the largest value (torch.argmax's choice on ties).
    static func argmax(_ row: [Float]) -> Int {
        var best = 0
        for i in 1..<row.count where row[i] > row[best] { best = i }
        return best
    }

    private mutating func draw(_ row: inout [Float]) -> Int {
        let t = Float(sampling.temperature)
        for i in row.indices { row[i] /= t }
        if sampling.topK > 0 && sampling.topK < row.count {
            // Keep every token scoring at least the k-th best (ties kept, as TopKLogitsWarper).
            let threshold = row.sorted(by: >)[sampling.topK - 1]
            for i in row.indices where row[i] < threshold { row[i] = -.infinity }
        }
        let peak = row.max() ?? 0
        var probs = row.map { $0 == -.infinity ? 0 : Double(exp($0 - peak)) }
        var sum = probs.reduce(0, +)
        for i in probs.indices { probs[i] /= sum }
        if sampling.topP > 0 && sampling.topP < 1 {
            // Drop the least likely tokens whose total is at most 1 - top_p (keep at least one).
            let order = probs.indices.sorted { probs[$0] < probs[$1] }
            var cumulative = 0.0
            for (n, i) in order.enumerated() where n < order.count - 1 {
                cumulative += probs[i]
                if cumulative <= 1 - sampling.topP { probs[i] = 0 } else { break }
            }
            sum = probs.reduce(0, +)
            for i in probs.indices { probs[i] /= sum }
        }
        let u = Double(random.next() >> 11) / Double(1 << 53)
        var acc = 0.0
        var last = 0
        for (i, p) in probs.enumerated() where p > 0 {
            acc += p
            last = i
            if u < acc { return i }
        }
        return last
    }
}

/// One window of generation on a loaded `decoder` component (see Tools/export/musicgen_ts.py: DecoderStep).
public struct CodebookGenerator {
    /// The text condition, as the decoder's `prepare` made it: cross-attention keys/values and mask, batch 1 or 2.
    public struct Condition: Sendable {
        public let crossK: Tensor
        public let crossV: Tensor
        public let crossBias: Tensor
        public let batch: Int
    }

    /// Runs the decoder's `prepare`: the conditional states, plus (guided) the unconditional half in the same batch.
    public static func condition(_ decoder: TorchModule, states: Tensor, mask: Tensor, guided: Bool) throws -> Condition {
        let out = try decoder.call("prepare", [.tensor(states), .tensor(mask), .bool(guided)])
        guard out.count == 3 else { throw MusicGenError("model", "the decoder's prepare returned \(out.count) tensors, not 3") }
        return Condition(crossK: out[0], crossV: out[1], crossBias: out[2], batch: guided ? 2 : 1)
    }

    /// Generates `newFrames` frames continuing `prompt` (K rows of P frames; empty rows for none). Returns the
    /// window's K rows of P + newFrames frames, and how many decoder calls it made. The self-attention cache is
    /// allocated once for the window and written in place, so memory does not grow with the steps.
    public static func window(_ decoder: TorchModule, condition: Condition, prompt: [[Int32]], newFrames: Int,
                              settings: MusicGenSettings, sampler: inout TokenSamplerState) throws -> (frames: [[Int32]], calls: Int) {
        let k = settings.codebooks
        let pattern = DelayPattern(prompt: prompt.allSatisfy(\.isEmpty) ? [] : prompt, newFrames: newFrames, codebooks: k,
                                   pad: settings.musicgen.padToken)
        let length = pattern.length
        var sequence = pattern.forced.map { $0.map { Int32(max($0, 0)) } }
        let cache = try decoder.call("new_cache", [.int(condition.batch), .int(length), .tensor(condition.crossK)])
        guard cache.count == 2 else { throw MusicGenError("model", "the decoder's new_cache returned \(cache.count) tensors, not 2") }
        let b = condition.batch
        var calls = 0
        func run(from start: Int, to end: Int) throws -> [Float] {
            let s = end - start
            let ids = try Tensor(shape: [b, k, s], of: Int64.self) { i in
                let col = i % s
                let cb = (i / s) % k
                return Int64(sequence[cb][start + col])
            }
            calls += 1
            let out = try decoder.forward([.tensor(ids), .int(start), .tensor(cache[0]), .tensor(cache[1]),
                                           .tensor(condition.crossK), .tensor(condition.crossV), .tensor(condition.crossBias)])
            return try out[0].scalars(as: Float.self, convert: true)  // fp16 or bf16 logits on CUDA
        }
        let first = pattern.firstPredicted
        var logits = try run(from: 0, to: first)
        for t in first..<length {
            if t > first { logits = try run(from: t - 1, to: t) }
            let chosen = sampler.sampler.choose(logits, codebooks: k)
            for cb in 0..<k {
                let f = pattern.forced[cb][t]
                sequence[cb][t] = Int32(f >= 0 ? f : chosen[cb])
            }
        }
        return (pattern.frames(sequence), calls)
    }
}

/// The sampler's state across windows (one seeded stream for the whole bed).
public struct TokenSamplerState {
    var sampler: TokenSampler
    public init(_ sampling: MusicSampling, card: Int) { sampler = TokenSampler(sampling: sampling, card: card) }
}
