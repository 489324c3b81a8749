import Dispatch
import Foundation

/// The supervisor's signals.
extension Daemon {
    /// SIGHUP, SIGUSR1 and SIGUSR2 are logged and otherwise ignored: the configuration is read at start only (a reload
    /// is a restart: `systemctl restart`, which checkpoints the running job), and nothing else is bound to them.
    func ignoreOtherSignals() -> [any DispatchSourceSignal] {
        [SIGHUP, SIGUSR1, SIGUSR2].map { sig in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            let name = sig == SIGHUP ? "SIGHUP" : (sig == SIGUSR1 ? "SIGUSR1" : "SIGUSR2")
            source.setEventHandler { [self] in
                logger.notice("signal ignored: the configuration is read at start only; restart the service to apply a change",
                              metadata: ["signal": "\(name)"])
            }
            source.resume()
            return source
        }
    }

    func installSignalHandlers() -> [any DispatchSourceSignal] {
        [SIGTERM, SIGINT].map { sig in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [self] in
                logger.notice("signal received: stopping pick-up and checkpointing", metadata: ["signal": "\(sig)"])
                shutdown()
            }
            source.resume()
            return source
        }
    }
}
