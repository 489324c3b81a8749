import ArgumentParser
import Daemon
import Foundation
import MCPServer
import Manifest

/// `prostudio mcp`: the MCP server for AI agents, over stdin/stdout. The work is in the MCPServer module.
struct Mcp: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp",
        abstract: "Serve ProStudio's tools to an AI agent over MCP (stdio, or streamable HTTP with --listen).",
        discussion: """
            Beside a daemon on this machine (--inbox, --state, --outbox: the daemon's own folders), or a daemon's HTTP
            API (--api URL --token-file F). Tools: validate_manifest, submit_job, job_status, job_events, list_jobs,
            cancel_job, retry_job, job_outputs, list_voices, list_looks, list_presets, list_packs; resources: the
            manifest schema and the examples. Docs/mcp.md has ready configurations for MCP clients.
            """)

    @Option(help: "The daemon's inbox.") var inbox: String = "/var/lib/prostudio/inbox"
    @Option(help: "The daemon's state folder (holds journal.sqlite3).") var state: String = "/var/lib/prostudio/state"
    @Option(help: "The daemon's outbox (default: the folder named outbox beside the inbox).") var outbox: String?
    @Option(help: ArgumentHelp("Installed model packs manifests are checked against (default: $PROSTUDIO_MODELS, else /var/lib/prostudio/models; with --api, none: the daemon checks).", valueName: "DIR"))
    var models: String?
    @Option(help: ArgumentHelp("The folder holding schema/ and inbox.example/ (default: $PROSTUDIO_SHARE, /usr/share/prostudio, or the source checkout).", valueName: "DIR"))
    var share: String?
    @OptionGroup var remote: RemoteOptions
    @Option(help: ArgumentHelp("Serve MCP's streamable HTTP at http://HOST:PORT/mcp instead of stdio (with --listen-token-file, behind that bearer token).", valueName: "HOST:PORT"))
    var listen: String?
    @Option(help: ArgumentHelp("With --listen: a file holding the bearer token clients must send (the daemon API's token file).", valueName: "FILE"))
    var listenTokenFile: String?
    @Flag(help: "Log to stderr at debug level.") var verbose = false

    func run() async throws {
        Logs.bootstrap(verbose: verbose)
        let target: MCPConfiguration.Target
        var packs: String? = models ?? PackCheck.defaultModels
        if let api = remote.client {
            target = .remote(url: remote.url!, token: api.http.token)
            packs = models
        } else {
            let full = { (p: String) in URL(fileURLWithPath: (p as NSString).expandingTildeInPath).standardizedFileURL.path }
            let box = outbox ?? ((full(inbox) as NSString).deletingLastPathComponent as NSString).appendingPathComponent("outbox")
            target = .local(inbox: full(inbox), state: full(state), outbox: full(box))
        }
        let service: MCPService
        do {
            service = try MCPService(MCPConfiguration(target: target, models: packs, share: share),
                                     version: ProStudioVersion.current)
        } catch { exitWith("prostudio: \(error)", code: 1) }
        if let listen {
            guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]) else {
                exitWith("prostudio: --listen \(listen): expected HOST:PORT, such as 127.0.0.1:8471", code: 1)
            }
            var token: String?
            if let listenTokenFile {
                guard let data = FileManager.default.contents(atPath: listenTokenFile) else { exitWith("prostudio: --listen-token-file \(listenTokenFile): cannot be read", code: 1) }
                token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            } else if !listen.hasPrefix("127.") && !listen.hasPrefix("localhost:") {
                exitWith("prostudio: --listen \(listen) beyond loopback needs --listen-token-file", code: 1)
            }
            do {
                try await service.serveHTTP(host: String(listen[..<colon]), port: port, token: token) { bound in
                    FileHandle.standardError.write(Data("prostudio: mcp: listening on http://\(listen[..<colon]):\(bound)/mcp\n".utf8))
                }
            } catch { exitWith("prostudio: mcp: \(error)", code: 1) }
        }
        do { try await service.serveStdio() } catch { exitWith("prostudio: mcp: \(error)", code: 1) }
    }
}
