import Foundation
import TorchRuntime

/// Decodes codes to audio a chunk at a time, so memory does not grow with the bed: each call decodes
/// `chunk` frames, consecutive chunks share `overlap` frames, and the shared part is crossfaded (equal power)
/// so the codec's edge effects (its convolutions and LSTM see a cut) do not click. One chunk when the codes fit.
public struct ChunkedCodec: Sendable {
    public let chunkFrames: Int
    public let overlapFrames: Int
    public let hop: Int
    public let codebooks: Int

    public init(chunkFrames: Int, overlapFrames: Int, hop: Int, codebooks: Int) {
        self.chunkFrames = chunkFrames; self.overlapFrames = overlapFrames; self.hop = hop; self.codebooks = codebooks
    }

    /// Calls `emit` with consecutive blocks of audio (codec rate, mono) covering frames.count x hop samples.
    public func decode(_ module: TorchModule, frames: [[Int32]], emit: ([Float]) throws -> Void) throws {
        let total = frames.first?.count ?? 0
        guard total > 0 else { return }
        let stride = chunkFrames - overlapFrames
        var start = 0
        var pending: [Float] = []  // the previous chunk's overlap tail, to crossfade into this chunk's head
        while start < total {
            let end = min(total, start + chunkFrames)
            let n = end - start
            let codes = try Tensor(shape: [1, codebooks, n], of: Int64.self) { i in Int64(frames[i / n][start + i % n]) }
            var audio = try module.forward([.tensor(codes)])[0].scalars(as: Float.self, convert: true)  // fp16 on CUDA
            let fade = min(pending.count, audio.count)
            for i in 0..<fade {
                let x = (Double(i) + 0.5) / Double(fade)
                audio[i] = Float(sin(x * .pi / 2)) * audio[i] + Float(cos(x * .pi / 2)) * pending[i]
            }
            let last = end >= total
            let keep = last ? audio.count : min(audio.count, (stride) * hop)
            try emit(Array(audio[0..<keep]))
            pending = last ? [] : Array(audio[keep...])
            if last { break }
            start += stride
        }
    }
}

/// Band-limited rational resampling (windowed sinc, polyphase), streaming: feed blocks in, get blocks out, with
/// no seam between blocks. 32 kHz -> 48 kHz is 3/2: three phases of 32 taps.
public struct StreamingResampler: Sendable {
    public let inputRate: Int
    public let outputRate: Int
    private let up: Int
    private let down: Int
    private let half: Int
    private let table: [[Float]]  // [phase][tap]
    private var buffer: [Float]
    /// Input index (in `buffer`) and phase of the next output sample: position = base + phase / up.
    private var base: Int
    private var phase: Int
    private var consumed: Int = 0

    public init(from inputRate: Int, to outputRate: Int, halfWidth: Int = 16) {
        func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
        let g = gcd(inputRate, outputRate)
        self.inputRate = inputRate
        self.outputRate = outputRate
        up = outputRate / g
        down = inputRate / g
        half = halfWidth
        // Cutoff just under the lower Nyquist; Blackman window.
        let cutoff = 0.95 * min(1.0, Double(outputRate) / Double(inputRate))
        var t: [[Float]] = []
        for p in 0..<up {
            let frac = Double(p) / Double(up)
            var row: [Float] = []
            for j in (-halfWidth + 1)...halfWidth {
                let x = Double(j) - frac  // tap j sits at input base + j; the output at base + frac
                let s = x == 0 ? 1.0 : sin(.pi * cutoff * x) / (.pi * cutoff * x)
                let w = 0.42 + 0.5 * cos(.pi * x / Double(halfWidth)) + 0.08 * cos(2 * .pi * x / Double(halfWidth))
                row.append(Float(cutoff * s * max(0, w)))
            }
            t.append(row)
        }
        table = t
        buffer = [Float](repeating: 0, count: halfWidth - 1)  // silence before the start
        base = halfWidth - 1
        phase = 0
    }

    /// Resamples the next block; returns the outputs whose taps are all available.
    public mutating func process(_ input: [Float]) -> [Float] {
        if up == down { return input }
        buffer.append(contentsOf: input)
        var out: [Float] = []
        out.reserveCapacity(input.count * up / down + 2)
        while base + half < buffer.count {
            let row = table[phase]
            var acc: Float = 0
            let start = base - half + 1
            buffer.withUnsafeBufferPointer { b in
                row.withUnsafeBufferPointer { r in
                    for j in 0..<r.count { acc += b[start + j] * r[j] }
                }
            }
            out.append(acc)
            phase += down
            base += phase / up
            phase %= up
        }
        // Drop what no later output needs.
        let drop = base - half + 1
        if drop > 0 {
            buffer.removeFirst(drop)
            base -= drop
        }
        return out
    }

    /// The outputs still held back, with silence after the end.
    public mutating func finish() -> [Float] {
        process([Float](repeating: 0, count: half + 1))
    }
}
