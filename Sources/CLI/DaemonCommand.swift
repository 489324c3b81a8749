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
        try DaemonConfig.resolve(config: config, inbox: inbox, outbox: outbox, state: state, models: models)
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

    @Option(help: "Serve the HTTP API and dashboard on HOST:PORT (overrides api.listen; see Docs/api.md).")
    var api: String?

    func run() async throws {
        // The supervisor proper is the small `prostudio-daemon` beside this executable (no libav, no libtorch: a
        // fraction of the memory at idle): exec it in place, so the PID systemd watches stays the same, and tell it
        // to start workers from this executable. Without it (a build of this product alone) run it here.
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            let supervisor = (exe as NSString).deletingLastPathComponent + "/prostudio-daemon"
            if FileManager.default.isExecutableFile(atPath: supervisor) {
                var args = [supervisor]
                if let v = folders.config { args += ["--config", v] }
                if let v = folders.inbox { args += ["--inbox", v] }
                if let v = folders.outbox { args += ["--outbox", v] }
                if let v = folders.state { args += ["--state", v] }
                if let v = folders.models { args += ["--models", v] }
                if verbose { args.append("--verbose") }
                if let v = api { args += ["--api", v] }
                args += ["--worker", exe]
                let cArgs = args.map { strdup($0) } + [nil]
                execv(supervisor, cArgs)
                exitWith("prostudio daemon: cannot start \(supervisor): \(String(cString: strerror(errno)))", code: 1)
            }
        }
        var config: DaemonConfig
        do { config = try folders.resolve() } catch { exitWith("prostudio: \(error)", code: 1) }
        if verbose { config.logLevel = .debug }
        if api != nil || config.api.listen != nil {
            exitWith("prostudio daemon: the HTTP API is served by prostudio-daemon, which is not beside \(CommandLine.arguments[0])", code: 1)
        }
        let level = config.logLevel
        LoggingSystem.bootstrap { label in daemonLogHandler(label: label, level: level) }  // control characters escaped
        // Each job runs in a `prostudio worker` child of this very executable (a crash or an OOM kill takes the
        // worker, not the daemon).
        guard let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else {
            exitWith("prostudio daemon: cannot find its own executable (/proc/self/exe) to start workers", code: 1)
        }
        config.worker = exe
        let daemon = Daemon(config: config)
        do { try await daemon.run(handleSignals: true) } catch { exitWith("prostudio daemon: \(error)", code: 1) }
    }
}
