import Foundation
import Logging

/// What one scoped use of a model cost: the pipeline copies these into the job's sidecar.
public struct ModelUseRecord: Sendable, Codable, Equatable {
    public var pack: String
    /// SHA-256 of the pack's pack.json.
    public var packIdentity: String
    public var component: String
    public var device: Device
    public var dtype: DType
    /// False when the component was already resident and reused.
    public var loaded: Bool
    public var loadSeconds: Double
    public var useSeconds: Double
    /// Peak during load + use: CUDA allocator peak on CUDA; peak process RSS on CPU (-1 if unknown).
    public var peakMemoryBytes: Int64
    public var memorySource: String
    public var startedAt: Date
    /// Peak process RSS during load + use, on every device (-1 if unknown).
    public var peakRSSBytes: Int64 = -1
    /// The CUDA caching allocator's peak during load + use (reset before, read after); nil on the CPU.
    public var peakGPUBytes: Int64? = nil

    enum CodingKeys: String, CodingKey {
        case pack, component, device, dtype, loaded
        case peakRSSBytes = "peak_rss_bytes"
        case peakGPUBytes = "peak_gpu_bytes"
        case packIdentity = "pack_identity"
        case loadSeconds = "load_seconds"
        case useSeconds = "use_seconds"
        case peakMemoryBytes = "peak_memory_bytes"
        case memorySource = "memory_source"
        case startedAt = "started_at"
    }
}

