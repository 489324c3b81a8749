import Checksum
import Foundation
import Media

/// One picture or clip of the user's library, with the text it is matched by.
public struct LibraryItem: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable { case image, video }
    /// Where the description came from: a sidecar NAME.txt, the file's embedded metadata, or the words of its path.
    public enum Source: String, Sendable, Codable { case sidecar, metadata, name }
    /// Relative to the library folder.
    public var path: String
    public var kind: Kind
    public var description: String
    public var source: Source
    public var contentHash: String
    public var size: Int64
    public var modified: Double

    enum CodingKeys: String, CodingKey {
        case path, kind, description, source, size, modified, contentHash = "content_hash"
    }

    public init(path: String, kind: Kind, description: String, source: Source, contentHash: String, size: Int64, modified: Double) {
        self.path = path; self.kind = kind; self.description = description; self.source = source
        self.contentHash = contentHash; self.size = size; self.modified = modified
    }
}

/// The library's items and their unit-length embeddings (row i of `matrix` is item i).
public struct LibraryIndex: Sendable {
    public struct Update: Sendable, Equatable, CustomStringConvertible {
        public var embedded = 0, reused = 0, removed = 0
        public init() {}
        public var description: String { "\(embedded) embedded, \(reused) reused, \(removed) removed" }
    }
    public let folder: URL
    public let items: [LibraryItem]
    public let matrix: [Float]
    public let dimension: Int
    public let update: Update
    /// Files skipped (unreadable), one line each naming the file.
    public let warnings: [String]

    public init(folder: URL, items: [LibraryItem], matrix: [Float], dimension: Int, update: Update = .init(), warnings: [String] = []) {
        precondition(matrix.count == items.count * dimension)
        self.folder = folder; self.items = items; self.matrix = matrix; self.dimension = dimension
        self.update = update; self.warnings = warnings
    }

    /// The `top` items most similar to `query` (a unit vector), best first, skipping `excluded` rows.
    public func search(_ query: [Float], top: Int = 5, excluding excluded: Set<Int> = []) -> [(index: Int, score: Float)] {
        precondition(query.count == dimension)
        var best: [(index: Int, score: Float)] = []
        best.reserveCapacity(top + 1)
        let dim = dimension
        matrix.withUnsafeBufferPointer { m in
            query.withUnsafeBufferPointer { q in
                for i in 0..<items.count where !excluded.contains(i) {
                    let row = m.baseAddress! + i * dim
                    var s: Float = 0
                    for k in 0..<dim { s += row[k] * q[k] }
                    if best.count < top || s > best[best.count - 1].score {
                        let at = best.firstIndex { $0.score < s } ?? best.count
                        best.insert((i, s), at: at)
                        if best.count > top { best.removeLast() }
                    }
                }
            }
        }
        return best
    }
}

/// Finds the pictures and clips under a folder and says what each shows.
public enum LibraryScanner {
    public static let imageExtensions: Set<String> = ["jpg", "jpeg", "png", "webp", "bmp"]
    public static let videoExtensions: Set<String> = ["mp4", "mov", "m4v", "mkv", "webm", "avi"]

    public struct Found: Sendable {
        public var url: URL
        public var path: String
        public var kind: LibraryItem.Kind
        public var size: Int64
        public var modified: Double
        public var description: String
        public var source: LibraryItem.Source
    }

