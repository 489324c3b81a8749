import Checksum
import Foundation

/// What a pack is for; the engines pick packs by kind.
public enum PackKind: String, Sendable, Codable, CaseIterable {
    case speech, video, music
    /// A sentence encoder (the `library` visuals engine); its tokenizer and pooling are in pack.json.
    case embedding
}

/// Latent geometry of a video pack: channels and how much the VAE compresses time and space.
public struct LatentGeometry: Sendable, Codable, Equatable {
    public var channels: Int
    public var temporalCompression: Int
    public var spatialCompression: Int

    enum CodingKeys: String, CodingKey {
        case channels
        case temporalCompression = "temporal_compression"
        case spatialCompression = "spatial_compression"
    }
}

/// One TorchScript file of a pack (text encoder, denoiser, VAE decoder, vocoder, ...).
public struct PackComponent: Sendable, Codable, Equatable {
    public var file: String
    public var sha256: String
    public var bytes: Int64?
    public var methods: [String]?
    public var description: String?
    /// Resident memory while this component is loaded; the pack's estimate when absent.
    public var memoryEstimateBytes: Int64?

    enum CodingKeys: String, CodingKey {
        case file, sha256, bytes, methods, description
        case memoryEstimateBytes = "memory_estimate_bytes"
    }
}

/// pack.json, format 1 (Docs/torch-runtime.md). Kind-specific fields are optional here and checked by `validate`.
public struct PackManifest: Sendable, Codable, Equatable {
    public var format: Int
    public var name: String
    public var kind: PackKind
    public var architecture: String
    public var dtype: String
    public var memoryEstimateBytes: Int64
    public var licence: String
    public var source: String
    public var components: [String: PackComponent]
    public var sampleRate: Int?
    public var hopLength: Int?
    public var melBins: Int?
    public var frameRate: Int?
    public var codebooks: Int?
    public var card: Int?
    public var fps: Double?
    public var latent: LatentGeometry?

    enum CodingKeys: String, CodingKey {
        case format, name, kind, architecture, dtype, licence, source, components, fps, latent, codebooks, card
        case memoryEstimateBytes = "memory_estimate_bytes"
        case sampleRate = "sample_rate"
        case hopLength = "hop_length"
        case melBins = "mel_bins"
        case frameRate = "frame_rate"
    }

    public static let supportedFormat = 1

    /// Problems a decoder cannot see: kind-specific fields, file names, dtype. Empty when sound.
    public func problems() -> [String] {
        var out: [String] = []
        if format != Self.supportedFormat { out.append("format \(format) is not supported (this build reads format \(Self.supportedFormat))") }
        if components.isEmpty { out.append("no components") }
        if DType(name: dtype)?.isFloatingPoint != true { out.append("dtype '\(dtype)' is not float32, float16 or bfloat16") }
        switch kind {
        case .speech, .music:
            if (sampleRate ?? 0) <= 0 { out.append("a \(kind.rawValue) pack needs sample_rate") }
        case .video:
            if (fps ?? 0) <= 0 { out.append("a video pack needs fps") }
            if latent == nil { out.append("a video pack needs latent {channels, temporal_compression, spatial_compression}") }
        case .embedding:
            break  // the engine checks its own fields (tokenizer, pooling) when it loads the pack
        }
        for (name, c) in components.sorted(by: { $0.key < $1.key }) {
            if c.file.isEmpty || c.file.hasPrefix("/") || c.file.split(separator: "/").contains("..") {
                out.append("component \(name): file '\(c.file)' must be a relative path inside the pack")
            }
            if c.sha256.count != 64 || !c.sha256.allSatisfy(\.isHexDigit) {
                out.append("component \(name): sha256 must be 64 hex digits")
            }
        }
        return out
    }
}