/// Loads pack components on demand and keeps at most one resident (or, with a memory budget, as many as
/// the packs' estimates fit), unloading and emptying the allocator cache before the next load.
///
/// Uses are exclusive and first come, first served: `withModel` waits for the previous use to finish, so
/// a model is never unloaded under a running forward, and work on the device stays sequential.
public actor ModelManager {
    public struct Key: Hashable, Sendable, CustomStringConvertible {
        public var pack: String
        public var component: String
        public var description: String { "\(pack)/\(component)" }
    }

    private struct Resident {
        let module: TorchModule
        let estimate: Int64
        var lastUse: UInt64
    }

    public let store: ModelStore
    public let device: Device
    /// Overrides the pack's dtype (default: the pack's dtype on CUDA, fp32 on CPU).
    public let dtype: DType?
    /// nil: one model at a time. Otherwise keep components resident while their estimates sum within it.
    public let memoryBudgetBytes: Int64?
    /// The most device memory ProStudio may use (`device.memory_limit_gb`): a component whose estimate exceeds
    /// it, or the device's free memory, is refused before loading. nil: only free memory counts.
    public let memoryLimitBytes: Int64?
    /// Free memory of the device now (default: the CUDA driver's figure; nil on the CPU, where no check is made).
    private let freeMemory: @Sendable (Device) -> Int64?
    private let logger: Logger

    private var residents: [Key: Resident] = [:]
    private var tick: UInt64 = 0
    private var capped = false
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var packs: [String: ModelPack] = [:]
    public private(set) var records: [ModelUseRecord] = []
    /// How many times a component file was actually loaded (not reused).
    public private(set) var loadCount = 0
    /// The most components that were ever resident together.
    public private(set) var maxResident = 0

    public init(store: ModelStore, device: Device = .preferred, dtype: DType? = nil, memoryBudgetBytes: Int64? = nil,
                memoryLimitBytes: Int64? = nil, freeMemory: @escaping @Sendable (Device) -> Int64? = MemoryFit.deviceFreeBytes,
                logger: Logger = Logger(label: "prostudio.torch")) {
        self.store = store
        self.device = device
        self.dtype = dtype
        self.memoryBudgetBytes = memoryBudgetBytes
        self.memoryLimitBytes = memoryLimitBytes
        self.freeMemory = freeMemory
        self.logger = logger
    }

    /// Runs `body` with `pack`'s `component` loaded: reuses it when resident, else unloads what must go
    /// (everything, without a budget), empties the cache and loads it. Records load time and peak memory.
    /// `body` runs in the caller's isolation; do not keep the module beyond it (it may be unloaded after).
    public func withModel<R>(pack: String, component: String,
                                         isolation: isolated (any Actor)? = #isolation,
                                         _ body: (TorchModule) async throws -> R) async throws -> R {
        let lease = try await acquire(Key(pack: pack, component: component))
        let start = ContinuousClock.now
        do {
            let result = try await body(lease.module)
            await release(lease, useSeconds: (ContinuousClock.now - start).seconds)
            return result
        } catch {
            await release(lease, useSeconds: (ContinuousClock.now - start).seconds)
            throw error
        }
    }

    /// Components resident now, for tests and `doctor`.
    public var residentKeys: [Key] { Array(residents.keys) }

    /// Takes the records gathered so far (the pipeline moves them into the sidecar).
    public func drainRecords() -> [ModelUseRecord] {
        defer { records.removeAll() }
        return records
    }

    /// Unloads everything and empties the cache (between jobs, on shutdown).
    public func unloadAll() async {
        await waitForTurn()
        evict(Array(residents.keys))
        handOff()
    }

    // MARK: - internals

    struct Lease: Sendable {
        let key: Key
        let module: TorchModule
        let pack: ModelPack
        let loaded: Bool
        let loadSeconds: Double
        let startedAt: Date
    }

    private func waitForTurn() async {
        if !busy {
            busy = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
        // handOff() left busy set for us.
    }

    private func handOff() {
        if waiters.isEmpty {
            busy = false
        } else {
            waiters.removeFirst().resume()
        }
    }

    private func evict(_ keys: [Key]) {
        guard !keys.isEmpty else { return }
        for key in keys {
            residents.removeValue(forKey: key)?.module.unload()
            logger.debug("unloaded model", metadata: ["model": "\(key)"])
        }
        TorchRuntime.emptyCache()
    }

    private func acquire(_ key: Key) async throws -> Lease {
        await waitForTurn()
        do {
            return try await acquireHoldingTurn(key)
        } catch {
            handOff()
            throw error
        }
    }

    private func acquireHoldingTurn(_ key: Key) async throws -> Lease {
        let startedAt = Date()
        tick += 1
        let pack = try loadedPack(key.pack)
        TorchRuntime.resetPeakMemory(on: device)
        if var resident = residents[key] {
            resident.lastUse = tick
            residents[key] = resident
            return Lease(key: key, module: resident.module, pack: pack, loaded: false, loadSeconds: 0, startedAt: startedAt)
        }
        let (_, url) = try pack.component(key.component)
        let estimate = pack.memoryEstimate(of: key.component)
        // Make room before loading: the point is never to hold two big models at once.
        if let budget = memoryBudgetBytes {
            var used = residents.values.reduce(0) { $0 + $1.estimate }
            var victims: [Key] = []
            for (k, r) in residents.sorted(by: { $0.value.lastUse < $1.value.lastUse }) where used + estimate > budget {
                victims.append(k)
                used -= r.estimate
            }
            evict(victims)
        } else {
            evict(Array(residents.keys))
        }
        // After the evictions (and the cache emptied): what is free now is what this load can have.
        if let refusal = MemoryFit.refusal(pack: key.pack, component: key.component, device: device, needBytes: estimate,
                                           freeBytes: freeMemory(device), limitBytes: memoryLimitBytes) {
            logger.warning("model refused before loading", metadata: ["model": "\(key)", "reason": "\(refusal)"])
            throw refusal
        }
        if case .cuda(let index) = device, let limit = memoryLimitBytes, !capped {
            // Once per manager, before its first CUDA load (libtorch is open by now, on the way to this load).
            do { try TorchRuntime.setCUDAMemoryLimit(index, bytes: limit) } catch {
                logger.warning("could not cap GPU memory", metadata: ["error": "\(error)"])
            }
            capped = true
        }
        TorchRuntime.resetPeakMemory(on: device)
        let dtype = self.dtype ?? pack.dtype(on: device)
        let device = self.device
        let start = ContinuousClock.now
        let module: TorchModule
        do {
            module = try await TorchModule.load(path: url.path, device: device, dtype: dtype)
        } catch let error as TorchError {
            throw ModelPackError.loadFailed(pack: key.pack, component: key.component, file: url.path, error: error)
        }
        let seconds = (ContinuousClock.now - start).seconds
        residents[key] = Resident(module: module, estimate: estimate, lastUse: tick)
        loadCount += 1
        maxResident = max(maxResident, residents.count)
        logger.info("loaded model", metadata: [
            "model": "\(key)", "device": "\(device)", "dtype": "\(dtype)", "seconds": "\(String(format: "%.3f", seconds))",
        ])
        return Lease(key: key, module: module, pack: pack, loaded: true, loadSeconds: seconds, startedAt: startedAt)
    }

    private func loadedPack(_ name: String) throws -> ModelPack {
        if let pack = packs[name] { return pack }
        let pack = try store.pack(named: name)
        packs[name] = pack
        return pack
    }

    private func release(_ lease: Lease, useSeconds: Double) {
        let memory = TorchRuntime.memory(on: device)
        let record = ModelUseRecord(
            pack: lease.pack.name, packIdentity: lease.pack.identity, component: lease.key.component,
            device: device, dtype: lease.module.dtype, loaded: lease.loaded, loadSeconds: lease.loadSeconds,
            useSeconds: useSeconds, peakMemoryBytes: memory.peakBytes,
            memorySource: device.isCUDA ? "cuda_peak_allocated" : "process_peak_rss", startedAt: lease.startedAt,
            peakRSSBytes: TorchRuntime.processPeakRSSBytes, peakGPUBytes: memory.device.isCUDA ? memory.peakBytes : nil)
        records.append(record)
        logger.debug("model use", metadata: [
            "model": "\(lease.key)", "loaded": "\(lease.loaded)", "peak_bytes": "\(memory.peakBytes)",
        ])
        handOff()
    }
}
