/// The words a voice is given for a narration, with the way back to the script: every spoken character knows
/// the script character it came from, so the voice's word times land on the script's own words and captions
/// keep the script's characters ("$2.50" on screen, "two dollars and fifty cents" spoken).
public struct SpokenText: Sendable, Equatable {
    /// A stretch of the spoken text and the stretch of the script it stands for, both in Unicode scalars.
    /// `copied` stretches are the script's own characters (offsets map one to one); the others were rewritten
    /// and every spoken offset inside maps to where the script's stretch starts.
    public struct Piece: Sendable, Equatable {
        public var spoken: Range<Int>
        public var script: Range<Int>
        public var copied: Bool
    }

    public let text: String
    public let pieces: [Piece]

    /// The script as it is (a language without rules, or a script with nothing to rewrite).
    public init(unchanged script: String) {
        text = script
        let n = script.unicodeScalars.count
        pieces = n == 0 ? [] : [Piece(spoken: 0..<n, script: 0..<n, copied: true)]
    }

    init(text: String, pieces: [Piece]) { self.text = text; self.pieces = pieces }

    /// Where in the script the spoken character at `offset` came from.
    public func scriptOffset(ofSpoken offset: Int) -> Int {
        var lo = 0, hi = pieces.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if pieces[mid].spoken.upperBound <= offset { lo = mid + 1 } else { hi = mid }
        }
        guard lo < pieces.count else { return pieces.last?.script.upperBound ?? 0 }
        let p = pieces[lo]
        guard offset >= p.spoken.lowerBound else { return p.script.lowerBound }
        return p.copied ? min(p.script.lowerBound + (offset - p.spoken.lowerBound), p.script.upperBound) : p.script.lowerBound
    }
}

/// Builds a `SpokenText` stretch by stretch.
struct SpokenBuilder {
    private(set) var scalars: [Unicode.Scalar] = []
    private(set) var pieces: [SpokenText.Piece] = []

    mutating func copy(_ s: Substring.UnicodeScalarView, at script: Int) {
        guard !s.isEmpty else { return }
        let start = scalars.count
        scalars.append(contentsOf: s)
        let n = scalars.count - start
        if let last = pieces.last, last.copied, last.spoken.upperBound == start, last.script.upperBound == script {
            pieces[pieces.count - 1] = .init(spoken: last.spoken.lowerBound..<scalars.count, script: last.script.lowerBound..<script + n, copied: true)
        } else {
            pieces.append(.init(spoken: start..<scalars.count, script: script..<script + n, copied: true))
        }
    }

    mutating func replace(_ script: Range<Int>, with spoken: String) {
        let start = scalars.count
        scalars.append(contentsOf: spoken.unicodeScalars)
        pieces.append(.init(spoken: start..<scalars.count, script: script, copied: false))
    }

    var result: SpokenText {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return SpokenText(text: String(view), pieces: pieces)
    }
}
