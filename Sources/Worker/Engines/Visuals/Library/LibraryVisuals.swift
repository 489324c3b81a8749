import Dispatch
import Engines
import Foundation
import Manifest
import Media
import Synchronization
import TorchRuntime

/// The `library` visuals engine: each scene shows the user's own picture or clip that best matches its prompt and
/// narration (cosine similarity of MiniLM sentence embeddings), each item used once per job; a scene with no item
/// scoring `min_score` falls back to the procedural engine. The chosen file is shown as the manifest's own would be:
/// pictures with the procedural engine's fit and slow move, clips looped or cut to the scene's length.
public final class LibraryVisuals: VisualsEngine {
    public let store: ModelStore
    public let manager: ModelManager
    public let cacheRoot: URL
    public let packName: String
    private let procedural = ProceduralVisuals()
    private let job = Mutex(JobState())

    /// One job's choices. `prepare` starts a job (the pipeline calls it once per visuals stage, with every scene).
    struct JobState {
        var choices: [Int: Result<Choice, LibraryError>] = [:]
        var used: [String: Set<Int>] = [:]
    }

    public enum Choice: Sendable, Equatable {
        case item(LibraryItem, url: URL, score: Float)
        case fallback(bestScore: Float?, minScore: Float)
    }

    public init(store: ModelStore, manager: ModelManager, cacheRoot: URL = LibraryVisuals.defaultCacheRoot,
                pack: String = SentenceEncoder.defaultPack) {
        self.store = store; self.manager = manager; self.cacheRoot = cacheRoot; self.packName = pack
    }

    /// $PROSTUDIO_CACHE, else $XDG_CACHE_HOME/prostudio, else ~/.cache/prostudio (the library indexes go in library/).
    public static var defaultCacheRoot: URL {
        let env = ProcessInfo.processInfo.environment
        if let c = env["PROSTUDIO_CACHE"], !c.isEmpty { return URL(fileURLWithPath: c) }
        if let x = env["XDG_CACHE_HOME"], !x.isEmpty { return URL(fileURLWithPath: x).appendingPathComponent("prostudio") }
        return URL(fileURLWithPath: NSHomeDirectory()).appendingPathComponent(".cache/prostudio")
    }

    public var identity: EngineIdentity {
        EngineIdentity(name: "library", version: "1", packHash: try? store.pack(named: packName).identity)
    }

    public func encoder(field: String = "visuals.pack") throws(LibraryError) -> SentenceEncoder {
        try SentenceEncoder(store: store, name: packName, field: field)
    }

    /// Embeds through the shared model manager (one model resident at a time, whichever engine asks).
    public func embed(_ texts: [String], encoder: SentenceEncoder) async throws -> [Float] {
        try await manager.withModel(pack: packName, component: SentenceEncoder.component) { module in
            try await TorchExecutor.run { try encoder.embed(texts, module: module) }
        }
    }

    public func indexer(encoder: SentenceEncoder) -> LibraryIndexer {
        LibraryIndexer(cacheRoot: cacheRoot, packIdentity: encoder.pack.identity, dimension: encoder.dimension) { [self] texts in
            try await self.embed(texts, encoder: encoder)
        }
    }

    public func prepare(_ scenes: [SceneCanvas]) async {
        job.withLock { $0 = JobState() }
        await choose(scenes)
    }

    /// Indexes each scene's folder (only new or changed files are embedded), embeds the scenes, and matches them to
    /// items not yet used in this job (SceneMatcher.assign: best pairs first, one item per scene).
    func choose(_ scenes: [SceneCanvas]) async {
        let byFolder = Dictionary(grouping: scenes.filter { $0.visuals.engine == .library }) { $0.visuals.folder ?? "" }
        for (folder, group) in byFolder.sorted(by: { $0.key < $1.key }) {
            let outcome: Result<[(Int, Choice)], any Error>
            do { outcome = .success(try await choose(group, in: folder)) } catch { outcome = .failure(error) }
            job.withLock { state in
                switch outcome {
                case .success(let choices): for (i, c) in choices { state.choices[i] = .success(c) }
                case .failure(let e as LibraryError): for s in group { state.choices[s.index] = .failure(e) }
                case .failure(let e):
                    for s in group { state.choices[s.index] = .failure(LibraryError("visuals.library_failed", "the library engine failed: \(e)")) }
                }
            }
        }
    }

