import Foundation

/// misaki's ja_words.txt (Apache-2.0): the words its romanizer joins MeCab's pieces into.
enum JapaneseLexicon {
    private static let cache: Result<Set<String>, JapaneseTextError> = load()

    static func shared() throws -> Set<String> { try cache.get() }

    private static func load() -> Result<Set<String>, JapaneseTextError> {
        guard let url = locate() else { return .failure(.resourceMissing("ja_words.txt")) }
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return .failure(.resourceMissing(url.path)) }
        var words = Set<String>(minimumCapacity: 150_000)
        for line in text.split(whereSeparator: \.isNewline) {
            let w = line.trimmingCharacters(in: .whitespaces)
            if !w.isEmpty { words.insert(w) }
        }
        return .success(words)
    }

    /// $PROSTUDIO_JA_WORDS, the resource bundle SwiftPM puts next to the executable, ../share/prostudio beside an
    /// installed binary (/usr/bin -> /usr/share/prostudio, systemd/README.md), then the source tree it was built
    /// from. Bundle.module is not used: it stops the process when the bundle is missing.
    private static func locate() -> URL? {
        let fm = FileManager.default
        var candidates: [URL] = []
        if let path = ProcessInfo.processInfo.environment["PROSTUDIO_JA_WORDS"], !path.isEmpty { candidates.append(URL(fileURLWithPath: path)) }
        if let exe = Bundle.main.executableURL?.resolvingSymlinksInPath().deletingLastPathComponent() {
            for dir in [exe, exe.deletingLastPathComponent()] {
                candidates.append(dir.appendingPathComponent("ProStudio_JapaneseText.resources/ja_words.txt"))
            }
            candidates.append(exe.deletingLastPathComponent().appendingPathComponent("share/prostudio/ja_words.txt"))
        }
        candidates.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Resources/ja_words.txt"))
        return candidates.first { fm.fileExists(atPath: $0.path) }
    }
}