/// A missing or broken pack, told so a person can fix it: which pack, which file, what to do.
public enum ModelPackError: Error, Sendable, CustomStringConvertible, Equatable {
    case modelsFolderMissing(folder: String)
    case packNotFound(name: String, folder: String, available: [String])
    case manifestMissing(pack: String, file: String)
    case manifestUnreadable(pack: String, file: String, reason: String)
    case manifestInvalid(pack: String, file: String, problems: [String])
    case componentNotFound(pack: String, component: String, available: [String])
    case fileMissing(pack: String, component: String, file: String)
    case hashMismatch(pack: String, component: String, file: String, expected: String, actual: String)
    case loadFailed(pack: String, component: String, file: String, error: TorchError)
    /// Refused before loading: the component's estimate exceeds the device's free memory (or the configured limit).
    case doesNotFit(pack: String, component: String, device: Device, needBytes: Int64, freeBytes: Int64?, limitBytes: Int64?)

    public var pack: String? {
        switch self {
        case .modelsFolderMissing: nil
        case .packNotFound(let name, _, _): name
        case .manifestMissing(let p, _), .manifestUnreadable(let p, _, _), .manifestInvalid(let p, _, _),
             .componentNotFound(let p, _, _), .fileMissing(let p, _, _), .hashMismatch(let p, _, _, _, _),
             .loadFailed(let p, _, _, _), .doesNotFit(let p, _, _, _, _, _): p
        }
    }

    private static let reinstall = "reinstall the pack (re-run its export script, or Tools/export/make-test-packs DIR for the test packs)"

    public var description: String {
        switch self {
        case .modelsFolderMissing(let folder):
            return "models folder \(folder) does not exist: create it and install packs there, or pass --models DIR " +
                "(or set PROSTUDIO_MODELS); `Tools/export/make-test-packs DIR` writes tiny test packs"
        case .packNotFound(let name, let folder, let available):
            let have = available.isEmpty ? "no packs are installed there" : "installed: \(available.joined(separator: ", "))"
            return "model pack '\(name)' is not installed in \(folder) (\(have)); install it as \(folder)/\(name)/ " +
                "with its pack.json, or point --models at the folder that holds it"
        case .manifestMissing(let pack, let file):
            return "model pack '\(pack)': \(file) is missing; \(Self.reinstall)"
        case .manifestUnreadable(let pack, let file, let reason):
            return "model pack '\(pack)': \(file) is not valid pack JSON (\(reason)); \(Self.reinstall)"
        case .manifestInvalid(let pack, let file, let problems):
            return "model pack '\(pack)': \(file): \(problems.joined(separator: "; ")); fix pack.json or \(Self.reinstall)"
        case .componentNotFound(let pack, let component, let available):
            return "model pack '\(pack)' has no component '\(component)' (it has \(available.joined(separator: ", "))); " +
                "choose a pack made for this engine"
        case .fileMissing(let pack, let component, let file):
            return "model pack '\(pack)': component \(component): file \(file) is missing; \(Self.reinstall)"
        case .hashMismatch(let pack, let component, let file, let expected, let actual):
            return "model pack '\(pack)': component \(component): \(file) is corrupt or was changed " +
                "(sha256 \(actual.prefix(12))..., pack.json says \(expected.prefix(12))...); \(Self.reinstall)"
        case .loadFailed(let pack, let component, let file, let error):
            return "model pack '\(pack)': component \(component): \(file) could not be loaded (\(error.message)); " +
                (error.code == .loadFailed || error.code == .notFound ? Self.reinstall : "check the device and the pack's dtype")
        case .doesNotFit(let pack, let component, let device, let need, let free, let limit):
            let mib = { (b: Int64) in "\(b >> 20) MiB" }
            var have: [String] = []
            if let free { have.append("\(mib(free)) free on \(device)") }
            if let limit { have.append("device.memory_limit_gb allows \(mib(limit))") }
            return "model pack '\(pack)': component \(component) needs about \(mib(need)) (pack.json memory estimate) but only " +
                "\(have.joined(separator: " and ")); not loaded. Free the device (another process may hold it), raise " +
                "device.memory_limit_gb, or use a smaller pack"
        }
    }
}

