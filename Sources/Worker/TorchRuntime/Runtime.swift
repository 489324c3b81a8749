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

    /// Whether libProStudioTorch.so (and libtorch with it) could be opened; the reason when not. Opens it.
    public static var runtimeAvailability: (available: Bool, reason: String?) {
        var reason: UnsafePointer<CChar>?
        let ok = ct_runtime_available(&reason)
        return (ok, ok ? nil : reason.map { String(cString: $0) } ?? "unknown reason")
    }

    /// The CUDA driver's version as "13.0" (nil when there is none or this is not a CUDA build), and the CUDA
    /// runtime the shim was built with.
    public static var cudaDriverVersion: String? { versionText(ct_cuda_driver_version()) }
    public static var cudaRuntimeVersion: String? { versionText(ct_cuda_runtime_version()) }

    private static func versionText(_ v: Int32) -> String? {
        v > 0 ? "\(v / 1000).\((v % 1000) / 10)" : nil
    }

    /// Free and total memory of a CUDA device as the driver sees them. Throws `.unsupported` ("no CUDA device ...",
    /// or "this build has no CUDA support") where there is none.
    public static func cudaMemoryInfo(_ index: Int) throws(TorchError) -> (freeBytes: Int64, totalBytes: Int64) {
        var free: Int64 = 0, total: Int64 = 0
        try check("reading the free memory of cuda:\(index)") { ct_cuda_memory_info(Int32(index), &free, &total, $0) }
        return (free, total)
    }

    /// Caps the CUDA caching allocator on `index` at `bytes` (nil lifts it): past it allocations fail as out of
    /// memory, so `device.memory_limit_gb` holds during a step too, not only in the estimate check before a load.
    public static func setCUDAMemoryLimit(_ index: Int, bytes: Int64?) throws(TorchError) {
        try check("capping cuda:\(index) at \(bytes.map { "\($0 >> 20) MiB" } ?? "no limit")") {
            ct_cuda_set_memory_limit(Int32(index), bytes ?? 0, $0)
        }
    }

    /// What the machine has for models, in words, for `doctor`: the runtime library, its build, the devices.
    public static func describe() -> RuntimeReport {
        let (ok, reason) = runtimeAvailability
        guard ok else { return RuntimeReport(available: false, problem: reason, version: nil, cudaBuild: false, devices: []) }
        var devices: [RuntimeReport.GPU] = []
        if builtWithCUDA {
            for (i, name) in cudaDeviceNames().enumerated() {
                let info = try? cudaMemoryInfo(i)
                devices.append(.init(index: i, name: name, freeBytes: info?.freeBytes, totalBytes: info?.totalBytes))
            }
        }
        var problem: String?
        if builtWithCUDA && devices.isEmpty {
            var free: Int64 = 0, total: Int64 = 0, err: OpaquePointer?
            if ct_cuda_memory_info(0, &free, &total, &err) != CT_OK, let err {
                problem = String(cString: ct_error_message(err))
                ct_error_free(err)
            }
        }
        return RuntimeReport(available: true, problem: problem, version: version, cudaBuild: builtWithCUDA, devices: devices,
                             driver: cudaDriverVersion, cudaRuntime: cudaRuntimeVersion)
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

    /// Starts a new peak-memory window: the process's peak RSS (VmHWM) always, and the CUDA allocator's peak on CUDA.
    @discardableResult
    public static func resetPeakMemory(on device: Device) -> Bool {
        let rss = ct_process_reset_peak_rss()
        if case .cuda(let index) = device {
            var err: OpaquePointer?
            let status = ct_cuda_reset_peak_memory(Int32(index), &err)
            if let err { ct_error_free(err) }
            return status == CT_OK
        }
        return rss
    }

    /// Peak RSS of this process since the last reset (VmHWM), -1 if unknown.
    public static var processPeakRSSBytes: Int64 { ct_process_peak_rss_bytes() }

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

/// The model runtime as `doctor` reports it.
public struct RuntimeReport: Sendable, Equatable {
    public struct GPU: Sendable, Equatable {
        public var index: Int
        public var name: String
        public var freeBytes: Int64?
        public var totalBytes: Int64?
    }
    /// libProStudioTorch.so opened.
    public var available: Bool
    /// Why it did not open, or why a CUDA build sees no device.
    public var problem: String?
    public var version: String?
    public var cudaBuild: Bool
    public var devices: [GPU]
    public var driver: String? = nil
    public var cudaRuntime: String? = nil
}
