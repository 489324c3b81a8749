import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The one timestamp of the contract: `2026-11-28T01:53:07.917Z` (UTC, milliseconds), in sidecars, `jobs show --json`
/// and the API. Formatted by hand because ISO8601DateFormatter loads ICU (6 MB of resident pages in an otherwise
/// small supervisor); see Docs/contract.md.
public enum Timestamp {
    public static func format(_ date: Date = Date()) -> String {
        let seconds = date.timeIntervalSince1970
        var t = time_t(seconds.rounded(.down))
        var parts = tm()
        gmtime_r(&t, &parts)
        let millis = min(999, Int((seconds - seconds.rounded(.down)) * 1000))
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let ms = millis < 10 ? "00\(millis)" : (millis < 100 ? "0\(millis)" : "\(millis)")
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(ms)Z"
    }
}
