import CNotify
import Glibc

// `prostudio-notify`: one webhook attempt, for the daemon (see `Webhooks` in the Daemon module). POSTs its stdin to
// --url with the headers the daemon gives, and prints one JSON line: {"status": CODE} or {"error": "..."} (with
// "refused": true when the address policy refused the receiver); exit 0 either way (anything else is the daemon's
// "no answer"). Its own small executable: libcurl and its TLS stack stay out of the supervisor and the workers.
//
//   prostudio-notify --url URL --signature sha256=HEX --event E --delivery ID [--attempt N] [--agent UA]
//                    [--timeout S] [--public-only] [--parent PID] [--max-response BYTES]
//
// The client is careful: --timeout (10 s) bounds the whole attempt (connect, send, answer), not the gap between
// packets; redirects are not followed (a 3xx is the answer); no proxy from the environment is used (its address
// would be the one checked); at most --max-response (64 KiB) of the answer is read, then the connection is dropped;
// with --public-only (the daemon's choice for a URL a job brought) the address connected to must be public
// (`AddressPolicy`).

@main
struct Notify {
    static func main() {
        var options: [String: String] = [:]
        var args = CommandLine.arguments.dropFirst()
        while let key = args.popFirst() {
            if key == "--public-only" { options["public-only"] = "yes"; continue }
            guard key.hasPrefix("--"), let value = args.popFirst() else { usage() }
            options[String(key.dropFirst(2))] = value
        }
        guard let url = options["url"], let signature = options["signature"], let event = options["event"],
              let delivery = options["delivery"] else { usage() }
        // Die with the daemon: an attempt it no longer waits for is one nobody records.
        if let parent = options["parent"].flatMap(Int32.init), cnotify_die_with_parent(parent) != 0 {
            answer(error: "prctl(PR_SET_PDEATHSIG): \(String(cString: strerror(errno)))")
        }
        let timeout = max(0.1, options["timeout"].flatMap(Double.init) ?? 10)
        // libcurl bounds the attempt; this is the last resort should it not (a resolver that ignores its timeout).
        alarm(UInt32(timeout.rounded(.up)) + 2)
        let post = Post(url: url, timeout: timeout, publicOnly: options["public-only"] != nil,
                        maxResponse: options["max-response"].flatMap(Int.init) ?? 64 * 1024)
        post.headers = ["Content-Type: application/json", "X-ProStudio-Signature: \(signature)", "X-ProStudio-Event: \(event)",
                        "X-ProStudio-Delivery: \(delivery)", "X-ProStudio-Attempt: \(options["attempt"] ?? "1")",
                        // No "100-continue" round trip before the body.
                        "Expect:"]
        post.agent = options["agent"] ?? "prostudio"
        switch post.send(body: readStandardInput()) {
        case .status(let code): answer(status: code)
        case .refused(let reason): answer(error: reason, refused: true)
        case .failed(let reason): answer(error: reason)
        }
    }

    static func usage() -> Never {
        answer(error: "usage: prostudio-notify --url URL --signature SIG --event E --delivery ID")
    }

    static func readStandardInput() -> [UInt8] {
        var body: [UInt8] = [], chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if n > 0 { body += chunk[0..<n] } else if n == 0 || errno != EINTR { return body }
        }
    }

    static func answer(status: Int? = nil, error: String? = nil, refused: Bool = false) -> Never {
        var fields: [String] = []
        if let status { fields.append("\"status\":\(status)") }
        if let error { fields.append("\"error\":\(jsonString(error))") }
        if refused { fields.append("\"refused\":true") }
        let line = Array(("{" + fields.joined(separator: ",") + "}\n").utf8)
        _ = line.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
        exit(0)
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case _ where u.value < 0x20: out += "\\u" + String(repeating: "0", count: 4 - String(u.value, radix: 16).count) + String(u.value, radix: 16)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}
