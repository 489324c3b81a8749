import Glibc

/// Which addresses a job's webhook may reach. A URL a job brings (the manifest's `notify:`, also over the API) must not
/// turn the daemon into a client of the machine's own or its network's private services (SSRF): loopback, link-local,
/// private, shared (CGNAT), multicast and reserved addresses are refused unless the operator allows them. Checked on
/// the address libcurl is about to connect to, after its own resolution: a name that resolves to a public address
/// for a check and to 127.0.0.1 for the connection (DNS rebinding) has no second resolution to exploit.
enum AddressPolicy {
    /// Why `address` (a `sockaddr_in` or `sockaddr_in6`) may not be reached, or nil when it may.
    static func refusal(_ address: UnsafePointer<sockaddr>) -> String? {
        switch Int32(address.pointee.sa_family) {
        case AF_INET:
            let v4 = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
            return refusal(v4: withUnsafeBytes(of: v4) { Array($0) })
        case AF_INET6:
            let v6 = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
            return refusal(v6: withUnsafeBytes(of: v6) { Array($0) })
        default:
            return "not an IP address"
        }
    }

    /// `b`: the 4 bytes in network order.
    static func refusal(v4 b: [UInt8]) -> String? {
        switch (b[0], b[1]) {
        case (0, _): return "a 'this network' address (0.0.0.0/8)"
        case (10, _), (172, 16...31), (192, 168): return "a private address (RFC 1918)"
        case (100, 64...127): return "a shared address (CGNAT, 100.64.0.0/10)"
        case (127, _): return "a loopback address"
        case (169, 254): return "a link-local address"
        case (192, 0) where b[2] == 0: return "a reserved address (192.0.0.0/24)"
        case (198, 18...19): return "a reserved address (198.18.0.0/15)"
        case (224...239, _): return "a multicast address"
        case (240...255, _): return "a reserved address (240.0.0.0/4)"
        default: return nil
        }
    }

    /// `b`: the 16 bytes in network order.
    static func refusal(v6 b: [UInt8]) -> String? {
        let zero80 = b[0..<10].allSatisfy { $0 == 0 }
        if zero80 && b[10] == 0xff && b[11] == 0xff {  // ::ffff:a.b.c.d, an IPv4 address in IPv6 form
            return refusal(v4: Array(b[12..<16])).map { $0 + " (IPv4-mapped)" }
        }
        if b[0..<12] == [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0][...] {  // 64:ff9b::/96, NAT64 to an IPv4 address
            return refusal(v4: Array(b[12..<16])).map { $0 + " (NAT64)" }
        }
        if zero80 && b[10] == 0 && b[11] == 0 {
            if b[12..<15].allSatisfy({ $0 == 0 }) && b[15] == 1 { return "a loopback address" }
            return b[12..<16].allSatisfy { $0 == 0 } ? "the unspecified address (::)" : "a reserved address (::/96)"
        }
        if b[0] & 0xfe == 0xfc { return "a private address (unique local, fc00::/7)" }
        if b[0] == 0xfe && b[1] & 0xc0 == 0x80 { return "a link-local address (fe80::/10)" }
        if b[0] == 0xfe && b[1] & 0xc0 == 0xc0 { return "a site-local address (fec0::/10)" }
        if b[0] == 0xff { return "a multicast address" }
        return nil
    }

    /// The address as text (inet_ntop), for messages.
    static func text(_ address: UnsafePointer<sockaddr>) -> String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let family = Int32(address.pointee.sa_family)
        let ok: UnsafePointer<CChar>? = family == AF_INET
            ? address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                withUnsafePointer(to: sin.pointee.sin_addr) { inet_ntop(AF_INET, $0, &buffer, socklen_t(buffer.count)) } }
            : family == AF_INET6
            ? address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin6 in
                withUnsafePointer(to: sin6.pointee.sin6_addr) { inet_ntop(AF_INET6, $0, &buffer, socklen_t(buffer.count)) } }
            : nil
        return ok == nil ? "address family \(family)" : String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
