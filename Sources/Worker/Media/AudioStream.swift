import CFFmpeg
import Foundation
import Synchronization

/// Audio handed to the encoder a block at a time, so a long video's soundtrack never sits in memory whole:
/// `frames` per channel in all; `read(count)` gives the next at most `count` frames (interleaved stereo), and
/// fewer only at the end.
public struct AudioFeed: Sendable {
    public let frames: Int
    private let pull: @Sendable (Int) throws(MediaError) -> [Float]

    public init(frames: Int, read: @escaping @Sendable (_ count: Int) throws(MediaError) -> [Float]) {
        self.frames = frames
        pull = read
    }

    /// A feed over a buffer already in memory (short clips, tests).
    public init(_ samples: [Float]) {
        let cursor = Mutex(0)
        let frames = samples.count / 2
        self.init(frames: frames) { count in
            cursor.withLock { at in
                let n = max(0, min(count, frames - at))
                defer { at += n }
                return Array(samples[(2 * at)..<(2 * (at + n))])
            }
        }
    }

    public func read(_ count: Int) throws(MediaError) -> [Float] { try pull(count) }
}

/// Raw native-endian Float32 samples in a file: how narration, the music bed and the mix are spooled to disk
/// and read back a window at a time.
public enum SampleFile {
    /// Appends blocks to a file; the first error is kept and thrown by `close`.
    public final class Writer: Sendable {
        public let url: URL
        private let state: Mutex<(fd: Int32, count: Int, error: MediaError?)>

        /// Creates (or truncates) `url`.
        public init(url: URL) throws(MediaError) {
            self.url = url
            let fd = open(url.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw MediaError("create sample file", path: url.path, detail: String(cString: strerror(errno))) }
            state = Mutex((fd, 0, nil))
        }

        /// Samples written so far.
        public var count: Int { state.withLock { $0.count } }

        public func write(_ block: [Float]) {
            state.withLock { s in
                guard s.error == nil, s.fd >= 0, !block.isEmpty else { return }
                let ok = block.withUnsafeBytes { raw -> Bool in
                    var done = 0
                    while done < raw.count {
                        let n = Glibc.write(s.fd, raw.baseAddress! + done, raw.count - done)
                        if n < 0 && errno == EINTR { continue }
                        if n <= 0 { return false }
                        done += n
                    }
                    return true
                }
                if ok { s.count += block.count } else {
                    s.error = MediaError("write sample file", path: url.path, detail: String(cString: strerror(errno)))
                }
            }
        }

        /// Closes the file; throws the first write error.
        public func close() throws(MediaError) {
            let error = state.withLock { s -> MediaError? in
                if s.fd >= 0 { Glibc.close(s.fd); s.fd = -1 }
                return s.error
            }
            if let error { throw error }
        }

        deinit { state.withLock { s in if s.fd >= 0 { Glibc.close(s.fd) } } }
    }

    /// Random-access reads of a sample file.
    public final class Reader: Sendable {
        public let url: URL
        /// Samples in the file.
        public let count: Int
        private let fd: Int32

        public init(url: URL) throws(MediaError) {
            self.url = url
            let fd = open(url.path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw MediaError("open sample file", path: url.path, detail: String(cString: strerror(errno))) }
            var st = stat()
            guard fstat(fd, &st) == 0 else { Glibc.close(fd); throw MediaError("open sample file", path: url.path, detail: String(cString: strerror(errno))) }
            self.fd = fd
            count = Int(st.st_size) / 4
        }

        /// Samples `range` (clamped to the file); what lies outside reads as nothing.
        public func read(_ range: Range<Int>) throws(MediaError) -> [Float] {
            let r = range.clamped(to: 0..<count)
            guard !r.isEmpty else { return [] }
            var failed = false
            let out = [Float](unsafeUninitializedCapacity: r.count) { buffer, initialized in
                let raw = UnsafeMutableRawBufferPointer(buffer)
                var done = 0
                while done < raw.count {
                    let n = pread(fd, raw.baseAddress! + done, raw.count - done, off_t(r.lowerBound * 4 + done))
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { break }
                    done += n
                }
                failed = done != raw.count
                if failed { memset(raw.baseAddress!, 0, raw.count) }
                initialized = r.count
            }
            if failed { throw MediaError("read sample file", path: url.path, detail: "short read at sample \(r.lowerBound)") }
            return out
        }

        deinit { Glibc.close(fd) }
    }
}

/// Mono resampling through swresample as a stream: blocks in, blocks out, the same samples as resampling the
/// whole signal at once (`Resampler.resampleMono`), with memory for one block.
public final class MonoResampler {
    private var swr: OpaquePointer?
    private let ratio: (Int, Int)

    public init(from rate: Int, to target: Int) throws(MediaError) {
        ratio = (rate, target)
        guard rate != target else { return }
        var outLayout = AVChannelLayout(), inLayout = AVChannelLayout()
        av_channel_layout_default(&outLayout, 1)
        av_channel_layout_default(&inLayout, 1)
        try check(swr_alloc_set_opts2(&swr, &outLayout, AV_SAMPLE_FMT_FLT, Int32(target), &inLayout, AV_SAMPLE_FMT_FLT, Int32(rate), 0, nil), "set up resampler")
        try check(swr_init(swr), "set up resampler")
    }

    deinit { swr_free(&swr) }

    /// The output for the next block of input.
    public func process(_ samples: [Float]) throws(MediaError) -> [Float] {
        guard swr != nil else { return samples }
        return try convert(samples, flush: false)
    }

    /// What the resampler still holds, once the input has ended.
    public func finish() throws(MediaError) -> [Float] {
        guard swr != nil else { return [] }
        return try convert([], flush: true)
    }

    private func convert(_ samples: [Float], flush: Bool) throws(MediaError) -> [Float] {
        let capacity = Int(swr_get_out_samples(swr, Int32(samples.count))) + 256
        var out = [Float](repeating: 0, count: capacity)
        let n = samples.withUnsafeBytes { inRaw in
            out.withUnsafeMutableBytes { outRaw -> Int32 in
                var dst: UnsafeMutablePointer<UInt8>? = outRaw.baseAddress!.assumingMemoryBound(to: UInt8.self)
                if flush { return swr_convert(swr, &dst, Int32(capacity), nil, 0) }
                var src: UnsafePointer<UInt8>? = inRaw.baseAddress?.assumingMemoryBound(to: UInt8.self)
                return swr_convert(swr, &dst, Int32(capacity), &src, Int32(samples.count))
            }
        }
        try check(n, "resample")
        out.removeSubrange(Int(n)...)
        return out
    }
}
