import Foundation

/// Stage results on disk, keyed by everything that made them (inputs + engine identity + seed), so
/// a repeated or restarted job skips finished work. Entries are written atomically.
public struct StageCache: Sendable {
    public let root: URL

    public init(root: URL) { self.root = root }

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
        try? Data(contentsOf: url(stage: stage, key: key, ext: ext))
    }

    public func write(_ data: Data, stage: String, key: String, ext: String) {
        let target = url(stage: stage, key: key, ext: ext)
        do {
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try AtomicFile.write(data, to: target)
        } catch {
            // A cache that cannot be written only costs time later; the job goes on.
        }
    }

    public func contains(stage: String, key: String, ext: String) -> Bool {
        FileManager.default.fileExists(atPath: url(stage: stage, key: key, ext: ext).path)
    }
}

extension Array where Element == Float {
    /// Raw little-endian Float32, the cache's format for sample buffers.
    var rawData: Data { withUnsafeBufferPointer { Data(buffer: $0) } }
    init(rawData: Data) {
        self = rawData.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }
}
