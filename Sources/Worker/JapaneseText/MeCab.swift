import CMeCab
import Foundation

/// Why Japanese text could not be read.
public enum JapaneseTextError: Error, CustomStringConvertible, Equatable {
    case dictionaryMissing(path: String)
    case mecabFailed(String)
    case resourceMissing(String)

    public var description: String {
        switch self {
        case .dictionaryMissing(let path):
            return "Japanese dictionary not found at \(path) (sys.dic expected there): install the Debian packages "
                + "open-jtalk-mecab-naist-jdic and libmecab2 (apt-get install open-jtalk-mecab-naist-jdic libmecab2), "
                + "or point PROSTUDIO_JA_DICT at a MeCab dictionary folder with Open JTalk's features"
        case .mecabFailed(let why): return "MeCab failed: \(why)"
        case .resourceMissing(let name):
            return "JapaneseText's word list \(name) is missing: install Sources/Worker/JapaneseText/Resources/ja_words.txt as "
                + "/usr/share/prostudio/ja_words.txt (systemd/README.md) or point PROSTUDIO_JA_WORDS at it"
        }
    }
}

/// One MeCab morpheme: its bytes in the UTF-8 text given to MeCab, and the dictionary's features.
struct Morpheme {
    var bytes: Range<Int>
    var surface: String
    var features: [Substring]
    /// Open JTalk's naist-jdic: pos, pos1-3, conjugation type/form, base, reading, pronunciation, accent, chain.
    var pos: String { features.first.map(String.init) ?? "" }
    var pronunciation: String? {
        guard features.count > 8, features[8] != "*" else { return nil }
        return String(features[8])
    }
}

/// MeCab over Open JTalk's naist-jdic (the dictionary pyopenjtalk reads), the one place libmecab is called.
/// The tagger is not thread-safe, so every parse holds the lock; it owns its pointer for its whole life.
final class MeCab: @unchecked Sendable {
    // @unchecked: `tagger` is only touched under `lock` (and in deinit, when no one else can hold a reference).
    private let tagger: OpaquePointer
    private let lock = NSLock()

    static let debianDictionary = "/var/lib/mecab/dic/open-jtalk/naist-jdic"

    init(dictionary: String? = nil) throws {
        let dir = dictionary ?? ProcessInfo.processInfo.environment["PROSTUDIO_JA_DICT"].flatMap { $0.isEmpty ? nil : $0 }
            ?? Self.debianDictionary
        guard FileManager.default.fileExists(atPath: dir + "/sys.dic") else { throw JapaneseTextError.dictionaryMissing(path: dir) }
        // Debian ships the Open JTalk dictionary without the dicrc that libmecab insists on (Open JTalk's own
        // MeCab does not read one), and the folder belongs to the package: give libmecab a private folder of
        // links to the dictionary's files next to a dicrc of ours.
        let fm = FileManager.default
        let scratch = fm.temporaryDirectory.appendingPathComponent("prostudio-jdic-\(getpid())-\(UUID().uuidString.prefix(8))")
        try fm.createDirectory(at: scratch, withIntermediateDirectories: true)
        for name in try fm.contentsOfDirectory(atPath: dir) where name != "dicrc" {
            try fm.createSymbolicLink(atPath: scratch.appendingPathComponent(name).path, withDestinationPath: dir + "/" + name)
        }
        let dicrc = fm.fileExists(atPath: dir + "/dicrc")
            ? try String(contentsOfFile: dir + "/dicrc", encoding: .utf8)
            : "bos-feature = BOS/EOS,*,*,*,*,*,*,*,*,*,*,*,*\n"
        try dicrc.write(to: scratch.appendingPathComponent("dicrc"), atomically: true, encoding: .utf8)
        let made = mecab_new2("-r /dev/null -d \(scratch.path)")
        // libmecab has read dicrc and mapped the dictionary's files by now: the links are no longer needed, and a
        // process that never closes its tagger (captions keep one for good) leaves nothing behind in /tmp.
        try? fm.removeItem(at: scratch)
        guard let t = made else { throw JapaneseTextError.mecabFailed(String(cString: mecab_strerror(nil))) }
        tagger = t
    }

    deinit { mecab_destroy(tagger) }

    /// The morphemes of `text` in order; white space between them is skipped, as MeCab does.
    func parse(_ text: String) throws -> [Morpheme] {
        let utf8 = Array(text.utf8)
        guard !utf8.isEmpty else { return [] }
        lock.lock()
        defer { lock.unlock() }
        return try utf8.withUnsafeBufferPointer { buf -> [Morpheme] in
            let base = UnsafeRawPointer(buf.baseAddress!).assumingMemoryBound(to: CChar.self)
            guard var node = mecab_sparse_tonode2(tagger, base, buf.count) else {
                throw JapaneseTextError.mecabFailed(String(cString: mecab_strerror(tagger)))
            }
            var out: [Morpheme] = []
            while true {
                let n = node.pointee
                if n.stat != UInt8(MECAB_BOS_NODE) && n.stat != UInt8(MECAB_EOS_NODE), n.length > 0, let s = n.surface {
                    let start = UnsafeRawPointer(s) - UnsafeRawPointer(base)
                    let length = Int(n.length)
                    let surface = String(decoding: buf[start..<(start + length)], as: UTF8.self)
                    let feature = n.feature.map { String(cString: $0) } ?? ""
                    out.append(Morpheme(bytes: start..<(start + length), surface: surface,
                                        features: feature.split(separator: ",", omittingEmptySubsequences: false)))
                }
                guard let next = n.next else { break }
                node = UnsafePointer(next)
            }
            return out
        }
    }
}
