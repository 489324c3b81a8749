import Foundation
/// Where a module or tensor lives: `cpu`, `cuda` (device 0) or `cuda:N`.
public enum Device: Sendable, Hashable, Codable, CustomStringConvertible {
    case cpu
    case cuda(Int)

    /// Parses `cpu`, `cuda`, `cuda:N`; nil for anything else.
    public init?(_ text: String) {
        let t = text.lowercased()
        if t == "cpu" { self = .cpu; return }
        if t == "cuda" { self = .cuda(0); return }
        if t.hasPrefix("cuda:"), let n = Int(t.dropFirst(5)), n >= 0 { self = .cuda(n); return }
        return nil
    }

    public var description: String {
        switch self {
        case .cpu: "cpu"
        case .cuda(let n): "cuda:\(n)"
        }
    }

    public var isCUDA: Bool { if case .cuda = self { true } else { false } }

    /// The design's rule: `cuda` when present, else `cpu`. Without an NVIDIA driver node there is no CUDA to
    /// ask about, and asking would load libtorch (~1 s, ~170 MB) in processes that may never run a model.
    public static var preferred: Device { preferred(index: 0) }

    /// `cuda:index` when that device exists (the config's `device.index`), else `cpu`.
    public static func preferred(index: Int) -> Device {
        guard FileManager.default.fileExists(atPath: "/dev/nvidiactl") else { return .cpu }
        return TorchRuntime.cudaAvailable && index < TorchRuntime.cudaDeviceCount ? .cuda(index) : .cpu
    }

    /// fp16 on CUDA, fp32 on CPU (the design's default precision per device).
    public var defaultDType: DType { isCUDA ? .float16 : .float32 }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let d = Device(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "not a device: \(text) (cpu, cuda, cuda:N)"))
        }
        self = d
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
