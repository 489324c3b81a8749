import CTorchShim

/// Process-wide libtorch facts and knobs.
public enum TorchRuntime {
    /// "1.13.1" for Debian's libtorch.
    public static var version: String { "\(ct_version_major()).\(ct_version_minor()).\(ct_version_patch())" }

    /// Whether the shim was compiled against a CUDA libtorch (PROSTUDIO_LIBTORCH pointing at one).
    public static var builtWithCUDA: Bool { ct_built_with_cuda() }
    public static var cudaAvailable: Bool { ct_cuda_is_available() }
    public static var cudaDeviceCount: Int { Int(ct_cuda_device_count()) }

    /// Names of the CUDA devices ("NVIDIA H100 80GB HBM3"); empty without CUDA.
    public static func cudaDeviceNames() -> [String] {
        (0..<cudaDeviceCount).map { i in
            var buf = [CChar](repeating: 0, count: 256)
            var err: OpaquePointer?
            let status = buf.withUnsafeMutableBufferPointer { ct_cuda_device_name(Int32(i), $0.baseAddress, $0.count, &err) }
            if let err { ct_error_free(err) }
            guard status == CT_OK else { return "cuda:\(i)" }
            return String(decoding: buf.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    /// Intra-op threads. Debian's libtorch starts with one; on small machines one is also the fastest.
    public static var threads: Int {
        get { Int(ct_get_num_threads()) }
        set { ct_set_num_threads(Int32(newValue)) }
    }

    /// Seeds the CPU generator and, when present, the CUDA ones.
    public static func manualSeed(_ seed: UInt64) { ct_manual_seed(seed) }

    /// The profiling graph executor re-optimises for each new input shape, which costs seconds per shape for
    /// some voice models; `TorchModule.load` turns it off unless told otherwise. Process-wide.
    public static var graphExecutorOptimize: Bool {
        get { ct_get_graph_executor_optimize() }
        set { ct_set_graph_executor_optimize(newValue) }
    }

    /// Returns cached CUDA blocks to the driver and free heap pages to the OS (so RSS shows an unload).
    public static func emptyCache() { ct_empty_cache() }

    /// Memory in use: on CUDA the caching allocator's figures, on CPU the process RSS.
    public static func memory(on device: Device) -> MemorySnapshot {
        if case .cuda(let index) = device {
            var stats = ct_memory_stats()
            var err: OpaquePointer?
            if ct_cuda_memory_stats(Int32(index), &stats, &err) == CT_OK {
                return MemorySnapshot(device: device, allocatedBytes: stats.allocated_bytes,
                                      reservedBytes: stats.reserved_bytes, peakBytes: stats.peak_allocated_bytes)
            }
            if let err { ct_error_free(err) }
        }
        let rss = ct_process_rss_bytes()
        return MemorySnapshot(device: .cpu, allocatedBytes: rss, reservedBytes: rss, peakBytes: ct_process_peak_rss_bytes())
    }

    /// Starts a new peak-memory window: CUDA peak stats on CUDA, the process's peak RSS (VmHWM) on CPU.
    @discardableResult
    public static func resetPeakMemory(on device: Device) -> Bool {
        if case .cuda(let index) = device {
            var err: OpaquePointer?
            let status = ct_cuda_reset_peak_memory(Int32(index), &err)
            if let err { ct_error_free(err) }
            return status == CT_OK
        }
        return ct_process_reset_peak_rss()
    }

    /// Resident set size of this process now, in bytes (-1 if unknown).
    public static var processRSSBytes: Int64 { ct_process_rss_bytes() }
}

/// One reading of memory use. On CPU all three figures come from the process: RSS now and peak RSS.
public struct MemorySnapshot: Sendable, Codable, Equatable {
    public var device: Device
    public var allocatedBytes: Int64
    public var reservedBytes: Int64
    public var peakBytes: Int64
}
