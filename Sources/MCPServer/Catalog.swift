import Engines
import Foundation
import MCP
import Manifest
import TorchRuntime

/// What a manifest may choose from on this machine: voices, looks, presets and installed model packs. Read from the
/// product's own types (the manifest's enums, espeak-ng's voice list, the packs folder), never a copied list.
struct Catalog: Sendable {
    /// Nil with a remote daemon and no --models: its packs are not visible from here (the API lists none).
    var models: String?

    static let unseen = "the daemon is remote and its packs are not visible from here: pass --models DIR (a copy of its models folder) to list and check them"

    func packs() -> Value {
        guard let models else { return .object(["models": .null, "packs": .array([]), "problems": .array([.string(Self.unseen)])]) }
        let store = ModelStore(root: URL(fileURLWithPath: models))
        let scanned: [Result<ModelPack, ModelPackError>]
        do { scanned = try store.scan() } catch {
            return .object(["models": .string(models), "packs": .array([]), "problems": .array([.string("\(error)")])])
        }
        var packs: [Value] = [], problems: [Value] = []
        for result in scanned {
            switch result {
            case .success(let p):
                packs.append(.object([
                    "name": .string(p.name), "kind": .string(p.kind.rawValue), "architecture": .string(p.manifest.architecture),
                    "path": .string(p.directory.path), "size_bytes": .int(Int(p.sizeOnDisk())),
                    "memory_estimate_bytes": .int(Int(p.manifest.memoryEstimateBytes)), "licence": .string(p.manifest.licence),
                ]))
            case .failure(let e): problems.append(.string("\(e)"))
            }
        }
        return .object(["models": .string(models), "packs": .array(packs), "problems": .array(problems)])
    }

    func voices() -> Value {
        let piper = models.flatMap { try? ModelStore(root: URL(fileURLWithPath: $0)).list() }?.filter { $0.kind == .speech } ?? []
        let espeak = EspeakVoices.list()
        return .object([
            "engines": .array(JobManifest.Voice.Engine.allCases.map { .string($0.rawValue) }),
            "default": .string("voice: {engine: auto} speaks with the Piper pack \(PackCheck.defaultVoicePack) when installed, else espeak-ng en-us"),
            "piper_note": .string(models == nil ? Self.unseen : "Piper packs installed in \(models!)"),
            "piper": .array(piper.map { p in
                .object(["pack": .string(p.name), "manifest": .string("voice: {engine: piper, pack: \(p.name)}")])
            }),
            "espeak": .array(espeak.map { v in
                .object(["voice": .string(v.language), "name": .string(v.name), "manifest": .string("voice: {engine: espeak, voice: \(v.language)}")])
            }),
        ])
    }

    func looks() -> Value {
        func names<E: CaseIterable & RawRepresentable>(_: E.Type) -> Value where E.RawValue == String {
            .array(E.allCases.map { .string($0.rawValue) })
        }
        return .object([
            "visuals_engines": names(JobManifest.Visuals.Engine.self),
            "visuals.look": names(JobManifest.Look.self),
            "visuals.style": names(JobManifest.Style.self),
            "visuals.motion": names(JobManifest.Motion.self),
            "visuals.fit": names(JobManifest.Fit.self),
            "music_engines": names(JobManifest.Music.Engine.self),
            "music.mood": names(JobManifest.Mood.self),
            "captions.mode": names(JobManifest.Captions.Mode.self),
            "captions.position": names(JobManifest.Captions.Position.self),
            "captions.highlight": names(JobManifest.Captions.Highlight.self),
        ])
    }

    func presets() -> Value {
        .object([
            "output.aspect": .array(AspectPreset.all.map { a in
                .object(["aspect": .string(a.name), "width": .int(a.width), "height": .int(a.height)])
            }),
            "output.quality": .array(JobManifest.Quality.allCases.map { .string($0.rawValue) }),
            "note": .string("With neither width nor height an aspect's short side is 720; quality is the encoder's effort (draft is fastest)."),
        ])
    }
}

/// The schema's `output.aspect` presets at their default size (short side 720, as the manifest decoder sizes them).
enum AspectPreset {
    struct Entry { var name: String; var width: Int; var height: Int }
    static var all: [Entry] {
        ManifestFields.aspects.sorted { $0.key < $1.key }.map { name, ratio in
            let (w, h) = ratio
            let (width, height) = w >= h ? (even(720 * w / h), 720) : (720, even(720 * h / w))
            return Entry(name: name, width: width, height: height)
        }
    }
    static func even(_ x: Int) -> Int { x - x % 2 }
}
