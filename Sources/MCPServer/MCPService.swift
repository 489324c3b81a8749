import Foundation
import Journal
import Logging
import MCP

/// What `prostudio mcp` serves and where its jobs go.
public struct MCPConfiguration: Sendable {
    public enum Target: Sendable {
        /// Beside a daemon on this machine: its inbox, state and outbox folders.
        case local(inbox: String, state: String, outbox: String)
        /// A daemon's HTTP API (`http://HOST:PORT`), with its bearer token.
        case remote(url: String, token: String?)
    }
    public var target: Target
    /// The models folder manifests are checked against and packs are listed from; nil (a remote daemon whose packs
    /// this machine cannot see) leaves missing packs to the daemon's pick-up, which rejects them naming the pack.
    public var models: String?
    /// The folder holding schema/ and inbox.example/ (nil: found as `ShareFolder.locate` says).
    public var share: String?

    public init(target: Target, models: String?, share: String? = nil) {
        self.target = target; self.models = models; self.share = share
    }
}

/// The MCP server: ProStudio's tools for AI agents (validate, submit, follow, cancel, retry, fetch, and what a
/// manifest can choose), the manifest schema and examples as resources.
public struct MCPService: Sendable {
    let backend: any JobBackend
    let validation: Validation
    let catalog: Catalog
    let share: ShareFolder
    let version: String

    public init(_ config: MCPConfiguration, version: String) throws {
        switch config.target {
        case .local(let inbox, let state, let outbox):
            backend = LocalBackend(inbox: inbox, state: state, outbox: outbox)
        case .remote(let url, let token):
            guard let client = HTTPClient(url: url, token: token) else {
                throw ToolFailure("mcp.bad_argument", "--api \(url): expected http://HOST:PORT (https: put a TLS proxy or an SSH tunnel in front)")
            }
            backend = RemoteBackend(http: client)
        }
        validation = Validation(models: config.models)
        catalog = Catalog(models: config.models)
        share = ShareFolder.locate(config.share)
        self.version = version
    }

    /// Serves over stdin/stdout until the client closes the connection. Nothing else may write to stdout.
    public func serveStdio() async throws {
        let server = try await start(StdioTransport())
        await server.waitUntilCompleted()
    }

    /// The server, answering on `transport` (stdio for `prostudio mcp`; the SDK's in-memory pair in tests).
    public func start(_ transport: any Transport) async throws -> Server {
        let server = Server(name: "prostudio", version: version, title: "ProStudio",
                            instructions: Self.instructions,
                            capabilities: .init(resources: .init(subscribe: false, listChanged: false), tools: .init(listChanged: false)))
        await register(server)
        try await server.start(transport: transport)
        return server
    }

    static let instructions = """
        ProStudio turns written scripts into narrated videos. Write a manifest (read prostudio://schema/manifest.schema.json \
        and the prostudio://examples/ resources; a plain text script with one paragraph per scene also works), check it \
        with validate_manifest, send it with submit_job, wait with job_status (wait_seconds) or job_events, then \
        job_outputs gives the MP4. list_voices, list_looks, list_presets and list_packs say what a manifest may choose.
        """

    func register(_ server: Server) async {
        await server.withMethodHandler(ListTools.self) { _ in ListTools.Result(tools: ToolCatalog.all) }
        await server.withMethodHandler(CallTool.self) { params in await self.call(params.name, params.arguments ?? [:]) }
        await server.withMethodHandler(ListResources.self) { _ in ListResources.Result(resources: self.share.list()) }
        await server.withMethodHandler(ReadResource.self) { params in try self.share.read(params.uri) }
    }

    /// One tool call. Every refusal is a result with `isError` and the product's structured error, never a
    /// protocol error, so the agent reads the code and message and can correct its call.
    func call(_ name: String, _ values: [String: Value]) async -> CallTool.Result {
        let args = Arguments(tool: name, values: values)
        do {
            let value = try await answer(name, args)
            return CallTool.Result(content: [.text(text: JSONText.of(value), annotations: nil, _meta: nil)], structuredContent: Optional(value), isError: false)
        } catch let failure as ToolFailure {
            // validate_manifest's refusal is `validate --json`'s body ({valid: false, file, errors}) plus the error.
            if name == "validate_manifest", let file = failure.file, !failure.problems.isEmpty {
                var body: [String: Value] = ["valid": .bool(false), "file": .string(file), "errors": .array(failure.problems.map(ValidationReport.value))]
                body["error"] = .object(["code": .string(failure.code), "message": .string(failure.message), "field": failure.field.map(Value.string) ?? .null])
                return CallTool.Result(content: [.text(text: JSONText.of(.object(body)), annotations: nil, _meta: nil)], structuredContent: Optional(Value.object(body)), isError: true)
            }
            return failure.result
        } catch {
            return ToolFailure("mcp.internal", "\(name): \(error)").result
        }
    }

    func answer(_ name: String, _ args: Arguments) async throws -> Value {
        switch name {
        case "validate_manifest":
            let input = try JobInput.read(args)
            defer { input.discard() }
            return try validation.report(input)
        case "submit_job":
            let input = try JobInput.read(args)
            defer { input.discard() }
            let assets = try validation.check(input).assetPaths
            return try await backend.submit(input, assets: assets, wait: try args.seconds("wait_seconds", default: 30))
        case "job_status": return try await backend.status(try args.required("id"), wait: try args.seconds("wait_seconds", default: 0))
        case "job_events":
            return try await backend.events(try args.required("id"), after: Int64(try args.integer("after", 0...Int.max / 2) ?? 0),
                                            wait: try args.seconds("wait_seconds", default: 0))
        case "list_jobs": return try await backend.list(states: try args.strings("states"), limit: try args.integer("limit", 1...1000))
        case "cancel_job": return try await backend.request(.cancel, try args.required("id"))
        case "retry_job": return try await backend.request(.retry, try args.required("id"))
        case "job_outputs": return try await backend.outputs(try args.required("id"))
        case "list_voices": return catalog.voices()
        case "list_looks": return catalog.looks()
        case "list_presets": return catalog.presets()
        case "list_packs": return catalog.packs()
        default:
            throw ToolFailure("mcp.unknown_tool", "no tool \(name): expected one of \(ToolCatalog.all.map(\.name).joined(separator: ", "))")
        }
    }
}
