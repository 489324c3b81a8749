import CFFmpeg
import Foundation

/// A chapter mark in the MP4: where it starts (seconds) and its title. It runs until the next one starts.
public struct Chapter: Sendable, Equatable {
    public var start: Double
    public var title: String
    public init(start: Double, title: String) { self.start = start; self.title = title }
}

enum ChapterWriter {
    /// Puts `chapters` on `format` before its header is written: movenc then adds a QuickTime chapter text track
    /// and Nero `chpl` marks, which ffprobe, players and YouTube read. libavformat frees them with the context.
    static func attach(_ chapters: [Chapter], duration: Double, to format: UnsafeMutablePointer<AVFormatContext>) throws(MediaError) {
        let marks = chapters.sorted { $0.start < $1.start }.filter { $0.start < duration }
        guard !marks.isEmpty else { return }
        let size = MemoryLayout<UnsafeMutablePointer<AVChapter>?>.stride * marks.count
        guard let raw = av_mallocz(size) else { throw MediaError("write chapters", detail: "out of memory") }
        let list = raw.bindMemory(to: UnsafeMutablePointer<AVChapter>?.self, capacity: marks.count)
        format.pointee.chapters = list
        for (i, mark) in marks.enumerated() {
            guard let c = av_mallocz(MemoryLayout<AVChapter>.stride)?.bindMemory(to: AVChapter.self, capacity: 1) else {
                throw MediaError("write chapters", detail: "out of memory")
            }
            c.pointee.id = Int64(i + 1)
            c.pointee.time_base = AVRational(num: 1, den: 1000)
            c.pointee.start = Int64((mark.start * 1000).rounded())
            c.pointee.end = Int64(((i + 1 < marks.count ? marks[i + 1].start : duration) * 1000).rounded())
            av_dict_set(&c.pointee.metadata, "title", mark.title, 0)
            list[i] = c
            format.pointee.nb_chapters = UInt32(i + 1)
        }
    }
}
