import ArgumentParser
import Daemon
import Foundation
import Logging

@main
struct ProStudio: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prostudio",
        abstract: "Turn written scripts into narrated videos.",
        version: ProStudioVersion.current,
        subcommands: [Render.self, Validate.self, Speak.self, Models.self, LibraryCommand.self, DaemonCommand.self, Jobs.self, JournalCommand.self, Submit.self, Mcp.self, Doctor.self, WorkerCommand.self]
    )
}

/// Logs go to stderr (journald under systemd); quiet unless asked.
enum Logs {
    static func bootstrap(verbose: Bool) {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = verbose ? .debug : .warning
            return handler
        }
    }
}

/// Exit with the contract's code after printing the error on stderr.
func exitWith(_ message: String, code: Int32) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(code)
}
