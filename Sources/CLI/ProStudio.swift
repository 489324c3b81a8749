import ArgumentParser

@main
struct ProStudio: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prostudio",
        abstract: "Turn written scripts into narrated videos.",
        subcommands: [Models.self]
    )
}
