/// Pictures computed in Swift (a video model's decoded frames) that a composition's graph pulls as it
/// needs them, so a long scene is never held in memory whole. The stream is `Sendable`; each composition
/// makes its own iterator and uses it on its one thread.
public struct FrameStream: Sendable {
    public enum PixelFormat: Sendable { case rgb24, yuv420p }
    public var width: Int
    public var height: Int
    public var pixelFormat: PixelFormat
    public var makeIterator: @Sendable () throws -> any FrameIterator

    public init(width: Int, height: Int, pixelFormat: PixelFormat = .rgb24, makeIterator: @escaping @Sendable () throws -> any FrameIterator) {
        self.width = width
        self.height = height
        self.pixelFormat = pixelFormat
        self.makeIterator = makeIterator
    }

    /// Bytes in one frame: packed RGB24 rows, or the Y, U and V planes one after the other.
    var frameBytes: Int {
        switch pixelFormat {
        case .rgb24: width * height * 3
        case .yuv420p: width * height + 2 * ((width + 1) / 2) * ((height + 1) / 2)
        }
    }
}

public protocol FrameIterator: AnyObject {
    /// The next frame in the stream's pixel format (packed RGB24 rows, or planar Y, U, V), or nil at the end.
    func next() throws -> [UInt8]?
}

/// An iterator that draws straight into a libav frame's planes (yuv420p at the stream's size) instead of returning an
/// array the graph then copies: one allocation, one zero fill and one copy of the frame fewer, per frame.
protocol PlanarFrameIterator: FrameIterator {
    /// Draws the next frame into the Y, U and V planes, each given as (first byte, stride in bytes); false at the end.
    func next(planes: [(UnsafeMutablePointer<UInt8>, Int)]) throws -> Bool
}
