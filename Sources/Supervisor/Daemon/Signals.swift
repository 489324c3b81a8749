import Foundation
import Spawn

/// The supervisor's signals.
extension Daemon {
    /// SIGHUP, SIGUSR1 and SIGUSR2 are logged and otherwise ignored: the configuration is read at start only (a reload
    /// is a restart: `systemctl restart`, which checkpoints the running job), and nothing else is bound to them.
    func ignoreOtherSignals() -> SignalTrap {
        SignalTrap([SIGHUP, SIGUSR1, SIGUSR2]) { [self] sig in
            logger.notice("signal ignored: the configuration is read at start only; restart the service to apply a change",
                          metadata: ["signal": "\(SignalTrap.name(sig))"])
        }
    }

    func installSignalHandlers() -> SignalTrap {
        SignalTrap([SIGTERM, SIGINT]) { [self] sig in
            logger.notice("signal received: stopping pick-up and checkpointing", metadata: ["signal": "\(SignalTrap.name(sig))"])
            shutdown()
        }
    }
}
