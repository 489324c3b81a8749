import Engines
import Foundation
import Pipeline
import TorchRuntime
import VideoDiffusion

/// The engines a run can use: the embedded ones, plus the model engines whose packs are installed.
enum ModelEngines {
    /// `models` (or $PROSTUDIO_MODELS, or the default folder) holding a video pack adds the `diffusion`
    /// visuals engine, on one model manager for the process (one component resident at a time).
    static func engineSet(models: URL?) -> EngineSet {
        var set = EngineSet.embedded
        let store = ModelStore(root: models ?? ModelStore.defaultRoot)
        guard let packs = try? store.list(), packs.contains(where: { $0.kind == .video }) else { return set }
        let manager = ModelManager(store: store)
        set.visuals[.diffusion] = DiffusionVisuals(store: store, manager: manager)
        return set
    }
}
