import Foundation

/// The model packs a job's worker will load, by pack name (the folder names under the models folder), worked out from
/// the manifest without loading anything: the supervisor links no libtorch, and queue order (issue 32) compares these
/// sets with what a warm worker holds. It follows what the engines choose (`EngineSet`, `PackCheck`):
///
/// - voice `piper` / `kokoro`: its `pack`, else the engine's default pack (`PackCheck.defaultVoicePack`, `defaultKokoroPack`);
/// - voice `auto`: a Kokoro pack installed with a voice for the voice's language (pack.json `languages`), else the Piper
///   pack when its `espeak_voice` speaks that language, else espeak-ng (no pack): `EngineSet.resolve`'s order;
/// - visuals `diffusion`: its `pack`; `library`: the sentence encoder (`minilm-l6-v2`, or its `pack`); `explainer`: the
///   sentence encoder when installed (icons), else none;
/// - music `musicgen`: its `pack`; each scene's `sfx`: its `pack`.
///
/// A pack named but not installed is still listed: pick-up rejects such a job anyway (`PackCheck`).
public enum ModelNeeds {
    /// The sentence encoder the library and explainer engines load (`SentenceEncoder.defaultPack`).
    public static let sentencePack = "minilm-l6-v2"

    /// Scenes carry the voice and visuals they inherit from the job's, so the scenes (and the music) are the whole answer.
    public static func packs(for m: JobManifest, models: String) -> Set<String> {
        let installed = InstalledPacks(models: models)
        var out = musicNeeds(m)
        for scene in m.scenes { out.formUnion(sceneNeeds(scene.voice, scene.visuals, installed)) }
        if m.scenes.isEmpty { out.formUnion(sceneNeeds(m.voice, m.visuals, installed)) }
        return out
    }

    private static func sceneNeeds(_ voice: JobManifest.Voice, _ visuals: JobManifest.Visuals, _ installed: InstalledPacks) -> Set<String> {
        var out = Set<String>()
        if let pack = voicePack(voice, installed) { out.insert(pack) }
        switch visuals.engine {
        case .diffusion: if let pack = visuals.pack { out.insert(pack) }
        case .library: out.insert(visuals.pack ?? sentencePack)
        case .explainer: if installed.exists(sentencePack) { out.insert(sentencePack) }
        case .procedural: break
        }
        return out
    }

    private static func musicNeeds(_ m: JobManifest) -> Set<String> {
        var out = Set<String>()
        if m.music.engine == .musicgen, let pack = m.music.pack, !pack.isEmpty { out.insert(pack) }
        for scene in m.scenes { if let pack = scene.sfx?.pack, !pack.isEmpty { out.insert(pack) } }
        return out
    }

    static func voicePack(_ voice: JobManifest.Voice, _ installed: InstalledPacks) -> String? {
        switch voice.engine {
        case .espeak: return nil
        case .piper: return voice.pack ?? PackCheck.defaultVoicePack
        case .kokoro: return voice.pack ?? PackCheck.defaultKokoroPack
        case .auto:
            let language = InstalledPacks.language(voice.voice)
            if let kokoro = installed.kokoro(speaking: language) { return kokoro }
            let piper = voice.pack ?? PackCheck.defaultVoicePack
            return installed.piperLanguage(piper) == language ? piper : nil
        }
    }
}

/// What the models folder holds, read from pack.json files only (cheap: a few small files per pick-up).
struct InstalledPacks {
    let models: String
    private var cache: [String: [String: Any]] = [:]

    init(models: String) {
        self.models = models
        let fm = FileManager.default
        for name in ((try? fm.contentsOfDirectory(atPath: models)) ?? []).sorted() where !name.hasPrefix(".") {
            guard let data = fm.contents(atPath: models + "/" + name + "/pack.json"),
                  let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { continue }
            cache[name] = json
        }
    }

    func exists(_ name: String) -> Bool { cache[name] != nil }

    /// `en-us` -> `en`, as the engines compare a voice with a pack.
    static func language(_ voice: String) -> String { String(voice.lowercased().split(separator: "-").first ?? "") }

    func kokoro(speaking language: String) -> String? {
        cache.keys.sorted().first { name in
            guard let json = cache[name], json["kind"] as? String == "speech", json["architecture"] as? String == "kokoro" else { return false }
            return ((json["languages"] as? [String]) ?? []).map(Self.language).contains(language)
        }
    }

    func piperLanguage(_ name: String) -> String? {
        guard let json = cache[name], json["architecture"] as? String == "vits-piper", let voice = json["espeak_voice"] as? String else { return nil }
        return Self.language(voice)
    }
}
