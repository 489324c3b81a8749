// Re-exported: the sidecar's records (ModelUse, SceneMedia) are what engines report, and every engine's user sees them.
@_exported import Contract
import Foundation
import Manifest

/// Who made an artifact: part of every cache key and of the sidecar.
public struct EngineIdentity: Sendable, Equatable, Codable, CustomStringConvertible {
    public var name: String
    public var version: String
    /// Hash of the model pack for model engines; nil for embedded engines.
    public var packHash: String?
    public init(name: String, version: String, packHash: String? = nil) {
        self.name = name; self.version = version; self.packHash = packHash
    }
    public var description: String { "\(name) \(version)" + (packHash.map { " pack:\($0.prefix(12))" } ?? "") }
}

/// A stage engine failed in a way the user can act on.
public struct EngineError: Error, Sendable, CustomStringConvertible {
    public let code: String
    public let message: String
    public let field: String?
    public init(code: String, message: String, field: String? = nil) { self.code = code; self.message = message; self.field = field }
    public var description: String { message }
}

/// Seeded, portable randomness (SplitMix64): the same seed gives the same stream on every machine.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    public mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }

    /// A stable 64-bit hash of text (FNV-1a): `String.hashValue` changes between runs.
    public static func hash(_ text: String, seed: UInt64 = 0xCBF2_9CE4_8422_2325) -> UInt64 {
        var h = seed
        for b in text.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return h
    }
}
