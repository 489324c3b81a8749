import Engines
import Foundation

/// Sentences, model-sized pieces and the joined narration for the Kokoro voice.
public enum KokoroText {
    /// A word of a piece and the ids it spans (indices into the piece's ids, pads included).
    public struct Word: Sendable, Equatable {
        public var text: String
        public var ids: Range<Int>
    }

    /// What one model call speaks: `[0] + phoneme ids + [0]` and the words they say.
    public struct Piece: Sendable, Equatable {
        public var ids: [Int]
        public var phonemes: String
        public var words: [Word]
    }

    // A sentence ends at . ! ? followed by white space or the end, or at Japanese 。！？ (no space needed).
    nonisolated(unsafe) private static let sentenceEnd = try! NSRegularExpression(pattern: #"(?:[.!?]+["'”’)\]]*(?=\s|$)|[。！？]+[」』）]*)"#)

    public static func sentences(_ text: String) -> [String] {
        let ns = text as NSString
        var out: [String] = []
        var pos = 0
        for m in sentenceEnd.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
            let end = m.range.location + m.range.length
            let s = ns.substring(with: NSRange(location: pos, length: end - pos)).trimmingCharacters(in: .whitespacesAndNewlines)
            if !s.isEmpty { out.append(s) }
            pos = end
        }
        let rest = ns.substring(from: pos).trimmingCharacters(in: .whitespacesAndNewlines)
        if !rest.isEmpty { out.append(rest) }
        return out
    }

    /// Words → pieces of at most `maxIds` ids (pads included). Phonemes not in the vocabulary are dropped. A
    /// piece that would overflow is closed at the last word that ends with punctuation, else at the last word.
    public static func pieces(words: [KokoroWord], separator: String, vocab: [String: Int], maxIds: Int) -> [Piece] {
        func ids(_ s: String) -> [Int] { s.unicodeScalars.compactMap { vocab[String($0)] } }
        let sepIds = ids(separator)
        var out: [Piece] = []
        var cur: [(KokoroWord, [Int])] = []

        func close(_ items: [(KokoroWord, [Int])]) {
            guard !items.isEmpty else { return }
            var all = [0]
            var phonemes = ""
            var ws: [Word] = []
            for (k, (w, wid)) in items.enumerated() {
                if k > 0 { all += sepIds; phonemes += separator }
                ws.append(Word(text: w.text, ids: all.count..<(all.count + wid.count)))
                all += wid
                phonemes += w.phonemes
            }
            all.append(0)
            out.append(Piece(ids: all, phonemes: phonemes, words: ws))
        }
        func length(_ items: [(KokoroWord, [Int])]) -> Int {
            items.reduce(2) { $0 + $1.1.count } + max(0, items.count - 1) * sepIds.count
        }

        for w in words {
            var wid = ids(w.phonemes)
            if wid.count > maxIds - 2 { wid = Array(wid.prefix(maxIds - 2)) }  // one "word" longer than the model: cut
            if length(cur + [(w, wid)]) > maxIds {
                let cut = cur.lastIndex { ",.!?;:、。".contains($0.0.text.last ?? " ") }.map { $0 + 1 } ?? cur.count
                close(Array(cur[..<cut]))
                cur = Array(cur[cut...])
            }
            cur.append((w, wid))
        }
        close(cur)
        return out.filter { $0.ids.count > 2 }
    }

    /// Pieces end to end with a pause between them and faded edges; words placed by the frames before them.
    public struct Joiner: Sendable {
        public let sampleRate: Int
        public let samplesPerFrame: Int
        public let pause: Double
        public let fade: Double
        public let gain: Float
        public private(set) var samples: [Float] = []
        public private(set) var words: [Narration.Word] = []

        public init(sampleRate: Int, samplesPerFrame: Int, pause: Double, fade: Double, gain: Float) {
            self.sampleRate = sampleRate; self.samplesPerFrame = samplesPerFrame; self.pause = pause; self.fade = fade; self.gain = gain
        }

        /// Silence kept before and after each piece's speech. Kokoro pads a sentence with ~0.28 s before and
        /// ~0.7 s after (its pad ids and the final stop's duration); joined as they come, two sentences of one
        /// scene sat 1.3 s apart. Trimmed to these, the gap is 0.5 s with the pause.
        public static let keptLead = 0.05, keptTail = 0.15

        /// The part of `audio` to keep: its speech (samples above -40 dB of the piece's peak) with at most
        /// `keptLead` / `keptTail` of what surrounds it.
        static func speechSpan(_ audio: [Float], sampleRate: Int) -> Range<Int> {
            let peak = audio.reduce(Float(0)) { max($0, abs($1)) }
            guard peak > 0 else { return 0..<audio.count }
            let threshold = peak * 0.01
            guard let first = audio.firstIndex(where: { abs($0) > threshold }),
                  let last = audio.lastIndex(where: { abs($0) > threshold }) else { return 0..<audio.count }
            let lo = max(0, first - Int(keptLead * Double(sampleRate)))
            let hi = min(audio.count, last + 1 + Int(keptTail * Double(sampleRate)))
            return lo..<hi
        }

        public mutating func append(_ piece: Piece, audio whole: [Float], durations: [Int]) {
            if !samples.isEmpty { samples += [Float](repeating: 0, count: Int(pause * Double(sampleRate))) }
            let span = Self.speechSpan(whole, sampleRate: sampleRate)
            let audio = whole[span]
            let shift = Double(span.lowerBound) / Double(sampleRate)
            let offset = Double(samples.count) / Double(sampleRate)
            let n = audio.count
            let f = max(1, Int(fade * Double(sampleRate)))
            samples.reserveCapacity(samples.count + n)
            for (i, x) in audio.enumerated() {
                var g = gain
                if i < f { g *= Float(i) / Float(f) }
                if n - 1 - i < f { g *= Float(n - 1 - i) / Float(f) }
                samples.append(max(-1, min(1, x * g)))
            }
            var before = [0]
            for d in durations { before.append(before.last! + d) }
            let frame = Double(samplesPerFrame) / Double(sampleRate)
            let total = Double(n) / Double(sampleRate)
            for w in piece.words where !w.text.isEmpty {
                let lo = min(w.ids.lowerBound, before.count - 1), hi = min(w.ids.upperBound, before.count - 1)
                let start = offset + min(max(Double(before[lo]) * frame - shift, 0), total)
                let end = offset + min(max(Double(before[hi]) * frame - shift, 0), total)
                words.append(Narration.Word(text: w.text, start: start, end: max(start, end)))
            }
        }

        public var narration: Narration { Narration(sampleRate: sampleRate, samples: samples, words: words) }
    }
}