    /// Every readable image and clip under `folder` (recursively; hidden files skipped), sorted by path.
    /// Unreadable files become warnings; a missing or empty folder is an error naming `field`.
    /// `known` gives an earlier scan's description of a file with this path, size and modification time, so an
    /// unchanged clip is not opened again to read its metadata (sidecars are always read: they may have changed).
    public static func scan(folder: URL, field: String,
                            known: (_ path: String, _ size: Int64, _ modified: Double) -> (String, LibraryItem.Source)? = { _, _, _ in nil })
        throws(LibraryError) -> (found: [Found], warnings: [String]) {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: folder.path, isDirectory: &isDir) else {
            throw LibraryError("visuals.folder_missing", "the library folder \(folder.path) does not exist", field: field)
        }
        guard isDir.boolValue else {
            throw LibraryError("visuals.folder_invalid", "\(folder.path) is a file, not a folder of pictures and clips", field: field)
        }
        guard fm.isReadableFile(atPath: folder.path), let walker = fm.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey, .fileSizeKey, .contentModificationDateKey],
                                                                                  options: [.skipsHiddenFiles]) else {
            throw LibraryError("visuals.folder_unreadable", "the library folder \(folder.path) cannot be read (permissions?)", field: field)
        }
        let base = folder.standardizedFileURL.path
        var found: [Found] = []
        var warnings: [String] = []
        for case let url as URL in walker {
            let ext = url.pathExtension.lowercased()
            let kind: LibraryItem.Kind
            if imageExtensions.contains(ext) { kind = .image } else if videoExtensions.contains(ext) { kind = .video } else { continue }
            // A link counts as what it points at; one that points nowhere is reported, not silently dropped.
            let target = url.resolvingSymlinksInPath()
            guard fm.fileExists(atPath: url.path) else {
                warnings.append("skipping \(url.path): the file cannot be read (a link to a missing file)")
                continue
            }
            guard let values = try? target.resourceValues(forKeys: [.isRegularFileKey, .fileSizeKey, .contentModificationDateKey]) else {
                warnings.append("skipping \(url.path): the file cannot be read (a broken link?)")
                continue
            }
            guard values.isRegularFile == true else { continue }
            var rel = url.standardizedFileURL.path
            if rel.hasPrefix(base + "/") { rel.removeFirst(base.count + 1) }
            // Opening it is the test that counts (permissions, a dangling mount), not the mode bits.
            guard let handle = try? FileHandle(forReadingFrom: url) else {
                warnings.append("skipping \(url.path): the file cannot be read (permissions?)")
                continue
            }
            try? handle.close()
            guard (values.fileSize ?? 0) > 0 else {
                warnings.append("skipping \(url.path): the file is empty")
                continue
            }
            let size = Int64(values.fileSize ?? 0), modified = values.contentModificationDate?.timeIntervalSince1970 ?? 0
            let (text, source) = sidecar(of: url).map { ($0, .sidecar) }
                ?? known(rel, size, modified).flatMap { $0.1 == .sidecar ? nil : $0 }
                ?? describe(url: url, relativePath: rel, kind: kind)
            found.append(Found(url: url, path: rel, kind: kind, size: size, modified: modified, description: text, source: source))
        }
        found.sort { $0.path < $1.path }
        if found.isEmpty {
            let exts = (imageExtensions.union(videoExtensions)).sorted().joined(separator: ", ")
            throw LibraryError("visuals.folder_empty", "the library folder \(folder.path) holds no readable pictures or clips (\(exts))" +
                               (warnings.isEmpty ? "" : "; " + warnings.joined(separator: "; ")), field: field)
        }
        return (found, warnings)
    }

    /// A sidecar `NAME.txt` (or `NAME.EXT.txt`) beside the file wins; else the file's own title, description and
    /// keywords (clips: MP4/MOV/MKV tags through Media's probe; pictures: EXIF, XMP, IPTC, PNG text) with an editor's or
    /// camera's signature dropped, followed by the words of its path inside the library (a device's clock or counter name
    /// dropped): a name such as `astronaut_portrait.png` says what the picture is even when the file carries text too.
    public static func describe(url: URL, relativePath: String, kind: LibraryItem.Kind) -> (String, LibraryItem.Source) {
        if let text = sidecar(of: url) { return (text, .sidecar) }
        let embedded = kind == .video ? metadata(of: url) : ImageMetadata.description(of: url)
        let name = nameWords(relativePath)
        guard let embedded, !embedded.isEmpty else { return (name, .name) }
        // The embedded text first: a caption is usually the better sentence; the name's words still add what it lacks.
        let lower = embedded.lowercased()
        let extra = name.split(separator: " ").filter { !lower.contains($0.lowercased()) }.joined(separator: " ")
        return (extra.isEmpty ? embedded : embedded + ". " + extra, .metadata)
    }

    public static func sidecar(of url: URL) -> String? {
        let stem = url.deletingPathExtension()
        for file in [stem.appendingPathExtension("txt"), url.appendingPathExtension("txt")] {
            if let text = try? String(contentsOf: file, encoding: .utf8) {
                let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
                if !t.isEmpty { return t }
            }
        }
        return nil
    }

    /// Title, description (else comment) and keywords from the container, joined; nil when it has none.
    public static func metadata(of url: URL) -> String? {
        guard let info = try? MediaReader.probe(url.path) else { return nil }
        var tags: [String: String] = [:]
        for (k, v) in info.tags { tags[k.lowercased()] = v.trimmingCharacters(in: .whitespacesAndNewlines) }
        func first(_ keys: [String]) -> String? { keys.lazy.compactMap { tags[$0] }.first { !$0.isEmpty } }
        let parts = [first(["title", "com.apple.quicktime.title"]),
                     first(["description", "com.apple.quicktime.description", "synopsis", "comment", "com.apple.quicktime.comment"]),
                     first(["keywords", "com.apple.quicktime.keywords"])].compactMap { $0.flatMap(DescriptionText.meaningful) }
        return parts.isEmpty ? nil : parts.joined(separator: ". ")
    }

    /// `harbour/boats_at_dawn_02.mp4` -> "harbour boats at dawn": folders and file name, split on separators and
    /// camelCase; numbers, codes, camera prefixes (IMG, DSC, ...) and a device's clock or counter name dropped.
    public static func nameWords(_ relativePath: String) -> String {
        let noExt = (relativePath as NSString).deletingPathExtension
        var words: [String] = []
        let parts = noExt.split(separator: "/")
        for (n, part) in parts.enumerated() {
            let text = n == parts.count - 1 ? DescriptionText.withoutDeviceName(String(part)) : String(part)
            var current = ""
            var previous: Character?
            for ch in text {
                if ch.isLetter || ch.isNumber {
                    if let p = previous, p.isLowercase, ch.isUppercase, !current.isEmpty { words.append(current); current = "" }
                    current.append(ch)
                } else if !current.isEmpty {
                    words.append(current); current = ""
                }
                previous = ch
            }
            if !current.isEmpty { words.append(current) }
        }
        return words.filter { w in
            let lower = w.lowercased()
            // `100CANON`, `101MSDCF`: a camera's folder counter glued to its maker's name.
            let glued = lower.contains(where: \.isNumber) && DescriptionText.toolWords.contains(lower.filter(\.isLetter))
            return !DescriptionText.isCodeOrNumber(w) && !DescriptionText.deviceWords.contains(lower) && !glued
        }.joined(separator: " ")
    }
}

