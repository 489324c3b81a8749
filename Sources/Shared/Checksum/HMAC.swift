import Foundation

/// HMAC-SHA256 (RFC 2104) over this module's SHA256: the signature of webhook bodies (`X-ProStudio-Signature`).
public enum HMACSHA256 {
    public static func mac(key: some DataProtocol, message: some DataProtocol) -> [UInt8] {
        var k = [UInt8](key)
        if k.count > 64 {
            var h = SHA256()
            h.update(k)
            k = h.digest()
        }
        k += [UInt8](repeating: 0, count: 64 - k.count)
        var inner = SHA256()
        inner.update(k.map { $0 ^ 0x36 })
        inner.update(message)
        let innerDigest = inner.digest()
        var outer = SHA256()
        outer.update(k.map { $0 ^ 0x5c })
        outer.update(innerDigest)
        return outer.digest()
    }

    /// Lowercase hex of the MAC.
    public static func hex(key: some DataProtocol, message: some DataProtocol) -> String {
        let digits = Array("0123456789abcdef")
        return String(mac(key: key, message: message).flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
    }
}