    /// One folder's scenes matched to its items (indexing the folder first).
    private func choose(_ group: [SceneCanvas], in folder: String) async throws -> [(Int, Choice)] {
        guard !folder.isEmpty else {
            throw LibraryError("visuals.folder_missing", "engine library needs a folder of pictures and clips", field: "visuals.folder")
        }
        let encoder = try self.encoder()
        let folderURL = URL(fileURLWithPath: folder)
        let index = try await indexer(encoder: encoder).index(folder: folderURL)
        for w in index.warnings { FileHandle.standardError.write(Data("prostudio: library: \(w)\n".utf8)) }
        let queries = try await embed(group.map { SceneMatcher.query(prompt: $0.prompt, narration: $0.narration) }, encoder: encoder)
        let used = job.withLock { $0.used[folder] ?? [] }
        let minScores = group.map { $0.visuals.minScore.map(Float.init) ?? SceneMatcher.defaultMinScore }
        let matches = SceneMatcher.assign(queries: queries, index: index, minScores: minScores, alreadyUsed: used)
        var out: [(Int, Choice)] = []
        var nowUsed = used
        for (n, scene) in group.enumerated() {
            if let m = matches[n].match {
                nowUsed.insert(m.item)
                let item = index.items[m.item]
                out.append((scene.index, .item(item, url: folderURL.appendingPathComponent(item.path), score: m.score)))
            } else {
                out.append((scene.index, .fallback(bestScore: matches[n].best, minScore: minScores[n])))
            }
        }
        job.withLock { $0.used[folder] = nowUsed }
        return out
    }

    /// The choice made for a scene (choosing it now when `prepare` did not see it).
    public func choice(for scene: SceneCanvas) async throws(LibraryError) -> Choice {
        if job.withLock({ $0.choices[scene.index] }) == nil { await choose([scene]) }
        guard let r = job.withLock({ $0.choices[scene.index] }) else {
            throw LibraryError("visuals.library_failed", "no choice was made for scene \(scene.index)")
        }
        return try r.get()
    }

    public func picture(for scene: SceneCanvas, progress: @Sendable (Double) -> Void) async throws(EngineError) -> ScenePicture {
        let choice: Choice
        do { choice = try await self.choice(for: scene) } catch {
            throw EngineError(code: error.code, message: error.message, field: error.field.map { "scenes[\(scene.index)].\($0)" })
        }
        progress(1)
        var canvas = scene
        switch choice {
        case .item(let item, let url, _):
            if item.kind == .video, playable(url, warn: true) {
                canvas.video = url.path
                canvas.videoLoops = true
            } else {
                canvas.image = url.path
            }
        case .fallback:
            canvas.image = nil
        }
        return try procedural.picture(for: canvas, progress: { _ in })
    }

    /// The file, description and score chosen for the scene, or why it fell back.
    /// Read after `picture`, which made the choice: nothing is chosen here.
    public func media(for scene: SceneCanvas) -> SceneMedia? {
        guard let choice = try? job.withLock({ $0.choices[scene.index] })?.get() else { return nil }
        switch choice {
        case .item(let item, let url, let score):
            let clip = item.kind == .video
            let note: String? = clip ? (playable(url) ? "clip, looped or cut to the scene" : "clip shown as a still (libav cannot play it)") : nil
            // The file as a path inside the library folder, and no text read from a file (a `.txt` beside it, its
            // metadata): the sidecar and the API show what was chosen, not the server's paths or files' contents.
            return SceneMedia(engine: "library", file: item.path, description: item.source == .name ? item.description : nil,
                              score: Double(score), note: note)
        case .fallback(let best, let minScore):
            let look = scene.visuals.look.map { "look \($0.rawValue)" } ?? "look chosen by the seed"
            let bestText = best.map { String(format: " (best %.2f)", $0) } ?? " (no item has words to match)"
            return SceneMedia(engine: "library", file: nil, description: nil, score: best.map(Double.init),
                              note: "no library item scored min_score \(minScore)\(bestText); the designed procedural background (\(look), style \(scene.visuals.style.rawValue))")
        }
    }

    /// A clip libav can open as video; one it cannot is still worth showing as a still (its first frame). `warn`
    /// says so on stderr (once per scene: `picture` warns, `media` only asks).
    private func playable(_ url: URL, warn: Bool = false) -> Bool {
        guard let v = (try? MediaReader.probe(url.path))?.first(.video), v.width > 0, v.height > 0 else {
            if warn { FileHandle.standardError.write(Data("prostudio: library: \(url.path) cannot be played as a clip; showing its first frame\n".utf8)) }
            return false
        }
        return true
    }
}