/// An installed pack: its parsed pack.json and where it lives.
public struct ModelPack: Sendable {
    public let manifest: PackManifest
    public let directory: URL
    /// SHA-256 of pack.json: names this exact pack (its files' hashes are inside) in cache keys and sidecars.
    public let identity: String
    /// pack.json as read: engines decode their own engine-specific fields from it (e.g. a voice's phoneme map),
    /// which `PackManifest` does not model.
    public let json: Data

    public var name: String { manifest.name }
    public var kind: PackKind { manifest.kind }
    public var componentNames: [String] { manifest.components.keys.sorted() }

    /// Reads and checks `directory/pack.json` (not the weights' hashes: see `verify`).
    public init(directory: URL) throws(ModelPackError) {
        let name = directory.lastPathComponent
        let file = directory.appendingPathComponent("pack.json")
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw .manifestMissing(pack: name, file: file.path)
        }
        let data: Data
        let manifest: PackManifest
        do {
            data = try Data(contentsOf: file)
        } catch {
            throw .manifestUnreadable(pack: name, file: file.path, reason: "\(error.localizedDescription)")
        }
        do {
            manifest = try JSONDecoder().decode(PackManifest.self, from: data)
        } catch let DecodingError.keyNotFound(key, ctx) {
            throw .manifestUnreadable(pack: name, file: file.path,
                                      reason: "missing field '\((ctx.codingPath + [key]).map(\.stringValue).joined(separator: "."))'")
        } catch let DecodingError.typeMismatch(_, ctx), let DecodingError.valueNotFound(_, ctx), let DecodingError.dataCorrupted(ctx) {
            let at = ctx.codingPath.map(\.stringValue).joined(separator: ".")
            throw .manifestUnreadable(pack: name, file: file.path, reason: at.isEmpty ? ctx.debugDescription : "\(at): \(ctx.debugDescription)")
        } catch {
            throw .manifestUnreadable(pack: name, file: file.path, reason: "\(error)")
        }
        var problems = manifest.problems()
        if manifest.name != name {
            problems.insert("name '\(manifest.name)' does not match the folder name '\(name)'", at: 0)
        }
        if !problems.isEmpty { throw .manifestInvalid(pack: name, file: file.path, problems: problems) }
        self.manifest = manifest
        self.directory = directory
        self.identity = SHA256.hex(of: data)
        self.json = data
    }

    /// The component's entry and its file's URL; throws when the pack has no such component or the file is gone.
    public func component(_ component: String) throws(ModelPackError) -> (PackComponent, URL) {
        guard let entry = manifest.components[component] else {
            throw .componentNotFound(pack: name, component: component, available: componentNames)
        }
        let url = directory.appendingPathComponent(entry.file)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw .fileMissing(pack: name, component: component, file: url.path)
        }
        return (entry, url)
    }

    /// Memory a loaded component is expected to take: its own estimate, else the pack's.
    public func memoryEstimate(of component: String) -> Int64 {
        manifest.components[component]?.memoryEstimateBytes ?? manifest.memoryEstimateBytes
    }

    /// Bytes on disk of every regular file in the pack folder.
    public func sizeOnDisk() -> Int64 {
        let files = (try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: [.fileSizeKey])) ?? []
        return files.reduce(0) { $0 + Int64((try? $1.resourceValues(forKeys: [.fileSizeKey]).fileSize) ?? 0) }
    }

    /// Checks every component's sha256, then (when `load`) loads each once on `device` and frees it.
    /// Stops at the first failure.
    public func verify(load: Bool = true, device: Device = .cpu) throws(ModelPackError) -> [ComponentCheck] {
        var checks: [ComponentCheck] = []
        for component in componentNames {
            let (entry, url) = try self.component(component)
            let actual: String
            do { actual = try SHA256.hex(ofFile: url) } catch {
                throw .fileMissing(pack: name, component: component, file: url.path)
            }
            guard actual == entry.sha256.lowercased() else {
                throw .hashMismatch(pack: name, component: component, file: url.path, expected: entry.sha256, actual: actual)
            }
            var seconds: Double?
            if load {
                let start = ContinuousClock.now
                do throws(TorchError) {
                    let module = try TorchModule(path: url.path, device: device, dtype: dtype(on: device))
                    for method in entry.methods ?? [] where !module.hasMethod(method) {
                        throw TorchError(.noSuchMethod, "pack.json lists method '\(method)' but the module has none", context: "")
                    }
                    module.unload()
                } catch {
                    throw .loadFailed(pack: name, component: component, file: url.path, error: error)
                }
                seconds = (ContinuousClock.now - start).seconds
            }
            checks.append(ComponentCheck(component: component, file: url.path, sha256: actual, loadSeconds: seconds))
        }
        return checks
    }

    /// The pack's dtype on CUDA; fp32 on CPU (half precision on CPU is slow or unsupported for many ops).
    public func dtype(on device: Device) -> DType {
        device.isCUDA ? (DType(name: manifest.dtype) ?? .float16) : .float32
    }
}

