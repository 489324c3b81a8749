import API
import ArgumentParser
import Daemon
import Foundation
import Logging
import ServiceLifecycle

/// `prostudio-daemon`: the supervisor alone (journal, watcher, pick-up, requests, sd_notify), without the pipeline,
/// libav or libtorch. `prostudio daemon` execs it; it starts each job as `WORKER worker --spec ...`.
@main
struct SupervisorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prostudio-daemon",
        abstract: "The ProStudio supervisor (what `prostudio daemon` runs): watch the inbox, run each job in a worker process.",
        version: ProStudioVersion.current)

    @Option(help: "Config file (YAML; see systemd/prostudio.yaml). Flags override it.") var config: String?
    @Option(help: "Inbox folder.") var inbox: String?
    @Option(help: "Outbox folder.") var outbox: String?
    @Option(help: "State folder.") var state: String?
    @Option(help: "Folder of installed model packs (passed to workers).") var models: String?
    @Option(help: "The prostudio executable whose `worker` command runs each job (default: prostudio beside this one).")
    var worker: String?
    @Option(help: "Serve the HTTP API and dashboard on HOST:PORT (overrides api.listen; e.g. 127.0.0.1:8470).") var api: String?
    @Flag(help: "Log every stage and inbox event.") var verbose = false

    func run() async throws {
        var c: DaemonConfig
        do { c = try DaemonConfig.resolve(config: config, inbox: inbox, outbox: outbox, state: state, models: models) } catch {
            Self.fail("prostudio: \(error)")
        }
        if verbose { c.logLevel = .debug }
        if let api { c.api.listen = api }
        let self_ = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        c.worker = worker ?? ((self_ as NSString).deletingLastPathComponent + "/prostudio")
        guard FileManager.default.isExecutableFile(atPath: c.worker!) else { Self.fail("prostudio daemon: no worker executable at \(c.worker!)") }
        let level = c.logLevel
        LoggingSystem.bootstrap { label in daemonLogHandler(label: label, level: level) }  // control characters escaped
        // One service for now (the daemon runs its watcher, intake, requests and watchdog tasks itself); the group owns
        // SIGTERM and SIGINT and turns them into a graceful shutdown.
        // The HTTP API, when configured, is a second service: it starts with the daemon and stops with it.
        let daemon = Daemon(config: c)
        var services: [any Service] = [daemon]
        if c.api.listen != nil {
            do { services.append(try APIServer(daemon: daemon, registry: APIServer.bootstrapMetrics()).service()) } catch {
                Self.fail("prostudio daemon: \(error)")
            }
        }
        let group = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint],
                                 logger: Logger(label: "prostudio.services"))
        do { try await group.run() } catch { Self.fail("prostudio daemon: \(error)") }
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        Glibc.exit(1)
    }
}
