import ArgumentParser
import Foundation
import TorchRuntime

/// `prostudio models list | verify`: the installed model packs.
struct Models: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "List, verify and install model packs.",
        discussion: """
            Packs live in one folder, one sub-folder per pack (NAME/pack.json plus its TorchScript files).
            The folder is --models DIR, else $PROSTUDIO_MODELS, else ~/.local/share/prostudio/models ($XDG_DATA_HOME) when it exists, else /var/lib/prostudio/models.
            `Tools/export/make-test-packs DIR` writes tiny random-weight packs to try the torch engines.
            """,
        subcommands: [List.self, Verify.self, Install.self]
    )

    struct Location: ParsableArguments {
        @Option(name: .customLong("models"), help: ArgumentHelp("Folder of model packs.", valueName: "DIR"))
        var models: String?

        var store: ModelStore {
            ModelStore(root: models.map { URL(fileURLWithPath: $0) } ?? ModelStore.defaultRoot)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show installed packs with sizes and memory estimates.")

        @OptionGroup var location: Location
        @Flag(help: "Print a JSON array of packs (name, kind, path, ...).") var json = false

        func run() async throws {
            let store = location.store
            let scanned: [Result<ModelPack, ModelPackError>]
            do { scanned = try store.scan() } catch { fail(error) }
            var packs: [ModelPack] = []
            for result in scanned {
                switch result {
                case .success(let pack): packs.append(pack)
                case .failure(let error): warn("skipping a broken pack: \(error)")
                }
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                let data = try encoder.encode(packs.map(PackListing.init))
                print(String(decoding: data, as: UTF8.self))
                return
            }
            if packs.isEmpty {
                warn("no model packs in \(store.root.path)")
                return
            }
            let rows = packs.map { p in
                [p.name, p.kind.rawValue, p.manifest.architecture, bytes(p.sizeOnDisk()),
                 bytes(p.manifest.memoryEstimateBytes), p.componentNames.joined(separator: ","), p.directory.path]
            }
            printTable(header: ["NAME", "KIND", "ARCHITECTURE", "SIZE", "MEMORY (EST.)", "COMPONENTS", "PATH"], rows: rows)
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every file's sha256 and load each component once.")

        @OptionGroup var location: Location
        @Argument(help: "Pack to verify (default: all).") var name: String?
        @Option(help: "Device for the test load: cpu, cuda or cuda:N (default: cuda when present, else cpu).")
        var device: String?
        @Flag(help: "Check hashes only, without loading.") var noLoad = false

        func run() async throws {
            let store = location.store
            let device: Device
            if let text = self.device {
                guard let d = Device(text) else { fail("not a device: \(text) (use cpu, cuda or cuda:N)") }
                device = d
            } else {
                device = .preferred
            }
            var targets: [Result<ModelPack, ModelPackError>]
            do {
                if let name { targets = [.success(try store.pack(named: name))] } else { targets = try store.scan() }
            } catch { fail(error) }
            if targets.isEmpty { fail("no model packs in \(store.root.path)") }
            var failures = 0
            for target in targets {
                do {
                    let pack = try target.get()
                    let start = ContinuousClock.now
                    let load = !noLoad
                    let checks = try await TorchExecutor.run { try pack.verify(load: load, device: device) }
                    let took = ContinuousClock.now - start
                    print("ok  \(pack.name): \(checks.count) component(s), sha256\(load ? " + load on \(device)" : "") " +
                          "(\(took.formatted(.units(allowed: [.seconds, .milliseconds], width: .narrow))))")
                } catch {
                    failures += 1
                    warn("\(error)")
                }
            }
            if failures > 0 { throw ExitCode.failure }
        }
    }
}

/// One pack in `models list --json` (the contract: at least name, kind, path).
private struct PackListing: Encodable {
    var name: String
    var kind: String
    var path: String
    var architecture: String
    var dtype: String
    var sizeBytes: Int64
    var memoryEstimateBytes: Int64
    var components: [String]
    var licence: String
    var source: String
    var identity: String

    init(_ p: ModelPack) {
        name = p.name
        kind = p.kind.rawValue
        path = p.directory.path
        architecture = p.manifest.architecture
        dtype = p.manifest.dtype
        sizeBytes = p.sizeOnDisk()
        memoryEstimateBytes = p.manifest.memoryEstimateBytes
        components = p.componentNames
        licence = p.manifest.licence
        source = p.manifest.source
        identity = p.identity
    }

    enum CodingKeys: String, CodingKey {
        case name, kind, path, architecture, dtype, components, licence, source, identity
        case sizeBytes = "size_bytes"
        case memoryEstimateBytes = "memory_estimate_bytes"
    }
}

private func warn(_ message: String) {
    FileHandle.standardError.write(Data("prostudio: \(message)\n".utf8))
}

/// Prints the error on stderr and exits 1 (the CLI contract for failures other than a bad manifest).
private func fail(_ error: any Error) -> Never {
    warn("error: \(error)")
    Foundation.exit(1)
}

private func fail(_ message: String) -> Never {
    warn("error: \(message)")
    Foundation.exit(1)
}

private func bytes(_ n: Int64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var v = Double(n), i = 0
    while v >= 1024, i < units.count - 1 { v /= 1024; i += 1 }
    return i == 0 ? "\(n) B" : String(format: "%.1f %@", v, units[i])
}

private func printTable(header: [String], rows: [[String]]) {
    let widths = header.indices.map { c in ([header] + rows).map { $0[c].count }.max() ?? 0 }
    for row in [header] + rows {
        let line = row.enumerated().map { c, cell in
            c == row.count - 1 ? cell : cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
        }.joined(separator: "  ")
        print(line)
    }
}
