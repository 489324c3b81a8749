/// Deterministic input mutation: the same seed and corpus give the same inputs, so a run can be repeated.
/// SplitMix64: tiny, fast, and good enough to choose mutations (nothing here needs cryptographic randomness).
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// 0 ..< n (n > 0).
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func chance(_ oneIn: Int) -> Bool { below(oneIn) == 0 }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
}

/// What a target's inputs look like, so mutations can aim at what matters to its parser.
struct InputShape: Sendable {
    /// Text formats get token insertions and numeric token swaps more often than bit flips.
    var text: Bool
    /// Extra tokens worth inserting (field names, delimiters).
    var tokens: [String] = []
    /// Byte patterns after which a binary format keeps sizes and offsets (zip's "PK\u{1}\u{2}", its ZIP64 extra
    /// field tag): interesting integers are written near them, not only anywhere.
    var markers: [[UInt8]] = []
}

enum Mutator {
    static let maxInput = 64 << 10

    /// Integers at the edges of the widths parsers read: sign bits, all ones, one past 32 bits, 2^63.
    static let interesting: [UInt64] = [
        0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x1_0000, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFE, 0xFFFF_FFFF,
        0x1_0000_0000, 0x7FFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000, 0xFFFF_FFFF_FFFF_FFFE, 0xFFFF_FFFF_FFFF_FFFF,
    ]

    /// Numbers as text formats write them: past Int, past Double, not numbers, other bases, YAML 1.1 base 60.
    static let numberTokens = [
        "0", "-1", "-0", "1.5", "1e3", "1e999", "-1e999", "1e-999", ".nan", ".inf", "-.inf", "NaN", "Infinity",
        "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
        "18446744073709551615", "18446744073709551616", "4294967295", "4294967296", "2147483648", "9007199254740993",
        "1.7976931348623157e308", "5e-324", "0x7FFFFFFFFFFFFFFF", "0xFFFFFFFFFFFFFFFFF", "0o7777777777777777777777",
        "1:2:3:4:5:6:7:8:9:10:11:12", "99999999999:99999999999", "1_000", "77777777777", "777777777777777777777777",
        "99999999999999999999999999999999999999", "3840", "65536",
    ]

    static let textTokens = [
        "\n", "\r\n", ": ", "- ", "[", "]", "{", "}", ", ", "\"", "'", "&a ", "*a", "!!str ", "!!int ", "!!float ", "!!binary ",
        "? ", "|\n  ", ">-\n  ", "# ", "---\n", "...\n", "<<: *a\n", "\\u0000", "\\x85", "\t", "\u{FEFF}", "\u{85}", "é", "𝄞",
        "null", "true", "~", "  ", "%YAML 1.1\n", "%TAG ! tag:x,2000:\n",
    ]

    static func mutate(_ base: [UInt8], shape: InputShape, corpus: [[UInt8]], rng: inout SplitMix64) -> [UInt8] {
        var b = base
        let rounds = 1 + rng.below(4)
        for _ in 0..<rounds { once(&b, shape: shape, corpus: corpus, rng: &rng) }
        if b.count > maxInput { b.removeLast(b.count - maxInput) }
        return b
    }

