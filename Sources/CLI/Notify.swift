import ArgumentParser
import Daemon
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `prostudio notify`: one webhook attempt, for the daemon (see `Webhooks`): POSTs its stdin to `--url` with the
/// signature the daemon computed, and prints one JSON line: `{"status": CODE}` or `{"error": "..."}`. It runs in a
/// child process so that the supervisor never maps FoundationNetworking's libcurl and TLS libraries.
struct NotifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notify", abstract: "Send one webhook (the daemon runs this; the body is read from stdin).",
        shouldDisplay: false)

    @Option(help: "The receiver (http:// or https://).") var url: String
    @Option(help: "The X-ProStudio-Signature header's value (sha256=HEX).") var signature: String
    @Option(help: "done, failed or rejected (X-ProStudio-Event).") var event: String
    @Option(help: "The journal's delivery id (X-ProStudio-Delivery): the same on every retry.") var delivery: String
    @Option(help: "Which attempt this is (X-ProStudio-Attempt).") var attempt: Int = 1
    @Option(help: "Seconds to wait for the receiver.") var timeout: Double = 10

    struct Answer: Encodable { var status: Int?; var error: String? }

    func run() async throws {
        // A receiver that never answers must not keep this process (or the daemon's retries) waiting forever.
        alarm(UInt32(timeout * 3 + 5))
        let body = FileHandle.standardInput.readDataToEndOfFile()
        guard let target = URL(string: url) else { answer(Answer(error: "not a URL: \(url)")) }
        var request = URLRequest(url: target, timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.httpBody = body
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue(signature, forHTTPHeaderField: "X-ProStudio-Signature")
        request.setValue(event, forHTTPHeaderField: "X-ProStudio-Event")
        request.setValue(delivery, forHTTPHeaderField: "X-ProStudio-Delivery")
        request.setValue("\(attempt)", forHTTPHeaderField: "X-ProStudio-Attempt")
        request.setValue("prostudio/\(ProStudioVersion.current)", forHTTPHeaderField: "User-Agent")
        let session = URLSession(configuration: .ephemeral)
        do {
            let (_, response) = try await session.data(for: request)
            guard let http = response as? HTTPURLResponse else { answer(Answer(error: "not an HTTP response")) }
            answer(Answer(status: http.statusCode))
        } catch {
            answer(Answer(error: (error as NSError).localizedDescription))
        }
    }

    private func answer(_ a: Answer) -> Never {
        let line = (try? JSONEncoder().encode(a)) ?? Data("{}".utf8)
        FileHandle.standardOutput.write(line + Data("\n".utf8))
        Glibc.exit(0)
    }
}
