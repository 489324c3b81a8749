import Dispatch
import Foundation

/// The one way a ProStudio process takes a signal (the supervisor's SIGTERM/SIGINT and SIGHUP/SIGUSR1/SIGUSR2, the
/// worker's and `render`'s SIGTERM/SIGINT): the default action is ignored and `handler` runs on a dispatch queue, so it
/// may take locks and log, which a C signal handler may not. Children started by `Spawner` get the defaults back.
public struct SignalTrap {
    private let sources: [any DispatchSourceSignal]

    /// Traps `signals` until `cancel()`; `handler` gets the signal's number.
    public init(_ signals: [Int32], handler: @escaping @Sendable (Int32) -> Void) {
        sources = signals.map { sig in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { handler(sig) }
            source.resume()
            return source
        }
    }

    /// Stops calling the handler. The signals stay ignored: a late SIGTERM during an orderly exit must not kill it
    /// half-way.
    public func cancel() { for s in sources { s.cancel() } }

    /// The signal's name as people write it (`SIGTERM`).
    public static func name(_ sig: Int32) -> String {
        switch sig {
        case SIGTERM: "SIGTERM"
        case SIGINT: "SIGINT"
        case SIGHUP: "SIGHUP"
        case SIGUSR1: "SIGUSR1"
        case SIGUSR2: "SIGUSR2"
        case SIGKILL: "SIGKILL"
        default: "signal \(sig)"
        }
    }
}
