import Engines
import Foundation
import NeuralVoice
import Pipeline
import TorchRuntime
import VideoDiffusion

/// The engines a run can use: the embedded ones, plus the model engines over the packs folder, all on
/// one model manager for the process, so one model is resident at a time whichever engine asks.
enum ModelEngines {
    /// `models`, else $PROSTUDIO_MODELS, else the default folder. The Piper voice is always registered (a
    /// manifest asking for it without its pack gets the install command); `diffusion` when a video pack is
    /// installed.
    static func engineSet(models: URL?) -> EngineSet {
        var set = EngineSet.embedded
        let store = ModelStore(root: models ?? ModelStore.defaultRoot)
        let manager = ModelManager(store: store)
        set.speech[.piper] = PiperEngine(store: store, manager: manager)
        if let packs = try? store.list(), packs.contains(where: { $0.kind == .video }) {
            set.visuals[.diffusion] = DiffusionVisuals(store: store, manager: manager)
        }
        return set
    }
}
