import ArgumentParser
import Daemon
import Foundation
import Logging

/// Folders and the config file, shared by `daemon` and `doctor`: defaults, then `--config FILE`, then flags.
struct FolderOptions: ParsableArguments {
    @Option(help: "Config file (YAML; see systemd/prostudio.yaml). Flags override it.")
    var config: String?
    @Option(help: "Inbox folder: manifests and job folders arrive here.")
    var inbox: String?
    @Option(help: "Outbox folder: NAME.mp4, NAME.json, NAME.srt, NAME.jpg.")
    var outbox: String?
    @Option(help: "State folder: journal.sqlite3, cache/, jobs/, rejected/ (same filesystem as the inbox).")
    var state: String?
    @Option(help: "Folder of installed model packs.")
    var models: String?

    func resolve() throws -> DaemonConfig {
        var c = DaemonConfig()
        if let config {
            c = try DaemonConfig.load(path: config)
        } else if FileManager.default.fileExists(atPath: "/etc/prostudio/prostudio.yaml") && inbox == nil {
            c = try DaemonConfig.load(path: "/etc/prostudio/prostudio.yaml")
        }
        if let inbox { c.inbox = inbox }
        if let outbox { c.outbox = outbox }
        if let state { c.state = state }
        if let models { c.models = models }
        return c
    }
}

struct DaemonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon",
        abstract: "Watch the inbox and render jobs one at a time (what systemd runs).",
        discussion: """
            Manifests (NAME.yaml|yml|json|txt|md) or job folders renamed into the inbox are taken at once; files
            written in place are taken once unchanged for pickup.settle_ms after their last close. Each job is
            journaled in STATE/journal.sqlite3, moved to STATE/jobs/ID/, rendered, and published to the outbox
            as NAME.mp4 with a NAME.json sidecar. SIGTERM stops pick-up and checkpoints the running job.
            """)

    @OptionGroup var folders: FolderOptions

    @Flag(help: "Log every stage and inbox event (default: the config's log_level, notice).")
    var verbose = false

    func run() async throws {
        var config: DaemonConfig
        do { config = try folders.resolve() } catch { exitWith("prostudio: \(error)", code: 1) }
        if verbose { config.logLevel = .debug }
        let level = config.logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        // Each job runs in a `prostudio worker` child of this very executable (a crash or an OOM kill takes the
        // worker, not the daemon).
        guard let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else {
            exitWith("prostudio daemon: cannot find its own executable (/proc/self/exe) to start workers", code: 1)
        }
        config.worker = exe
        let daemon = Daemon(config: config)
        do { try await daemon.run() } catch { exitWith("prostudio daemon: \(error)", code: 1) }
    }
}