public struct ComponentCheck: Sendable, Codable {
    public var component: String
    public var file: String
    public var sha256: String
    public var loadSeconds: Double?
}

/// The configured folder of packs: `DIR/NAME/pack.json`.
public struct ModelStore: Sendable {
    public let root: URL

    public init(root: URL) { self.root = root }

    /// $PROSTUDIO_MODELS, else the user's own folder ($XDG_DATA_HOME/prostudio/models, by default
    /// ~/.local/share/prostudio/models, where `scripts/demo` installs the Piper voice) when it exists, else
    /// /var/lib/prostudio/models (the service's, beside its state, owned by its user).
    public static var defaultRoot: URL {
        let env = ProcessInfo.processInfo.environment
        if let dir = env["PROSTUDIO_MODELS"], !dir.isEmpty { return URL(fileURLWithPath: dir) }
        let user = userRoot(env)
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: user.path, isDirectory: &isDir), isDir.boolValue { return user }
        return URL(fileURLWithPath: "/var/lib/prostudio/models")
    }

    /// $XDG_DATA_HOME/prostudio/models, else ~/.local/share/prostudio/models.
    public static func userRoot(_ env: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let data = env["XDG_DATA_HOME"], data.hasPrefix("/") { return URL(fileURLWithPath: data + "/prostudio/models") }
        return URL(fileURLWithPath: (env["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()) + "/.local/share/prostudio/models")
    }

    /// Every pack folder, read. Broken packs come back as errors beside the good ones, so one bad pack
    /// does not hide the rest.
    public func scan() throws(ModelPackError) -> [Result<ModelPack, ModelPackError>] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isDir), isDir.boolValue else {
            throw .modelsFolderMissing(folder: root.path)
        }
        let entries = (try? FileManager.default.contentsOfDirectory(at: root, includingPropertiesForKeys: [.isDirectoryKey],
                                                                     options: [.skipsHiddenFiles])) ?? []
        return entries
            .filter { (try? $0.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) == true }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
            .map { url in Result { () throws(ModelPackError) in try ModelPack(directory: url) } }
    }

    /// The installed packs that read cleanly.
    public func list() throws(ModelPackError) -> [ModelPack] {
        try scan().compactMap { try? $0.get() }
    }

    public func pack(named name: String) throws(ModelPackError) -> ModelPack {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isDir), isDir.boolValue else {
            throw .modelsFolderMissing(folder: root.path)
        }
        let folder = root.appendingPathComponent(name)
        guard !name.isEmpty, !name.contains("/"), FileManager.default.fileExists(atPath: folder.path) else {
            let available = (try? list().map(\.name)) ?? []
            throw .packNotFound(name: name, folder: root.path, available: available)
        }
        return try ModelPack(directory: folder)
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
