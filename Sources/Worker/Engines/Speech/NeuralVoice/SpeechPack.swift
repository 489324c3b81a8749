import Engines
import Foundation
import Manifest
import TorchRuntime

extension ModelStore {
    /// A speech pack of `architecture` for the `engine` voice, or the error a manifest's author can act on: the
    /// command that installs it when it is missing, what it is when it is another kind of pack. `repair`: what to
    /// add to an unreadable pack's error (how to export it again).
    func speechPack(named name: String, engine: String, architecture: String, repair: String = "") throws(EngineError) -> ModelPack {
        let root = root.path
        let pack: ModelPack
        do {
            pack = try self.pack(named: name)
        } catch {
            switch error {
            case .modelsFolderMissing, .packNotFound:
                throw EngineError(code: "speech.pack_missing",
                                  message: "the \(engine) voice needs the model pack '\(name)', which is not installed in \(root): " +
                                      "install it with `\(PackCheck.installCommand(.speech, name, root))`\(PackCheck.note(.speech, name)) and render with `--models \(root)`",
                                  field: "voice.pack")
            default:
                throw EngineError(code: "speech.pack_invalid", message: "\(error)\(repair)", field: "voice.pack")
            }
        }
        guard pack.kind == .speech, pack.manifest.architecture == architecture else {
            throw EngineError(code: "speech.pack_invalid",
                              message: "model pack '\(name)' is a \(pack.kind.rawValue) pack of architecture '\(pack.manifest.architecture)', not a \(engine.prefix(1).uppercased() + engine.dropFirst()) voice (\(architecture))",
                              field: "voice.pack")
        }
        return pack
    }
}
