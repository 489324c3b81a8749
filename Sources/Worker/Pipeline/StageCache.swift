import Foundation

/// Stage results on disk, keyed by everything that made them (inputs + engine identity + seed), so
/// a repeated or restarted job skips finished work. Entries are written atomically.
public struct StageCache: Sendable {
    /// What happened to an entry; `name` is its path under the cache root (`speech/KEY.f32`).
    public enum Event: Sendable {
        case stored(name: String, stage: String, bytes: Int64)
        case used(name: String)
    }

    public let root: URL
    /// Told of every entry written or reused (the daemon keeps the journal's artifact index with it).
    public let observer: (@Sendable (Event) -> Void)?

    public init(root: URL, observer: (@Sendable (Event) -> Void)? = nil) {
        self.root = root
        self.observer = observer
    }

    /// A 128-bit key from two independent FNV-1a passes: enough to tell inputs apart, not a security hash.
    public static func key(_ parts: [String]) -> String {
        let text = parts.joined(separator: "\u{1F}")
        var a: UInt64 = 0xCBF2_9CE4_8422_2325, b: UInt64 = 0x84222325CBF29CE4
        for byte in text.utf8 {
            a = (a ^ UInt64(byte)) &* 0x100_0000_01B3
            b = (b ^ UInt64(byte ^ 0x5A)) &* 0x100_0000_01B3
        }
        return String(format: "%016llx%016llx", a, b)
    }

    public func url(stage: String, key: String, ext: String) -> URL {
        root.appendingPathComponent(stage).appendingPathComponent("\(key).\(ext)")
    }

    public func read(stage: String, key: String, ext: String) -> Data? {
        let target = url(stage: stage, key: key, ext: ext)
        guard let data = try? Data(contentsOf: target) else { return nil }
        // The modification time doubles as "last used", which is what pruning goes by.
        utimes(target.path, nil)
        observer?(.used(name: "\(stage)/\(key).\(ext)"))
        return data
    }

    public func write(_ data: Data, stage: String, key: String, ext: String) {
        let target = url(stage: stage, key: key, ext: ext)
        do {
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try AtomicFile.write(data, to: target)
            observer?(.stored(name: "\(stage)/\(key).\(ext)", stage: stage, bytes: Int64(data.count)))
        } catch {
            // A cache that cannot be written only costs time later; the job goes on.
        }
    }

    /// Removes the least recently used entries until the cache holds at most `maxBytes`; returns their names.
    public func prune(maxBytes: Int64) -> [String] {
        let fm = FileManager.default
        var entries: [(name: String, url: URL, bytes: Int64, used: Date)] = []
        for stage in (try? fm.contentsOfDirectory(atPath: root.path)) ?? [] {
            let dir = root.appendingPathComponent(stage)
            for file in (try? fm.contentsOfDirectory(atPath: dir.path)) ?? [] where !file.hasPrefix(".") {
                let url = dir.appendingPathComponent(file)
                guard let attrs = try? fm.attributesOfItem(atPath: url.path) else { continue }
                entries.append(("\(stage)/\(file)", url, (attrs[.size] as? Int64) ?? 0, (attrs[.modificationDate] as? Date) ?? .distantPast))
            }
        }
        var total = entries.reduce(0) { $0 + $1.bytes }
        var removed: [String] = []
        for entry in entries.sorted(by: { $0.used < $1.used }) where total > maxBytes {
            if (try? fm.removeItem(at: entry.url)) != nil {
                total -= entry.bytes
                removed.append(entry.name)
            }
        }
        return removed
    }

    /// Sample buffers as raw Float32, written from the array itself: a 10-minute bed is not copied to do it.
    func write(floats: [Float], stage: String, key: String, ext: String = "f32") {
        floats.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return write(Data(), stage: stage, key: key, ext: ext) }
            write(Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: base), count: buffer.count * 4, deallocator: .none),
                  stage: stage, key: key, ext: ext)
        }
    }

    /// A sample buffer read straight into the array, or nil.
    func readFloats(stage: String, key: String, ext: String = "f32") -> [Float]? {
        let target = url(stage: stage, key: key, ext: ext)
        guard let handle = FileHandle(forReadingAtPath: target.path) else { return nil }
        defer { try? handle.close() }
        guard let size = try? handle.seekToEnd(), size % 4 == 0, (try? handle.seek(toOffset: 0)) != nil else { return nil }
        let count = Int(size / 4)
        var complete = true
        let floats = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            var done = 0
            while done < raw.count {
                let n = Glibc.read(handle.fileDescriptor, raw.baseAddress! + done, raw.count - done)
                if n <= 0 { break }
                done += n
            }
            complete = done == raw.count
            initialized = complete ? count : 0
        }
        guard complete else { return nil }
        utimes(target.path, nil)
        observer?(.used(name: "\(stage)/\(key).\(ext)"))
        return floats
    }

    /// Where to write an entry as a stream: a hidden temp file in its stage's folder, for `commit`; nil when
    /// the folder cannot be made.
    func spool(stage: String, key: String, ext: String = "f32") -> URL? {
        let target = url(stage: stage, key: key, ext: ext)
        guard (try? FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)) != nil else { return nil }
        return AtomicFile.temporaryURL(for: target)
    }

    /// Moves a finished `spool` file into place; returns the entry, or nil (the temp file is left as it is).
    func commit(_ temp: URL, stage: String, key: String, ext: String = "f32") -> URL? {
        let target = url(stage: stage, key: key, ext: ext)
        guard rename(temp.path, target.path) == 0 else { return nil }
        let bytes = ((try? FileManager.default.attributesOfItem(atPath: target.path))?[.size] as? Int64) ?? 0
        observer?(.stored(name: "\(stage)/\(key).\(ext)", stage: stage, bytes: bytes))
        return target
    }

    /// An entry's file, marked used, or nil when there is none.
    func use(stage: String, key: String, ext: String = "f32") -> URL? {
        let target = url(stage: stage, key: key, ext: ext)
        guard FileManager.default.fileExists(atPath: target.path) else { return nil }
        utimes(target.path, nil)
        observer?(.used(name: "\(stage)/\(key).\(ext)"))
        return target
    }

    public func contains(stage: String, key: String, ext: String) -> Bool {
        FileManager.default.fileExists(atPath: url(stage: stage, key: key, ext: ext).path)
    }
}
