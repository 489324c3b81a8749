import Foundation

/// Whether a component fits where it is about to be loaded, decided before loading it: a pack that cannot fit is
/// refused with the figures, instead of failing half-way through a load (or taking the GPU from everything else).
public enum MemoryFit {
    /// What a load may take on `device` now: the driver's free memory, capped by the configured limit.
    /// nil when nothing is known (CPU without a limit): then no check is made.
    public static func available(freeBytes: Int64?, limitBytes: Int64?) -> Int64? {
        switch (freeBytes, limitBytes) {
        case (let f?, let l?): min(f, l)
        case (let f?, nil): f
        case (nil, let l?): l
        case (nil, nil): nil
        }
    }

    /// nil when `needBytes` fits; otherwise the error naming the pack, the need and what is free.
    public static func refusal(pack: String, component: String, device: Device, needBytes: Int64,
                               freeBytes: Int64?, limitBytes: Int64?) -> ModelPackError? {
        guard let available = available(freeBytes: freeBytes, limitBytes: limitBytes), needBytes > available else { return nil }
        return .doesNotFit(pack: pack, component: component, device: device, needBytes: needBytes,
                           freeBytes: freeBytes, limitBytes: limitBytes)
    }

    /// Before a job's first load: the first of `components` whose pack.json estimate exceeds what may be taken
    /// (the configured limit; else on the CPU the host's MemAvailable; on CUDA without a limit, no check: the
    /// model manager checks the driver's free memory at each load). The engines turn it into their own error.
    public static func firstMisfit(_ pack: ModelPack, _ components: [String], device: Device,
                                   limitBytes: Int64?) -> (component: String, needBytes: Int64, availableBytes: Int64)? {
        let limit: Int64
        if let l = limitBytes { limit = l } else if device.isCUDA { return nil } else {
            guard let available = hostAvailableBytes() else { return nil }
            limit = available
        }
        for component in components {
            let need = pack.memoryEstimate(of: component)
            if need > limit { return (component, need, limit) }
        }
        return nil
    }

    /// The host's MemAvailable (/proc/meminfo) in bytes; nil when it cannot be read.
    public static func hostAvailableBytes() -> Int64? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            return line.split(separator: " ").dropFirst().first.flatMap { Int64($0) }.map { $0 * 1024 }
        }
        return nil
    }

    /// The free memory of `device` as the driver reports it now; nil on the CPU or when it cannot be read.
    public static func deviceFreeBytes(_ device: Device) -> Int64? {
        guard case .cuda(let index) = device else { return nil }
        return try? TorchRuntime.cudaMemoryInfo(index).freeBytes
    }
}

/// Every size an out-of-memory retry tried, and the failure at the smallest: the step cannot run on this device.
public struct OutOfMemoryAfterRetries: Error, Sendable, CustomStringConvertible {
    /// What was being made smaller ("latent frames per decoder call").
    public let what: String
    public let sizes: [Int]
    public let last: String
    public var description: String {
        "out of memory with \(what) at \(sizes.map(String.init).joined(separator: ", then ")): \(last)"
    }
}

/// An out-of-memory in the middle of a step is often the working set, not the weights: the same step in smaller
/// pieces (decode chunks, sections) usually fits. Halve, empty the allocator's cache, try again; at the smallest
/// size give up with `OutOfMemoryAfterRetries`.
public enum OutOfMemoryRetry {
    /// start, start/2, ..., down to minimum (always ending at minimum when start > minimum).
    public static func sizes(from start: Int, minimum: Int = 1) -> [Int] {
        var out = [max(start, minimum)]
        while out.last! > minimum { out.append(max(minimum, out.last! / 2)) }
        return out
    }

    /// Out of memory as the runtime reports it: a TorchError, or a load that failed with one.
    public static func isOutOfMemory(_ error: any Error) -> Bool {
        if let t = error as? TorchError { return t.code == .outOfMemory }
        if case .loadFailed(_, _, _, let t)? = error as? ModelPackError { return t.code == .outOfMemory }
        return error is OutOfMemoryAfterRetries
    }

    /// Runs `body(size)` from `start`, halving on out-of-memory. Other errors pass through at once.
    /// `isOutOfMemory` lets an engine recognise its own wrapping of the runtime's error.
    public static func run<R>(from start: Int, minimum: Int = 1, what: String,
                              isOutOfMemory: (any Error) -> Bool = OutOfMemoryRetry.isOutOfMemory,
                              onRetry: (_ failed: Int, _ next: Int) -> Void = { _, _ in },
                              _ body: (Int) throws -> R) throws -> R {
        let all = sizes(from: start, minimum: minimum)
        for (i, size) in all.enumerated() {
            do {
                return try body(size)
            } catch let error where isOutOfMemory(error) {
                TorchRuntime.emptyCache()
                guard i + 1 < all.count else {
                    throw OutOfMemoryAfterRetries(what: what, sizes: all, last: "\(error)")
                }
                onRetry(size, all[i + 1])
            }
        }
        fatalError("unreachable: sizes(from:minimum:) is never empty")
    }
}