    private static func once(_ b: inout [UInt8], shape: InputShape, corpus: [[UInt8]], rng: inout SplitMix64) {
        let textOps = shape.text ? 6 : 2
        switch rng.below(10 + textOps) {
        case _ where b.isEmpty:
            b = Array(rng.pick(numberTokens).utf8)
        case 0:  // flip a bit
            b[rng.below(b.count)] ^= 1 << UInt8(rng.below(8))
        case 1:  // a random byte
            b[rng.below(b.count)] = UInt8(truncatingIfNeeded: rng.next())
        case 2:  // insert random bytes
            let n = 1 + rng.below(8)
            b.insert(contentsOf: (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: rng.below(b.count + 1))
        case 3:  // delete a range
            guard b.count > 1 else { return }
            let at = rng.below(b.count), n = 1 + rng.below(min(64, b.count - at))
            b.removeSubrange(at..<(at + n))
        case 4:  // duplicate a range
            guard !b.isEmpty else { return }
            let at = rng.below(b.count), n = 1 + rng.below(min(128, b.count - at))
            b.insert(contentsOf: b[at..<(at + n)], at: rng.below(b.count + 1))
        case 5:  // splice: this input's head, another's tail
            guard let other = corpus.isEmpty ? nil : rng.pick(corpus), !other.isEmpty else { return }
            let cut = rng.below(b.count + 1), from = rng.below(other.count)
            b = Array(b[..<cut]) + other[from...]
        case 6:  // a chunk of another input, inserted
            guard let other = corpus.isEmpty ? nil : rng.pick(corpus), !other.isEmpty else { return }
            let at = rng.below(other.count), n = 1 + rng.below(min(256, other.count - at))
            b.insert(contentsOf: other[at..<(at + n)], at: rng.below(b.count + 1))
        case 7:  // small arithmetic on a byte
            guard !b.isEmpty else { return }
            let i = rng.below(b.count)
            b[i] = rng.chance(2) ? b[i] &+ UInt8(1 + rng.below(16)) : b[i] &- UInt8(1 + rng.below(16))
        case 8, 9:  // an interesting integer, anywhere or just after a marker
            writeInteresting(&b, near: rng.chance(2) ? markerOffset(b, shape.markers, &rng) : nil, rng: &rng)
        case 10, 11, 12:  // a number token in place of a number
            replaceNumber(&b, rng: &rng)
        default:  // a token inserted
            let token = rng.chance(3) && !shape.tokens.isEmpty ? rng.pick(shape.tokens)
                : rng.chance(2) ? rng.pick(textTokens) : rng.pick(numberTokens)
            b.insert(contentsOf: Array(token.utf8), at: rng.below(b.count + 1))
        }
    }

    private static func markerOffset(_ b: [UInt8], _ markers: [[UInt8]], _ rng: inout SplitMix64) -> Int? {
        guard !markers.isEmpty else { return nil }
        let marker = rng.pick(markers)
        var hits: [Int] = []
        var i = 0
        while i + marker.count <= b.count {
            if b[i] == marker[0] && Array(b[i..<(i + marker.count)]) == marker { hits.append(i) }
            i += 1
        }
        guard !hits.isEmpty else { return nil }
        return rng.pick(hits) + marker.count + rng.below(48)
    }

    private static func writeInteresting(_ b: inout [UInt8], near: Int?, rng: inout SplitMix64) {
        let width = rng.pick([1, 2, 4, 8, 8])
        guard b.count >= width else { return }
        var value = rng.pick(interesting)
        if rng.chance(4) { value = 0 &- value }  // and their negatives
        let at = min(near ?? rng.below(b.count - width + 1), b.count - width)
        let bigEndian = rng.chance(3)
        for k in 0..<width {
            let shift = UInt64(bigEndian ? (width - 1 - k) * 8 : k * 8)
            b[at + k] = UInt8(truncatingIfNeeded: value >> shift)
        }
    }

    /// Swaps one run of digits (with its sign, point, exponent, base-60 colons) for a number token.
    private static func replaceNumber(_ b: inout [UInt8], rng: inout SplitMix64) {
        func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
        func inNumber(_ c: UInt8) -> Bool { isDigit(c) || "+-.eExXoO_:abcdefABCDEF".utf8.contains(c) }
        var runs: [Range<Int>] = []
        var i = 0
        while i < b.count {
            if isDigit(b[i]) {
                var start = i
                if start > 0 && (b[start - 1] == UInt8(ascii: "-") || b[start - 1] == UInt8(ascii: ".")) { start -= 1 }
                var end = i
                while end < b.count && inNumber(b[end]) { end += 1 }
                runs.append(start..<end)
                i = end
            } else {
                i += 1
            }
        }
        let token = Array(rng.pick(numberTokens).utf8)
        if runs.isEmpty {
            b.insert(contentsOf: token, at: rng.below(b.count + 1))
        } else {
            b.replaceSubrange(rng.pick(runs), with: token)
        }
    }
}
