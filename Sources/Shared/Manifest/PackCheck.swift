import Foundation

/// Model packs a manifest names, checked against the models folder before any work starts: a Piper voice, a
/// video (diffusion) or music (musicgen, sfx) pack that is not installed is an invalid manifest at `validate` and
/// at pick-up (`rejected`), naming the pack and the command that installs that very pack, not a `permanent`
/// failure after speech ran (issue 27). Only folders and pack.json's `kind` are read: the supervisor links no
/// libtorch, and the engines still check the pack's files when they load it. `voice: {engine: auto}` is never
/// refused: it falls back to espeak-ng without its pack.
public enum PackCheck {
    /// The pack kinds, as pack.json's `kind` spells them.
    public enum Kind: String, Sendable { case speech, video, music }

    /// The Piper voice `voice: {engine: piper}` uses when it names no pack (PiperEngine.defaultPack).
    public static let defaultVoicePack = "joe-medium"
    /// The Kokoro pack `voice: {engine: kokoro}` uses when it names no pack (KokoroEngine.defaultPack).
    public static let defaultKokoroPack = "kokoro-ja"

    /// $PROSTUDIO_MODELS, else /var/lib/prostudio/models: the same rule as TorchRuntime's ModelStore.defaultRoot,
    /// repeated because Manifest (and so the supervisor) does not link TorchRuntime.
    public static var defaultModels: String {
        if let env = ProcessInfo.processInfo.environment["PROSTUDIO_MODELS"], !env.isEmpty { return env }
        return "/var/lib/prostudio/models"
    }

    /// One problem per missing pack (at its first field), in manifest order.
    public static func problems(in m: JobManifest, models: String, file: String) -> [ManifestError] {
        var wanted: [(field: String, kind: Kind, pack: String?)] = []
        let voices = [("voice", m.voice)] + m.scenes.enumerated().map { ("scenes[\($0.offset)].voice", $0.element.voice) }
        for (field, voice) in voices where voice.engine == .piper { wanted.append((field + ".pack", .speech, voice.pack ?? defaultVoicePack)) }
        for (field, voice) in voices where voice.engine == .kokoro { wanted.append((field + ".pack", .speech, voice.pack ?? defaultKokoroPack)) }
        for (i, scene) in m.scenes.enumerated() where scene.visuals.engine == .diffusion {
            wanted.append((scene.visuals == m.visuals ? "visuals.pack" : "scenes[\(i)].visuals.pack", .video, scene.visuals.pack))
        }
        if m.music.engine == .musicgen, let pack = m.music.pack, !pack.isEmpty { wanted.append(("music.pack", .music, pack)) }
        for (i, scene) in m.scenes.enumerated() { if let sfx = scene.sfx { wanted.append(("scenes[\(i)].sfx.pack", .music, sfx.pack)) } }

        var seen = Set<String>()
        var out: [ManifestError] = []
        let installed = packs(in: models)
        for w in wanted where seen.insert("\(w.kind.rawValue)/\(w.pack ?? "")").inserted {
            if let name = w.pack {
                if installed[name] == w.kind { continue }
                let found = installed[name].map { "\"\(name)\", which is a \($0.rawValue) pack, not a \(w.kind.rawValue) one" }
                    ?? "\"\(name)\", which is not installed in \(models)"
                out.append(ManifestError(.packMissing, file: file, field: w.field, found: found,
                                         expected: "an installed \(w.kind.rawValue) pack (`prostudio models list --models \(models)`); install this one with `\(installCommand(w.kind, name, models))`\(note(w.kind, name))"))
            } else if !installed.values.contains(w.kind) {
                out.append(ManifestError(.packMissing, file: file, field: w.field, found: "no video pack installed in \(models)",
                                         expected: "a video pack named in visuals.pack; install the tiny test one with `\(installCommand(.video, "tiny-video", models))`"))
            }
        }
        return out
    }

    /// The command that writes the pack `name` into `models`: `prostudio models install` for the packs it knows,
    /// otherwise the exporter under Tools/export with the checkpoint the user must bring.
    public static func installCommand(_ kind: Kind, _ name: String, _ models: String) -> String {
        let dir = models.contains(" ") ? "'\(models)'" : models
        switch (kind, name) {
        case (.speech, defaultVoicePack), (.speech, defaultKokoroPack): return "prostudio models install \(name) --models \(dir)"
        case (.speech, "tiny-kokoro"): return "Tools/export/make-test-packs \(dir)"
        case (.speech, let n) where n.hasPrefix("kokoro"): return "/usr/bin/python3 Tools/export/export_kokoro.py --from CHECKPOINT_DIR --out \(dir)/\(name)"
        case (.speech, _): return "/usr/bin/python3 Tools/export/export_piper.py --onnx VOICE.onnx --name \(name) --out \(dir)/\(name)"
        case (.video, "tiny-video"): return "prostudio models install tiny-video --models \(dir)"
        case (.video, _): return "python3 Tools/export/export_wan.py --checkpoint CHECKPOINT --name \(name) --out \(dir)"
        case (.music, "tiny-musicgen"): return "prostudio models install tiny-musicgen --models \(dir)"
        case (.music, _): return "Tools/export/export-musicgen --from CHECKPOINT --name \(name) --out \(dir)"
        }
    }

    /// What the command's placeholders stand for.
    public static func note(_ kind: Kind, _ name: String) -> String {
        switch (kind, name) {
        case (.speech, defaultVoicePack), (.speech, defaultKokoroPack), (.speech, "tiny-kokoro"), (.video, "tiny-video"), (.music, "tiny-musicgen"): ""
        case (.speech, let n) where n.hasPrefix("kokoro"): " (CHECKPOINT_DIR: kokoro-v1_0.pth, config.json and voices/*.pt; Docs/kokoro.md)"
        case (.speech, _): " (VOICE.onnx: the Piper voice's ONNX file, its .onnx.json beside it; Tools/export/install-piper-voice installs the Python packages the export needs)"
        case (.video, _): " (CHECKPOINT: a local Wan2.1 diffusers checkpoint; Docs/video-diffusion.md)"
        case (.music, _): " (CHECKPOINT: a local transformers MusicGen checkpoint)"
        }
    }

    /// Installed pack names and their kinds (a folder holding a pack.json; a kind it does not state or that is not one
    /// of these is left out, so such a pack is reported as not this kind).
    static func packs(in models: String) -> [String: Kind] {
        let fm = FileManager.default
        var out: [String: Kind] = [:]
        for name in (try? fm.contentsOfDirectory(atPath: models)) ?? [] where !name.hasPrefix(".") {
            guard let data = fm.contents(atPath: models + "/" + name + "/pack.json"),
                  let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let kind = (json["kind"] as? String).flatMap(Kind.init(rawValue:)) else { continue }
            out[name] = kind
        }
        return out
    }
}
