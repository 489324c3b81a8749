import ArgumentParser
import Foundation
import Library
import TorchRuntime

/// `prostudio library index DIR | search DIR TEXT`: the `library` engine's index, for people.
struct LibraryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "library",
        abstract: "Index a folder of your pictures and clips, and search it by meaning.",
        discussion: """
            Each item is described by a sidecar NAME.txt beside it, else by its embedded title, description and
            keywords (clip tags; EXIF, XMP, PNG text), else by the words of its path inside DIR
            (b-roll/harbour/boats_at_dawn_02.mp4 -> "harbour boats at dawn"). Embeddings come from the minilm-l6-v2
            pack (install it with Tools/export/install-minilm DIR) and are kept under the cache folder, so only new
            or changed files are embedded again.
            """,
        subcommands: [Index.self, Search.self]
    )

    struct Options: ParsableArguments {
        @Option(name: .customLong("models"), help: ArgumentHelp("Folder of model packs.", valueName: "DIR")) var models: String?
        @Option(help: ArgumentHelp("Cache folder (default: $XDG_CACHE_HOME/prostudio or ~/.cache/prostudio).", valueName: "DIR")) var cache: String?
        @Option(help: "The embedding pack.") var pack = SentenceEncoder.defaultPack

        func open(_ folder: String) async throws -> (LibraryIndex, SentenceEncoder, TorchModule) {
            TorchRuntime.threads = 1
            let store = ModelStore(root: models.map { URL(fileURLWithPath: $0) } ?? ModelStore.defaultRoot)
            let encoder = try SentenceEncoder(store: store, name: pack, field: "--pack")
            let module = try encoder.loadModule()
            let indexer = LibraryIndexer(cacheRoot: cache.map { URL(fileURLWithPath: $0) } ?? LibraryVisuals.defaultCacheRoot,
                                         packIdentity: encoder.pack.identity, dimension: encoder.dimension) { texts in
                try encoder.embed(texts, module: module)
            }
            let index = try await indexer.index(folder: URL(fileURLWithPath: folder).standardizedFileURL, field: "DIR")
            for w in index.warnings { FileHandle.standardError.write(Data("prostudio: warning: \(w)\n".utf8)) }
            return (index, encoder, module)
        }
    }

    static func fail(_ error: any Error) -> Never {
        if let e = error as? LibraryError {
            exitWith("prostudio: \(e)", code: e.code.hasSuffix("folder_missing") || e.code.hasSuffix("folder_empty") || e.code.hasSuffix("pack_missing") ? 2 : 1)
        }
        exitWith("prostudio: \(error)", code: 1)
    }

    struct Index: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Build or update the index of DIR and list its items.")
        @Argument(help: "The library folder.") var dir: String
        @OptionGroup var options: Options
        @Flag(help: "Print the items as JSON.") var json = false

        func run() async throws {
            let start = ContinuousClock.now
            let index: LibraryIndex
            do { (index, _, _) = try await options.open(dir) } catch { LibraryCommand.fail(error) }
            if json {
                let enc = JSONEncoder()
                enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try enc.encode(index.items), as: UTF8.self))
                return
            }
            for item in index.items { print("\(item.kind.rawValue)\t\(item.path)\t\(item.source.rawValue): \(item.description)") }
            let d = ContinuousClock.now - start
            let seconds = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
            FileHandle.standardError.write(Data("prostudio: \(index.items.count) items in \(dir) (\(index.update)) in \(String(format: "%.2f", seconds)) s\n".utf8))
        }
    }

    struct Search: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The items of DIR that best match TEXT, with their scores.")
        @Argument(help: "The library folder.") var dir: String
        @Argument(help: "What the scene is about.") var text: String
        @Option(help: "How many results.") var top = 5
        @OptionGroup var options: Options
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            do {
                let (index, encoder, module) = try await options.open(dir)
                let q = try encoder.embed([text], module: module)
                let hits = index.search(q, top: top)
                if json {
                    let rows: [[String: Any]] = hits.map { ["path": index.items[$0.index].path, "description": index.items[$0.index].description,
                                                             "score": Double($0.score)] }
                    print(String(decoding: try JSONSerialization.data(withJSONObject: rows, options: [.prettyPrinted, .sortedKeys]), as: UTF8.self))
                    return
                }
                for h in hits {
                    let item = index.items[h.index]
                    print(String(format: "%.3f", h.score) + "\t\(item.path)\t\(item.description)")
                }
            } catch { LibraryCommand.fail(error) }
        }
    }
}
