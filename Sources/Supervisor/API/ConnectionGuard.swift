import Foundation
import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import Synchronization

/// HTTP/1.1 connections, at most `limit` open at once. Past the limit a connection is closed as soon as it is
/// accepted, so idle clients cannot take the file descriptors the daemon's own work needs (pick-up, the journal,
/// workers' pipes): the limit sits below the process's open-file limit. Each connection also has a header
/// time-out (`HeaderTimeout`) and Hummingbird's idle time-out.
struct GuardedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value
    let inner: HTTP1Channel
    let limit: Int
    let state: ConnectionCount

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let over = state.opened(channel, limit: limit)
        if over { state.refused(logger: logger, limit: limit) }
        channel.closeFuture.whenComplete { [state] _ in state.closed(channel) }
        // A failed set-up would end the server's accept loop: an extra connection is set up, then closed at once.
        return inner.setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        if state.isOver(value.channel) {
            // Through the async channel's own close: its writer must be finished, or NIO traps.
            try? await value.executeThenClose { _, _ in }
            return
        }
        await inner.handle(value: value, logger: logger)
    }

    /// The connection limit when none is configured, or the most a configured one may be: the soft open-file
    /// limit less a quarter of it (at least 64) for the daemon's own files.
    static func limit(configured: Int?) -> Int {
        var rl = rlimit()
        let files = getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &rl) == 0 && rl.rlim_cur != rlim_t.max ? Int(clamping: rl.rlim_cur) : 65_536
        let ceiling = max(1, files - max(64, files / 4))
        return min(configured ?? ceiling, ceiling)
    }
}

/// Open connections, and which of them were over the limit when accepted.
final class ConnectionCount: Sendable {
    private let state = Mutex((open: 0, over: Set<ObjectIdentifier>(), lastLog: ContinuousClock.Instant?.none))

    var open: Int { state.withLock { $0.open } }

    func opened(_ channel: any Channel, limit: Int) -> Bool {
        state.withLock { s in
            s.open += 1
            guard s.open > limit else { return false }
            s.over.insert(ObjectIdentifier(channel))
            return true
        }
    }

    func closed(_ channel: any Channel) {
        state.withLock { s in
            s.open -= 1
            s.over.remove(ObjectIdentifier(channel))
        }
    }

    func isOver(_ channel: any Channel) -> Bool { state.withLock { $0.over.contains(ObjectIdentifier(channel)) } }

    /// Logged at most once a minute: a flood of refused connections is one line, not one each.
    func refused(logger: Logger, limit: Int) {
        let now = ContinuousClock.now
        let log = state.withLock { s in
            if let last = s.lastLog, now - last < .seconds(60) { return false }
            s.lastLog = now
            return true
        }
        if log { logger.warning("api connection limit reached; closing new connections", metadata: ["limit": "\(limit)"]) }
    }
}

/// Closes a connection that has not sent a whole request header within `timeout` of opening or of its last
/// answer: a client trickling header bytes (slowloris) is closed, not waited on.
final class HeaderTimeout: ChannelDuplexHandler, RemovableChannelHandler {
    // HTTPRequestPart/HTTPResponsePart (NIOHTTPTypes, not a dependency of this package), named through the
    // channel type Hummingbird builds.
    typealias InboundIn = HTTP1Channel.Value.InboundPart
    typealias InboundOut = HTTP1Channel.Value.InboundPart
    typealias OutboundIn = HTTP1Channel.Value.OutboundPart
    typealias OutboundOut = HTTP1Channel.Value.OutboundPart

    let timeout: TimeAmount
    private var timer: Scheduled<Void>?

    init(timeout: TimeAmount) { self.timeout = timeout }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) {
            timer?.cancel()
            timer = nil
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // The pipelining handler holds the next request until this answer ends: the next header's clock starts here.
        if case .end = unwrapOutboundIn(data) { arm(context) }
        context.write(data, promise: promise)
    }

    private func arm(_ context: ChannelHandlerContext) {
        timer?.cancel()
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { context.close(promise: nil) }
    }
}

extension NIOAsyncChannel {
    typealias InboundPart = Inbound
    typealias OutboundPart = Outbound
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (s, atto) = duration.components
        self = .nanoseconds(s * 1_000_000_000 + atto / 1_000_000_000)
    }
}
