import Foundation

/// How many keys and values a manifest holds, counted on its bytes before any tree is built. Parsing builds three
/// trees (Foundation's for the JSON syntax check, Yams' nodes, then `DocNode`), and Yams' own bookkeeping for one
/// mapping of 190,000 keys took the supervisor from 36 MB to 144 MB for a 2.5 MB file it then refused. Counting
/// first bounds that memory by the limit, not by the file.
///
/// The limit: a 500-scene manifest (the most scenes allowed) with 15 fields a scene holds about 15,000 keys and
/// values; with every field of every scene and its visuals, voice and sfx sections set, about 42,000 (none is
/// written like that). 100,000 was too many: what a document just under the limit makes Yams build, measured in
/// the supervisor (36 MB idle), is at worst 80 MB for 50,000 bare keys of a flow mapping (`{k0, k1, ...}`, keys
/// long enough to fill the 4 MiB cap), 64 MB for 25,000 such keys in JSON; twice as many kept it over 100 MB.
enum StructureCount {
    static let limit = 50_000

    /// Exact for JSON: every string (key or value), number, literal and container is one.
    static func json<C: Collection>(_ bytes: C) -> Int where C.Element == UInt8 {
        var count = 0
        var inString = false
        var escaped = false
        var inWord = false
        for b in bytes {
            if inString {
                if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == UInt8(ascii: "\"") { inString = false }
                continue
            }
            let word = isWordByte(b)
            if word && !inWord { count += 1 }
            inWord = word
            if b == UInt8(ascii: "\"") { count += 1; inString = true }
            if b == UInt8(ascii: "{") || b == UInt8(ascii: "[") { count += 1 }
        }
        return count
    }

    /// Numbers and literals (`-1.5e3`, `true`): one run of these bytes is one value.
    private static func isWordByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
            || b == UInt8(ascii: "-") || b == UInt8(ascii: "+") || b == UInt8(ascii: ".")
    }

    /// For YAML, an estimate that errs high: only libyaml knows YAML's structure exactly (Yams keeps it internal),
    /// and a scanner that skipped quoted text could be fooled into skipping real structure. So nothing is skipped
    /// but what cannot hold structure: whole-line comments, the body of a block scalar (`|`, `>`; lines indented
    /// past the key that opened it), and a line that is one key and one single-line quoted value. Each `: ` counts
    /// a key and its value, each `- ` an item, each `[`/`{` a collection and its first item, each `,` an item, so a
    /// comma in unquoted prose counts too (500 narrations of 5,000 characters with a comma every 60 count 33,500
    /// in all; quoted or as block scalars, 11,500).
    static func yaml<C: Collection>(_ bytes: C) -> Int where C.Element == UInt8 {
        var count = 1
        var blockParent: Int?        // the column a block scalar's lines must be indented past
        var line: [UInt8] = []
        line.reserveCapacity(256)
        func endLine() {
            defer { line.removeAll(keepingCapacity: true) }
            let indent = line.prefix { $0 == 0x20 }.count
            let blank = line.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
            if let parent = blockParent {
                if blank || indent > parent { return }
                blockParent = nil
            }
            if blank || line[indent] == UInt8(ascii: "#") { return }
            let (n, opens) = countLine(line, from: indent)
            count += n
            blockParent = opens
        }
        for b in bytes {
            if b == 0x0A { endLine() } else { line.append(b) }
        }
        if !line.isEmpty { endLine() }
        return count
    }

    /// One line's count, and the column a block scalar it opens must be indented past (nil when it opens none).
    private static func countLine(_ line: [UInt8], from start: Int) -> (Int, Int?) {
        let space = UInt8(ascii: " "), dash = UInt8(ascii: "-"), colon = UInt8(ascii: ":")
        var count = 0
        var i = start
        // Leading `- ` items: each is one; what follows starts at `keyStart`.
        while i + 1 < line.count, line[i] == dash, line[i + 1] == space || line[i + 1] == 0x09 {
            count += 1
            i += 2
            while i < line.count, line[i] == space { i += 1 }
        }
        if i + 1 == line.count, line[i] == dash { return (count + 1, nil) }   // a lone `-`: an empty item
        let keyStart = i
        if let value = quotedValue(line, keyStart) { return (count + value, nil) }
        for j in keyStart..<line.count {
            let b = line[j]
            let next: UInt8 = j + 1 < line.count ? line[j + 1] : 0x0A
            switch b {
            case colon where next == space || next == 0x09 || next == 0x0A || next == 0x0D || "[]{},\"".utf8.contains(next)
                || (j > 0 && (line[j - 1] == UInt8(ascii: "\"") || line[j - 1] == UInt8(ascii: "'"))):
                count += 2
            case UInt8(ascii: "["), UInt8(ascii: "{"): count += 2
            case UInt8(ascii: ","): count += 1
            case dash where (next == space || next == 0x09) && j > keyStart && line[j - 1] == space: count += 1
            default: break
            }
        }
        return (count, blockScalarParent(line, keyStart: keyStart, itemColumn: start))
    }

    /// `key: "one line"` or `- 'one line'` (after the items): 2 or 1, the commas inside not counted. Nil when the
    /// line is anything else: the key must be plain (no quote, colon or `#`) and the value must close on this line.
    private static func quotedValue(_ line: [UInt8], _ start: Int) -> Int? {
        var i = start
        var n = 1
        if let q = line[i...].firstIndex(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "'") }), q > start {
            guard q >= start + 3, line[q - 1] == UInt8(ascii: " "), line[q - 2] == UInt8(ascii: ":") else { return nil }
            guard !line[start..<(q - 2)].contains(where: { "\"'#:{}[],&*!|>%@`".utf8.contains($0) }) else { return nil }
            i = q
            n = 2
        }
        guard i < line.count else { return nil }
        let quote = line[i]
        guard quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") else { return nil }
        var j = i + 1
        while j < line.count {
            let b = line[j]
            if quote == UInt8(ascii: "\"") && b == UInt8(ascii: "\\") { j += 2; continue }
            if b == quote {
                if quote == UInt8(ascii: "'") && j + 1 < line.count && line[j + 1] == quote { j += 2; continue }
                // The value closed: only spaces may follow, else this is not the simple line it looked like.
                return line[(j + 1)...].allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D } ? n : nil
            }
            j += 1
        }
        return nil
    }

    /// A line ending in a block scalar header (`key: |`, `- >-`, `key: |2 # note`) opens one whose body is the
    /// lines indented past the key (or the `-`). The key's column is libyaml's own indent for that mapping.
    private static func blockScalarParent(_ line: [UInt8], keyStart: Int, itemColumn: Int) -> Int? {
        var end = line.count
        if let hash = line.indices.dropFirst().first(where: { line[$0] == UInt8(ascii: "#") && line[$0 - 1] == 0x20 }) { end = hash }
        while end > 0, line[end - 1] == 0x20 || line[end - 1] == 0x09 || line[end - 1] == 0x0D { end -= 1 }
        var h = end
        while h > 0, "+-123456789".utf8.contains(line[h - 1]) { h -= 1 }
        guard h > 0, line[h - 1] == UInt8(ascii: "|") || line[h - 1] == UInt8(ascii: ">") else { return nil }
        let indicator = h - 1
        guard indicator == 0 || line[indicator - 1] == 0x20 else { return nil }
        // The key's column when there is a key before it; else the last `-`; else the header's own column.
        let before = line[keyStart..<indicator]
        if before.contains(UInt8(ascii: ":")) { return keyStart }
        if keyStart > itemColumn { return keyStart - 2 }
        return indicator
    }
}
