import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

// `prostudio-notify`: one webhook attempt, for the daemon (see `Webhooks` in the Daemon module). POSTs its stdin to
// --url with the headers the daemon gives, and prints one JSON line: {"status": CODE} or {"error": "..."}; exit 0
// either way (anything else is the daemon's "no answer"). Its own small executable: FoundationNetworking maps libcurl
// and its TLS stack, which neither the supervisor nor the `prostudio` CLI and workers should carry.
//
//   prostudio-notify --url URL --signature sha256=HEX --event E --delivery ID [--attempt N] [--agent UA] [--timeout S]

struct Answer: Encodable { var status: Int?; var error: String? }

func answer(_ a: Answer) -> Never {
    let line = (try? JSONEncoder().encode(a)) ?? Data("{}".utf8)
    FileHandle.standardOutput.write(line + Data("\n".utf8))
    exit(0)
}

var options: [String: String] = [:]
var args = CommandLine.arguments.dropFirst()
while let key = args.popFirst() {
    guard key.hasPrefix("--"), let value = args.popFirst() else { answer(Answer(error: "usage: prostudio-notify --url URL --signature SIG --event E --delivery ID")) }
    options[String(key.dropFirst(2))] = value
}
guard let url = options["url"].flatMap(URL.init(string:)), let signature = options["signature"], let event = options["event"],
      let delivery = options["delivery"] else {
    answer(Answer(error: "usage: prostudio-notify --url URL --signature SIG --event E --delivery ID"))
}
let timeout = options["timeout"].flatMap(Double.init) ?? 10
// A receiver that never answers must not keep this process (or the daemon's retries) waiting forever.
alarm(UInt32(timeout * 3 + 5))
let body = FileHandle.standardInput.readDataToEndOfFile()
var request = URLRequest(url: url, timeoutInterval: timeout)
request.httpMethod = "POST"
request.httpBody = body
request.setValue("application/json", forHTTPHeaderField: "Content-Type")
request.setValue(signature, forHTTPHeaderField: "X-ProStudio-Signature")
request.setValue(event, forHTTPHeaderField: "X-ProStudio-Event")
request.setValue(delivery, forHTTPHeaderField: "X-ProStudio-Delivery")
request.setValue(options["attempt"] ?? "1", forHTTPHeaderField: "X-ProStudio-Attempt")
request.setValue(options["agent"] ?? "prostudio", forHTTPHeaderField: "User-Agent")
do {
    let (_, response) = try await URLSession(configuration: .ephemeral).data(for: request)
    guard let http = response as? HTTPURLResponse else { answer(Answer(error: "not an HTTP response")) }
    answer(Answer(status: http.statusCode))
} catch {
    answer(Answer(error: (error as NSError).localizedDescription))
}
