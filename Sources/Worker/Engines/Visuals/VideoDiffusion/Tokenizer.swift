import Foundation

/// Text to token ids for a video pack's text encoder.
///
/// "unigram": a SentencePiece-style vocabulary written as text, one `piece<TAB>log-prob` per line (id = line
/// number). Words get the word-start mark U+2581 and are split into the pieces with the highest total
/// score (Viterbi), which is how SentencePiece's unigram model segments; characters no piece covers become
/// `unk`. (SentencePiece's NFKC normalisation is not applied; ASCII prompts are unaffected.)
/// "bytes": UTF-8 bytes are the ids.
/// Either way the ids end with `eos` (when the pack has one) and are padded with `pad` to `max_tokens`.
public struct Tokenizer: Sendable {
    public let settings: VideoPackSettings.Text
    private let pieces: [String: (id: Int, score: Double)]
    private let maxPieceLength: Int

    public init(settings: VideoPackSettings.Text, packDirectory: URL) throws(EngineFailure) {
        self.settings = settings
        switch settings.tokenizer {
        case "bytes":
            pieces = [:]
            maxPieceLength = 0
        case "unigram":
            guard let file = settings.file else { throw EngineFailure("pack", "the pack's text.tokenizer is unigram but text.file is missing") }
            let url = packDirectory.appendingPathComponent(file)
            guard let text = try? String(contentsOf: url, encoding: .utf8) else {
                throw EngineFailure("pack", "tokenizer file \(url.path) is missing or unreadable; reinstall the pack")
            }
            var table: [String: (Int, Double)] = [:]
            var longest = 1
            for (id, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
                let parts = line.split(separator: "\t", maxSplits: 1)
                let piece = String(parts[0])
                let score = parts.count > 1 ? Double(parts[1]) ?? 0 : 0
                if piece.hasPrefix("<") && piece.hasSuffix(">") { continue }  // control symbols never match text
                if table[piece] == nil { table[piece] = (id, score) }
                longest = max(longest, piece.count)
            }
            pieces = table.mapValues { (id: $0.0, score: $0.1) }
            maxPieceLength = longest
        default:
            throw EngineFailure("pack", "tokenizer '\(settings.tokenizer)' is not supported (unigram or bytes)")
        }
    }

    /// Exactly `max_tokens` ids.
    public func encode(_ text: String) -> [Int64] {
        var ids: [Int] = []
        let source = settings.lowercase == true ? text.lowercased() : text
        if settings.tokenizer == "bytes" {
            ids = source.utf8.map(Int.init)
        } else {
            for word in source.split(whereSeparator: \.isWhitespace) {
                ids += segment(Array("\u{2581}" + word))
            }
        }
        let limit = settings.maxTokens - (settings.eosID == nil ? 0 : 1)
        if ids.count > limit { ids = Array(ids.prefix(limit)) }
        if let eos = settings.eosID { ids.append(eos) }
        while ids.count < settings.maxTokens { ids.append(settings.padID) }
        return ids.map(Int64.init)
    }

    /// Viterbi: the segmentation of `chars` into known pieces with the highest summed score.
    func segment(_ chars: [Character]) -> [Int] {
        let n = chars.count
        let unkScore = -100.0
        var best = [Double](repeating: -.infinity, count: n + 1)
        var back = [(start: Int, id: Int)](repeating: (0, 0), count: n + 1)
        best[0] = 0
        for end in 1...max(1, n) where n > 0 {
            for len in 1...min(maxPieceLength, end) {
                let start = end - len
                guard best[start] > -.infinity else { continue }
                let piece = String(chars[start..<end])
                if let p = pieces[piece], best[start] + p.score > best[end] {
                    best[end] = best[start] + p.score
                    back[end] = (start, p.id)
                } else if len == 1, pieces[piece] == nil, best[start] + unkScore > best[end] {
                    best[end] = best[start] + unkScore
                    back[end] = (start, settings.unkID ?? settings.padID)
                }
            }
        }
        var out: [Int] = []
        var end = n
        while end > 0 {
            out.append(back[end].id)
            end = back[end].start
        }
        return out.reversed()
    }
}
