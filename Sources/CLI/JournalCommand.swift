import ArgumentParser
import Daemon
import Foundation
import Journal

/// `prostudio journal migrate`: moves a host from its SQLite journal to the shared PostgreSQL one (issue 31).
struct JournalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal",
        abstract: "Move the journal's history between stores.",
        subcommands: [Migrate.self]
    )

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy the SQLite journal in --state into an empty PostgreSQL journal.",
            discussion: """
                Every job keeps its id, state, report, stage runs, events, requests and webhook deliveries; the copy is
                one transaction (all or nothing). The daemon on --state must be stopped. The SQLite file is left as it
                was: after checking `prostudio jobs list --config FILE`, add the journal: section to the daemon's
                config and start it. The stage-cache index is not copied (it belongs to this host and is re-learned).
                """
        )
        @Option(name: .customLong("state"), help: "The daemon's state folder (holds journal.sqlite3).")
        var folder: String = "/var/lib/prostudio/state"
        @Option(help: ArgumentHelp("The PostgreSQL journal's URL (postgres://USER@HOST:PORT/DATABASE...).", valueName: "URL"))
        var to: String?
        @Option(help: ArgumentHelp("A config whose journal: section names the PostgreSQL journal (instead of --to).", valueName: "FILE"))
        var config: String?

        func run() async throws {
            let location: PostgresLocation
            switch (to, config) {
            case (let url?, nil): location = PostgresLocation(url: url, pool: 1)
            case (nil, let file?):
                let settings: DaemonConfig
                do { settings = try DaemonConfig.load(path: file) } catch { exitWith("prostudio: \(error)", code: 1) }
                guard let named = settings.journal else { exitWith("prostudio: \(file) has no journal: section naming a PostgreSQL journal", code: 1) }
                location = named
            default: exitWith("prostudio: journal migrate needs the PostgreSQL journal: --to URL or --config FILE (one of them)", code: 2)
            }
            if let problem = location.problem { exitWith("prostudio: journal URL \(location.redacted): \(problem)", code: 1) }
            if let holder = StateLock.liveHolder(state: folder) {
                exitWith("prostudio: a daemon (pid \(holder)) is running on \(folder); stop it first, so no job changes during the copy", code: 1)
            }
            let source = folder + "/journal.sqlite3"
            guard FileManager.default.fileExists(atPath: source) else { exitWith("prostudio: no SQLite journal at \(source) (is --state right?)", code: 1) }
            do {
                let journal = try await PostgresJournal.open(location)
                defer { journal.close() }
                let report = try await journal.importHistory(fromSQLite: source)
                print("migrated \(source) to \(location.redacted):")
                for (table, count) in report.rows { print("  \(String(count).padding(toLength: 8, withPad: " ", startingAt: 0)) \(table)") }
                if report.queuePaused == true { print("the queue stays paused, as it was (`prostudio jobs resume` to run jobs)") }
            } catch { exitWith("prostudio: \(error)", code: 1) }
        }
    }
}
