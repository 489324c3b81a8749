import Foundation

/// What the supervisor gives back when it goes idle.
enum Heap {
    /// `malloc_trim(0)`: returns the free pages of every malloc arena to the system. Swift's Glibc module does not
    /// import malloc.h, so the symbol is looked up (idle only: the cost does not matter).
    static func trim() {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return }  // RTLD_DEFAULT
        _ = unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)(0)
    }

    /// Unmaps the code pages start-up touched: most of an idle supervisor's resident size is the text of its binary,
    /// the Swift runtime and Foundation, faulted in (64 KiB at a time) while it started and never used again while it
    /// waits. Only executable, file-backed mappings holding no private (copy-on-write) page are dropped: their pages
    /// are the file's, so a later call faults them back from the page cache unchanged. Returns the kilobytes dropped.
    @discardableResult
    static func dropIdleCode() -> Int {
        guard let text = readProcFile("/proc/self/smaps") else { return 0 }
        var dropped = 0
        var candidate: (start: UInt, length: Int, rss: Int)?
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count >= 6, fields[1] == "r-xp", fields[5].hasPrefix("/"),
               let dash = fields[0].firstIndex(of: "-"),
               let start = UInt(fields[0][..<dash], radix: 16), let end = UInt(fields[0][fields[0].index(after: dash)...], radix: 16) {
                candidate = (start, Int(end - start), 0)
            } else if fields.count >= 2, fields[0] == "Rss:", candidate != nil {
                candidate?.rss = Int(fields[1]) ?? 0
            } else if fields.count >= 2, fields[0] == "Anonymous:", let c = candidate {
                if fields[1] == "0", c.rss > 0, madvise(UnsafeMutableRawPointer(bitPattern: c.start), c.length, MADV_DONTNEED) == 0 {
                    dropped += c.rss
                }
                candidate = nil
            } else if fields.count >= 5, fields[0].contains("-"), fields[1].count == 4 {
                candidate = nil  // another mapping's header
            }
        }
        return dropped
    }

    /// A /proc file (its size reads as 0, so read to EOF).
    private static func readProcFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var data = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            data.append(contentsOf: chunk[0..<n])
        }
        return String(decoding: data, as: UTF8.self)
    }
}
