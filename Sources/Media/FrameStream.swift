/// Pictures computed in Swift (a video model's decoded frames) that a composition's graph pulls as it
/// needs them, so a long scene is never held in memory whole. The stream is `Sendable`; each composition
/// makes its own iterator and uses it on its one thread.
public struct FrameStream: Sendable {
    public var width: Int
    public var height: Int
    public var makeIterator: @Sendable () throws -> any FrameIterator

    public init(width: Int, height: Int, makeIterator: @escaping @Sendable () throws -> any FrameIterator) {
        self.width = width
        self.height = height
        self.makeIterator = makeIterator
    }
}

public protocol FrameIterator: AnyObject {
    /// The next frame as packed RGB24 rows (`width * height * 3` bytes), or nil when the stream ends.
    func next() throws -> [UInt8]?
}