/// Keeps a library's index on disk (JSON beside the cache), so only new or changed files are hashed and embedded.
/// An entry is reused while its file's size and modification time are unchanged (else the content is hashed
/// again) and its content hash, description and the model pack are the same.
public struct LibraryIndexer: Sendable {
    public let cacheRoot: URL
    public let packIdentity: String
    public let dimension: Int
    /// Unit-length embeddings of texts, row-major: the model (through the model manager, or a loaded module).
    public let embed: @Sendable ([String]) async throws -> [Float]

    public init(cacheRoot: URL, packIdentity: String, dimension: Int, embed: @escaping @Sendable ([String]) async throws -> [Float]) {
        self.cacheRoot = cacheRoot; self.packIdentity = packIdentity; self.dimension = dimension; self.embed = embed
    }

    /// 2: descriptions drop editors' and cameras' signatures and keep the name's words (issue 27), so an index made by
    /// version 1 is described and embedded again.
    static let storedVersion = 2

    struct Stored: Codable {
        var version: Int
        var folder: String
        var pack: String
        var dimension: Int
        var entries: [Entry]
        struct Entry: Codable {
            var item: LibraryItem
            /// Float32 little-endian, base64.
            var embedding: String
        }
    }

    public func cacheFile(for folder: URL) -> URL {
        let key = SHA256.hex(of: Data(folder.standardizedFileURL.path.utf8)).prefix(24)
        return cacheRoot.appendingPathComponent("library").appendingPathComponent("\(key).json")
    }

