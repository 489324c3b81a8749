import CNotify
import Glibc

/// One POST through libcurl's easy interface, with the client's limits (see Notify.swift). Not Sendable: one
/// thread, one request; libcurl calls back on the thread that runs `cnotify_perform`.
final class Post {
    enum Outcome { case status(Int), refused(String), failed(String) }

    let url: String
    let timeout: Double
    let publicOnly: Bool
    let maxResponse: Int
    var headers: [String] = []
    var agent = "prostudio"
    /// What the callbacks saw: answer bytes read, whether the answer was cut at `maxResponse`, the addresses refused.
    private var received = 0
    private var cut = false
    private var refusals: [String] = []

    init(url: String, timeout: Double, publicOnly: Bool, maxResponse: Int) {
        self.url = url; self.timeout = timeout; self.publicOnly = publicOnly; self.maxResponse = maxResponse
    }

    func send(body: [UInt8]) -> Outcome {
        var loadError = [CChar](repeating: 0, count: 512)
        guard cnotify_load(&loadError, loadError.count) == 0 else { return .failed(string(loadError)) }
        guard let handle = cnotify_easy_init() else { return .failed("curl_easy_init failed") }
        defer { cnotify_easy_cleanup(handle) }
        var list: UnsafeMutableRawPointer?
        for line in headers + ["User-Agent: \(agent)"] { list = cnotify_slist_append(list, line) }
        defer { cnotify_slist_free_all(list) }
        var errorBuffer = [CChar](repeating: 0, count: Int(CNOTIFY_ERROR_SIZE) + 1)
        let me = Unmanaged.passUnretained(self).toOpaque()
        let ms = Int(timeout * 1000)

        let result: Int32 = url.withCString { cURL in
            body.withUnsafeBytes { bodyBytes in
                errorBuffer.withUnsafeMutableBytes { errorBytes in
                    var bad: Int32 = 0
                    func set(_ code: Int32) { if code != 0 && bad == 0 { bad = code } }
                    set(cnotify_setopt_pointer(handle, Int32(CNOTIFY_OPT_URL), cURL))
                    set(cnotify_setopt_pointer(handle, Int32(CNOTIFY_OPT_ERRORBUFFER), errorBytes.baseAddress))
                    set(cnotify_setopt_long(handle, Int32(CNOTIFY_OPT_POST), 1))
                    set(cnotify_setopt_pointer(handle, Int32(CNOTIFY_OPT_POSTFIELDS), bodyBytes.baseAddress ?? UnsafeRawPointer(errorBytes.baseAddress!)))
                    set(cnotify_setopt_size(handle, Int32(CNOTIFY_OPT_POSTFIELDSIZE_LARGE), Int64(bodyBytes.count)))
                    set(cnotify_setopt_pointer(handle, Int32(CNOTIFY_OPT_HTTPHEADER), list))
                    // The whole attempt, not the gap between packets (URLSession's timeoutInterval was the latter).
                    set(cnotify_setopt_long(handle, Int32(CNOTIFY_OPT_TIMEOUT_MS), ms))
                    set(cnotify_setopt_long(handle, Int32(CNOTIFY_OPT_CONNECTTIMEOUT_MS), ms))
                    set(cnotify_setopt_long(handle, Int32(CNOTIFY_OPT_NOSIGNAL), 1))
                    // A 3xx is the receiver's answer, not an address to go on to.
                    set(cnotify_setopt_long(handle, Int32(CNOTIFY_OPT_FOLLOWLOCATION), 0))
                    set(cnotify_setopt_long(handle, Int32(CNOTIFY_OPT_MAXREDIRS), 0))
                    set("http,https".withCString { cnotify_setopt_pointer(handle, Int32(CNOTIFY_OPT_PROTOCOLS_STR), $0) })
                    // No proxy from http_proxy/https_proxy: the address checked must be the receiver's own.
                    set("*".withCString { cnotify_setopt_pointer(handle, Int32(CNOTIFY_OPT_NOPROXY), $0) })
                    set(cnotify_setopt_pointer(handle, Int32(CNOTIFY_OPT_WRITEDATA), me))
                    set(cnotify_setopt_write(handle) { data, size, count, context in
                        Unmanaged<Post>.fromOpaque(context!).takeUnretainedValue().took(size * count)
                    })
                    set(cnotify_setopt_pointer(handle, Int32(CNOTIFY_OPT_OPENSOCKETDATA), me))
                    set(cnotify_setopt_opensocket(handle) { context, _, address in
                        Unmanaged<Post>.fromOpaque(context!).takeUnretainedValue().open(address!)
                    })
                    if bad != 0 { return -bad }
                    return cnotify_perform(handle)
                }
            }
        }
        if result < 0 { return .failed("curl_easy_setopt: \(string(cnotify_strerror(-result)))") }
        let status = cnotify_response_code(handle)
        // The answer's status came before its body: one cut at maxResponse still says how the receiver answered.
        if result == Int32(CNOTIFY_OK) || (result == Int32(CNOTIFY_WRITE_ERROR) && cut), status > 0 { return .status(status) }
        if !refusals.isEmpty && result == Int32(CNOTIFY_COULDNT_CONNECT) {
            return .refused("refused: " + refusals.joined(separator: "; ") + ": a job's notify URL may not reach loopback, " +
                            "link-local, private or reserved addresses (notify.allow_private in the daemon's config allows them)")
        }
        let detail = string(errorBuffer)
        let reason = detail.isEmpty ? string(cnotify_strerror(result)) : detail
        return .failed(result == Int32(CNOTIFY_OPERATION_TIMEDOUT) ? "no answer within \(timeout) s: \(reason)" : reason)
    }

    /// libcurl's write callback: count the answer and stop reading it past `maxResponse` (nothing is kept).
    private func took(_ bytes: Int) -> Int {
        received += bytes
        if received > maxResponse { cut = true; return 0 }
        return bytes
    }

    /// libcurl's open-socket callback: the address it is about to connect to, after its own resolution.
    private func open(_ address: UnsafeMutablePointer<cnotify_sockaddr>) -> Int32 {
        if publicOnly {
            // libcurl's struct holds a whole sockaddr_in6 there, though it declares a plain sockaddr.
            let sa = UnsafeRawPointer(address).advanced(by: MemoryLayout<cnotify_sockaddr>.offset(of: \.addr)!)
                .assumingMemoryBound(to: sockaddr.self)
            if let refusal = AddressPolicy.refusal(sa) { refusals.append("\(AddressPolicy.text(sa)) is \(refusal)"); return -1 }
        }
        return socket(address.pointee.family, address.pointee.socktype | Int32(SOCK_CLOEXEC.rawValue), address.pointee.protocol)
    }

    private func string(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private func string(_ p: UnsafePointer<CChar>?) -> String { p.map { String(cString: $0) } ?? "" }
}
