import Daemon
import Engines
import Explainer
import Foundation
import Library
import MusicGen
import NeuralVoice
import Pipeline
import TorchRuntime
import Synchronization
import VideoDiffusion

/// The engines a run can use: the embedded ones, plus the model engines over the packs folder, all on
/// one model manager for the process, so one model is resident at a time whichever engine asks.
enum ModelEngines {
    /// `models`, else $PROSTUDIO_MODELS, else the default folder. The Piper voice is always registered (a
    /// manifest asking for it without its pack gets the install command); `diffusion` when a video pack is
    /// installed, `musicgen` when a music pack is.
    /// `cache`: where the library engine keeps its indexes (CACHE/library/); nil for its default.
    /// `device`: the config's `device:` (a worker's spec); nil: cuda:0 when present, else the CPU, no limit.
    /// `manager`: a warm worker's, kept from job to job with its models loaded (`modelManager`); nil: a new one.
    static func engineSet(models: URL?, cache: URL? = nil, device settings: DeviceSettings? = nil, manager kept: ModelManager? = nil) -> EngineSet {
        var set = EngineSet.embedded
        // A kept manager was made from the same folder and settings (`modelManager`), so these are its own.
        let store = ModelStore(root: models ?? ModelStore.defaultRoot)
        let device = Device.preferred(index: settings?.index ?? 0)
        // The limit is GPU memory: on the CPU the engines keep their own check against the machine's available memory.
        let limit = device.isCUDA ? settings?.memoryLimitBytes : nil
        let manager = kept ?? modelManager(models: models, device: settings, budgetBytes: nil)
        set.speech[.piper] = PiperEngine(store: store, manager: manager)
        set.speech[.kokoro] = KokoroEngine(store: store, manager: manager)
        // Always there, like piper: a manifest asking for it without the pack gets the install command.
        // Icons when the MiniLM pack and the Material Icons font are installed; else type-only cards.
        set.visuals[.explainer] = ExplainerVisuals(icons: .init(store: store, cache: (cache ?? LibraryVisuals.defaultCacheRoot).appendingPathComponent("explainer-icons")))
        set.visuals[.library] = LibraryVisuals(store: store, manager: manager, cacheRoot: cache ?? LibraryVisuals.defaultCacheRoot)
        if let packs = try? store.list(), packs.contains(where: { $0.kind == .video }) {
            set.visuals[.diffusion] = DiffusionVisuals(store: store, manager: manager, device: device, memoryLimitBytes: limit)
        }
        if let packs = try? store.list(), packs.contains(where: { $0.kind == .music }) {
            set.music[.musicgen] = MusicGenEngine(store: store, manager: manager, device: device, memoryLimitBytes: limit)
        }
        set.drainModelUses = { await drain(manager) }
        return set
    }

    /// The one model manager of a process: `budgetBytes` nil keeps one component loaded at a time; a warm worker
    /// passes its budget so several stay loaded from job to job.
    static func modelManager(models: URL?, device settings: DeviceSettings?, budgetBytes: Int64?) -> ModelManager {
        let store = ModelStore(root: models ?? ModelStore.defaultRoot)
        let device = Device.preferred(index: settings?.index ?? 0)
        let limit = device.isCUDA ? settings?.memoryLimitBytes : nil
        return ModelManager(store: store, device: device, memoryBudgetBytes: budgetBytes, memoryLimitBytes: limit)
    }

    /// The manager's records since the last drain.
    private static func drain(_ manager: ModelManager) async -> [ModelUse] {
        let drained = await manager.drainRecords()
        // One entry per component, in first-use order: a chunked decode makes dozens of calls.
        var uses: [ModelUse] = []
        for r in drained {
            if let i = uses.firstIndex(where: { $0.pack == r.pack && $0.component == r.component }) {
                uses[i].loads += r.loaded ? 1 : 0
                uses[i].uses += 1
                uses[i].load_seconds += r.loadSeconds
                uses[i].use_seconds += r.useSeconds
                uses[i].peak_memory_bytes = max(uses[i].peak_memory_bytes, r.peakMemoryBytes)
                uses[i].peak_rss_bytes = max(uses[i].peak_rss_bytes ?? -1, r.peakRSSBytes)
                if let g = r.peakGPUBytes { uses[i].peak_gpu_bytes = max(uses[i].peak_gpu_bytes ?? 0, g) }
            } else {
                uses.append(ModelUse(pack: r.pack, component: r.component, device: "\(r.device)", loads: r.loaded ? 1 : 0, uses: 1,
                                     loadSeconds: r.loadSeconds, useSeconds: r.useSeconds, peakMemoryBytes: r.peakMemoryBytes,
                                     peakRSSBytes: r.peakRSSBytes, peakGPUBytes: r.peakGPUBytes))
            }
        }
        return uses
    }
}
