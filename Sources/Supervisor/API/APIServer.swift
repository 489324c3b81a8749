import Daemon
import Foundation
import HTTPTypes
import Hummingbird
import Intake
import Journal
import Logging
import Manifest
import Metrics
import Prometheus
import ServiceLifecycle
import Synchronization
import Watcher

/// Why the API did not start.
public enum APIStartError: Error, CustomStringConvertible {
    case badAddress(String)
    case tokenRequired(String)
    case tokenFile(String, String)

    public var description: String {
        switch self {
        case .badAddress(let a): "api.listen \"\(a)\": expected HOST:PORT (127.0.0.1:8470, [::1]:8470, 0.0.0.0:8470)"
        case .tokenRequired(let a): "api.listen \(a) is reachable beyond this machine: set api.token_file (a file holding the bearer token) or listen on 127.0.0.1"
        case .tokenFile(let p, let why): "api.token_file \(p): \(why)"
        }
    }
}

/// The HTTP API and dashboard, a service beside the daemon in its ServiceGroup. Jobs posted here go through the
/// daemon's own pick-up (journal first), cancel and retry are journal requests like the CLI's, and every read is
/// a journal read or a file in the outbox: the API holds no state of its own that a kill -9 could lose.
public struct APIServer: Sendable {
    let daemon: Daemon
    let settings: APISettings
    let host: String
    let port: Int
    let token: [UInt8]?
    let metrics: APIMetrics
    let logger: Logger
    let sweep = UploadSweep()
    /// The daemon's folders as answers name them (see ServerPaths).
    let paths: ServerPaths

    /// Checks the settings (address, token) without binding anything.
    public init(daemon: Daemon, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
                logger: Logger = Logger(label: "prostudio.api")) throws {
        self.daemon = daemon
        self.settings = daemon.config.api
        self.paths = ServerPaths(config: daemon.config)
        let listen = settings.listen ?? "127.0.0.1:8470"
        guard let (host, port) = Self.parse(listen) else { throw APIStartError.badAddress(listen) }
        self.host = host; self.port = port
        if let file = settings.tokenFile {
            guard let data = FileManager.default.contents(atPath: file) else { throw APIStartError.tokenFile(file, "cannot be read") }
            let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard text.utf8.count >= 16 else { throw APIStartError.tokenFile(file, "the token must be at least 16 characters") }
            token = Array(text.utf8)
        } else {
            token = nil
        }
        if token == nil && !Self.isLoopback(host) { throw APIStartError.tokenRequired(listen) }
        self.metrics = APIMetrics(registry: registry)
        var logger = logger
        logger.logLevel = daemon.config.logLevel
        self.logger = logger
    }

    /// One registry for the process: swift-metrics (what libraries record through `Counter`, `Timer`, ...) is
    /// bootstrapped onto it, and the API's own series are made on it directly. Call once, before anything records.
    public static func bootstrapMetrics() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }

    static func parse(_ listen: String) -> (String, Int)? {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port) else { return nil }
        var host = String(listen[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port)
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// The service to add to the ServiceGroup. `onRunning` gets the bound port (tests listen on port 0).
    public func service(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some Service {
        let router = Router(context: BasicRequestContext.self)
        let daemon = self.daemon
        router.add(middleware: RequestMetrics(metrics: metrics, activity: { daemon.settleAfterActivity() }))
        router.add(middleware: BearerAuth(token: token))
        Routes(server: self).register(router)
        let logger = self.logger
        let maxConnections = GuardedHTTP1Channel.limit(configured: settings.maxConnections)
        if let asked = settings.maxConnections, asked > maxConnections {
            logger.warning("api.max_connections is above the open-file limit less the daemon's reserve; using the lower figure",
                           metadata: ["asked": "\(asked)", "using": "\(maxConnections)"])
        }
        return ServerService(responder: router.buildResponder(), configuration: .init(address: .hostname(host, port: port), backlog: 1024),
                             logger: logger, onRunning: { channel in
                                 let port = channel.localAddress?.port ?? 0
                                 logger.notice("api listening", metadata: ["address": "\(channel.localAddress?.description ?? "?")",
                                                                          "max_connections": "\(maxConnections)"])
                                 await onRunning(port)
                             }, headerTimeout: settings.headerTimeout, idleTimeout: settings.idleTimeout, maxConnections: maxConnections)
    }

    /// The daemon's journal and pick-up, or `503 not_ready` while it starts or stops.
    func live() throws(APIError) -> DaemonLive {
        guard let live = daemon.live.current else {
            throw APIError(.serviceUnavailable, "not_ready", "the daemon is starting or stopping; try again shortly")
        }
        sweep.once(live.layout.state + "/api-uploads", logger: logger)
        return live
    }
}

/// Uploads a kill -9 interrupted before their claim (the client got no answer and retries): removed once, when
/// the daemon is first ready. Only entries older than this process are touched; claimed ones were moved by the
/// daemon's reconcile before it became ready.
final class UploadSweep: Sendable {
    private let done = Mutex(false)
    private let started = Date()

    func once(_ folder: String, logger: Logger) {
        guard done.withLock({ d in defer { d = true }; return !d }) else { return }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        var removed = 0
        for entry in entries {
            let path = folder + "/" + entry
            // A claimed upload that the daemon's reconcile moved into state/jobs/ leaves its empty folder behind, with
            // a fresh mtime: rmdir takes only an empty one.
            if rmdir(path) == 0 { removed += 1; continue }
            guard let date = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date, date < started else { continue }
            if (try? FileManager.default.removeItem(atPath: path)) != nil { removed += 1 }
        }
        if removed > 0 { logger.notice("removed uploads left by an interrupted run", metadata: ["count": "\(removed)"]) }
    }
}

/// Constant-time comparison: the time taken does not depend on where the first difference is.
func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    var diff: UInt8 = a.count == b.count ? 0 : 1
    let n = max(a.count, b.count)
    for i in 0..<n {
        diff |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
    }
    return diff == 0
}

/// `Authorization: Bearer TOKEN` (or the dashboard's cookie) on everything but the health checks and the spec.
struct BearerAuth<Context: RequestContext>: RouterMiddleware {
    let token: [UInt8]?
    static var open: Set<String> { ["/healthz", "/readyz", "/openapi.yaml", "/login"] }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let token, !Self.open.contains(request.uri.path) else { return try await next(request, context) }
        var presented: String?
        if let auth = request.headers[.authorization], auth.lowercased().hasPrefix("bearer ") {
            presented = String(auth.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        } else if let cookie = request.cookies["prostudio_token"] {
            presented = cookie.value
        }
        if let presented, constantTimeEqual(Array(presented.utf8), token) { return try await next(request, context) }
        let path = request.uri.path
        if request.method == .get && (path == "/" || path.hasPrefix("/jobs/")) {
            return Dashboard.loginPage(failed: presented != nil)
        }
        var error = APIError(.unauthorized, presented == nil ? "token_required" : "token_invalid",
                             presented == nil ? "send Authorization: Bearer TOKEN (the token in api.token_file)" : "the bearer token is not valid")
        error.headers[.wwwAuthenticate] = "Bearer realm=\"prostudio\""
        throw error
    }
}
