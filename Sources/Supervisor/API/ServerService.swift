import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The HTTP server as a Service, without Hummingbird's `Application`: the same router and HTTP/1.1 server, but the
/// `Date` header comes from `gmtime_r` instead of a Foundation `Calendar` in GMT, whose time-zone lookup pulls
/// ICU's time-zone data into the supervisor (1.8 MB of resident pages, measured), and one event-loop thread
/// serves a supervisor's traffic.
struct ServerService: Service {
    let responder: RouterResponder<BasicRequestContext>
    let configuration: ServerConfiguration
    let logger: Logger
    let onRunning: @Sendable (any Channel) async -> Void
    /// Header and idle time-outs, the connection limit (see GuardedHTTP1Channel).
    let headerTimeout: Duration
    let idleTimeout: Duration
    let maxConnections: Int
    let connections = ConnectionCount()
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    func run() async throws {
        let responder = self.responder, logger = self.logger
        let http1 = HTTP1Channel.Configuration(additionalChannelHandlers: [HeaderTimeout(timeout: .init(headerTimeout))],
                                               idleTimeout: .init(idleTimeout))
        let limit = maxConnections, connections = self.connections
        let builder = HTTPServerBuilder { responder in
            GuardedHTTP1Channel(inner: HTTP1Channel(responder: responder, configuration: http1), limit: limit, state: connections)
        }
        let server = try builder.buildServer(
            configuration: configuration, eventLoopGroup: Self.group, logger: logger,
            responder: { request, responseWriter, channel in
                let context = BasicRequestContext(source: .init(channel: channel, logger: logger))
                var response: Response
                do {
                    response = try await responder.respond(to: request, context: context)
                } catch let error as HTTPParserError {
                    throw error
                } catch {
                    logger.debug("unhandled error", metadata: ["error": "\(error)"])
                    response = Response(status: .internalServerError)
                }
                response.headers[.date] = HTTPDate.now
                try await responseWriter.write(response: response.head, body: response.body)
            },
            onServerRunning: onRunning)
        try await server.run()
    }
}

/// `Date: Sun, 06 Nov 1994 08:49:37 GMT` (RFC 9110 IMF-fixdate), formatted once a second.
enum HTTPDate {
    private static let cache = Mutex((second: 0, text: ""))

    static var now: String {
        var t = time(nil)
        return cache.withLock { c in
            if c.second == t { return c.text }
            var parts = tm()
            gmtime_r(&t, &parts)
            let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"], months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
            func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
            c.text = "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
                + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
            c.second = t
            return c.text
        }
    }
}