    /// Scans `folder`, embeds what is new or changed, drops what is gone, and saves the index.
    public func index(folder: URL, field: String = "visuals.folder") async throws -> LibraryIndex {
        let file = cacheFile(for: folder)
        var old: [String: (LibraryItem, [Float])] = [:]
        if let data = try? Data(contentsOf: file), let stored = try? JSONDecoder().decode(Stored.self, from: data),
           stored.version == Self.storedVersion, stored.pack == packIdentity, stored.dimension == dimension {
            for e in stored.entries {
                if let v = Data(base64Encoded: e.embedding), v.count == dimension * 4 {
                    old[e.item.path] = (e.item, v.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) })
                }
            }
        }
        let (found, warnings) = try LibraryScanner.scan(folder: folder, field: field) { [old] path, size, modified in
            old[path].flatMap { $0.0.size == size && $0.0.modified == modified ? ($0.0.description, $0.0.source) : nil }
        }
        var items: [LibraryItem] = []
        var vectors: [[Float]?] = []
        var toEmbed: [Int] = []
        var update = LibraryIndex.Update()
        var skipped = warnings
        for f in found {
            let previous = old.removeValue(forKey: f.path)
            let hash: String
            if let p = previous, p.0.size == f.size, p.0.modified == f.modified {
                hash = p.0.contentHash
            } else {
                do { hash = try SHA256.hex(ofFile: f.url) } catch {
                    skipped.append("skipping \(f.url.path): the file cannot be read (\(error))")
                    continue
                }
            }
            let item = LibraryItem(path: f.path, kind: f.kind, description: f.description, source: f.source, contentHash: hash,
                                   size: f.size, modified: f.modified)
            if let p = previous, p.0.contentHash == hash, p.0.description == f.description {
                vectors.append(p.1)
                update.reused += 1
            } else {
                vectors.append(nil)
                toEmbed.append(items.count)
            }
            items.append(item)
        }
        update.removed = old.count
        if !toEmbed.isEmpty {
            let fresh = try await embed(toEmbed.map { items[$0].description })
            for (n, i) in toEmbed.enumerated() { vectors[i] = Array(fresh[(n * dimension)..<((n + 1) * dimension)]) }
            update.embedded = toEmbed.count
        }
        let matrix = vectors.flatMap { $0! }
        if update.embedded > 0 || update.removed > 0 || !FileManager.default.fileExists(atPath: file.path) {
            // A cache that cannot be written (a read-only home under systemd) costs time, not the job.
            do { try save(LibraryIndex(folder: folder, items: items, matrix: matrix, dimension: dimension), to: file) } catch {
                skipped.append("the index was not saved, so the next run embeds this folder again: \(error)")
            }
        }
        return LibraryIndex(folder: folder, items: items, matrix: matrix, dimension: dimension, update: update, warnings: skipped)
    }

    func save(_ index: LibraryIndex, to file: URL) throws {
        let entries = index.items.enumerated().map { i, item in
            let row = Array(index.matrix[(i * dimension)..<((i + 1) * dimension)])
            return Stored.Entry(item: item, embedding: row.withUnsafeBytes { Data($0) }.base64EncodedString())
        }
        let stored = Stored(version: Self.storedVersion, folder: index.folder.standardizedFileURL.path, pack: packIdentity, dimension: dimension, entries: entries)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        // Temp file + rename: a reader never sees half an index.
        let tmp = file.deletingLastPathComponent().appendingPathComponent(".\(file.lastPathComponent).\(UUID().uuidString).tmp")
        try JSONEncoder().encode(stored).write(to: tmp)
        guard rename(tmp.path, file.path) == 0 else {
            let why = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: tmp)
            throw LibraryError("visuals.index_unwritable", "cannot write the library index \(file.path) (\(why))")
        }
    }
}

/// The choice for one scene: a library item and its score.
public struct SceneMatch: Sendable, Equatable {
    public var item: Int
    public var score: Float
}

public enum SceneMatcher {
    /// Default threshold, chosen from the labelled library in LibraryTests (then 42 items, 42 scenes, 4 off-topic scenes):
    /// off-topic scenes scored at most 0.20, intended items at least 0.22 but for one; at 0.22, 41/42 scenes got
    /// their item and every off-topic scene fell back. On the grown set (50 items, 5 off-topic) it gives precision
    /// 0.959 and recall 0.940 (the sweeps are in Docs/library.md).
    public static let defaultMinScore: Float = 0.22

    /// Each scene gets at most one item and each item goes to at most one scene (never one of `alreadyUsed`).
    /// Pairs are taken best score first over the whole job, so a confident match is never lost to an earlier, weaker
    /// scene that happened to like the same item; a scene is left without one when nothing free reaches its
    /// `minScores` entry. Returns, per scene, the match (or nil) and the best score it saw (for the sidecar).
    public static func assign(queries: [Float], index: LibraryIndex, minScores: [Float], alreadyUsed: Set<Int> = [])
        -> [(match: SceneMatch?, best: Float?)] {
        let dim = index.dimension
        let n = queries.count / dim
        precondition(minScores.count == n)
        // Other scenes can take at most n - 1 items, so a scene's top n (free) items hold every item it could get.
        var pairs: [(scene: Int, item: Int, score: Float)] = []
        var best = [Float?](repeating: nil, count: n)
        // An item with no words at all (IMG_0042.jpg with no caption) would be matched by an empty string's embedding,
        // which sits near everything: it is never chosen.
        let excluded = alreadyUsed.union(index.items.indices.filter { index.items[$0].description.isEmpty })
        for s in 0..<n {
            let hits = index.search(Array(queries[(s * dim)..<((s + 1) * dim)]), top: n, excluding: excluded)
            best[s] = hits.first?.score
            for h in hits where h.score >= minScores[s] { pairs.append((s, h.index, h.score)) }
        }
        pairs.sort { ($0.score, -$0.scene, -$0.item) > ($1.score, -$1.scene, -$1.item) }
        var out = [SceneMatch?](repeating: nil, count: n)
        var used = alreadyUsed
        for p in pairs where out[p.scene] == nil && !used.contains(p.item) {
            out[p.scene] = SceneMatch(item: p.item, score: p.score)
            used.insert(p.item)
        }
        return (0..<n).map { (out[$0], best[$0]) }
    }

    /// The text a scene is matched by: its prompt (what it should show) and its narration.
    public static func query(prompt: String?, narration: String?) -> String {
        [prompt, narration].compactMap { $0?.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }.joined(separator: ". ")
    }
}
