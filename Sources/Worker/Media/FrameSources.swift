import CFFmpeg
import Foundation

func freeFrame(_ frame: UnsafeMutablePointer<AVFrame>) {
    var f: UnsafeMutablePointer<AVFrame>? = frame
    av_frame_free(&f)
}

/// Fills frames one after another: one filter graph, or a sequence of scene graphs.
protocol FrameProducer: AnyObject {
    /// The next frame into `frame`, or false at the end.
    func next(into frame: UnsafeMutablePointer<AVFrame>) throws(MediaError) -> Bool
}

/// Where the encoder takes its frames from. Each frame returned is the caller's to free.
protocol FrameSource: AnyObject {
    /// The next frame, or nil when the graph has ended.
    func next() throws(MediaError) -> UnsafeMutablePointer<AVFrame>?
    var produced: Int { get }
    func stop()
}

/// The graph pulled on the encoder's own thread: filtering and encoding take turns.
final class InlineFrames: FrameSource {
    private let graph: any FrameProducer
    private(set) var produced = 0
    init(graph: any FrameProducer) { self.graph = graph }

    func next() throws(MediaError) -> UnsafeMutablePointer<AVFrame>? {
        guard let frame = av_frame_alloc() else { throw MediaError("allocate frame", detail: "out of memory") }
        do {
            guard try graph.next(into: frame) else { freeFrame(frame); return nil }
        } catch { freeFrame(frame); throw error }
        produced += 1
        return frame
    }

    func stop() {}
}

/// The graph pulled on a thread of its own into a bounded queue.
///
/// `@unchecked Sendable`: the filter thread is the only one that touches `graph` after `init`; frames cross
/// to the encoder through `state`, a queue guarded by `condition`, and belong to whichever side holds them
/// (the filter thread until it enqueues one, the encoder after it dequeues it).
final class ThreadedFrames: FrameSource, @unchecked Sendable {
    private struct State {
        var queue: [UnsafeMutablePointer<AVFrame>] = []
        var finished = false
        var error: MediaError?
        var stopping = false
        var exited = false
        var produced = 0
    }
    private let graph: any FrameProducer
    private let depth: Int
    private var state = State()
    private let condition = NSCondition()

    init(graph: any FrameProducer, depth: Int) {
        self.graph = graph
        self.depth = depth
        let thread = Thread { [self] in run() }
        thread.name = "prostudio.filter"
        thread.stackSize = 4 << 20
        thread.start()
    }

    /// Runs `body` on the state under the lock, waking the other side afterwards.
    private func locked<T>(_ body: (inout State) -> T) -> T {
        condition.lock()
        defer { condition.broadcast(); condition.unlock() }
        return body(&state)
    }

    var produced: Int { locked { $0.produced } }

    private func run() {
        if ComposeProfile.enabled { ComposeProfile.setThreadName("ps-filter") }
        defer {
            ComposeProfile.add("filter.thread_total", ComposeProfile.threadCPU())
            locked { $0.exited = true }
        }
        while true {
            let stopping = ComposeProfile.measure("filter.wait_for_room", wait: true) { () -> Bool in
                condition.lock()
                while state.queue.count >= depth && !state.stopping { condition.wait() }
                defer { condition.unlock() }
                return state.stopping
            }
            if stopping { return }
            guard let frame = av_frame_alloc() else {
                locked { $0.error = MediaError("allocate frame", detail: "out of memory"); $0.finished = true }
                return
            }
            do {
                guard try graph.next(into: frame) else {
                    freeFrame(frame)
                    locked { $0.finished = true }
                    return
                }
                locked { $0.queue.append(frame); $0.produced += 1 }
            } catch {
                freeFrame(frame)
                locked { $0.error = error; $0.finished = true }
                return
            }
        }
    }

    func next() throws(MediaError) -> UnsafeMutablePointer<AVFrame>? {
        condition.lock()
        while state.queue.isEmpty && !state.finished { condition.wait() }
        let frame = state.queue.isEmpty ? nil : state.queue.removeFirst()
        let error = state.error
        condition.broadcast()
        condition.unlock()
        if let frame { return frame }
        if let error { throw error }
        return nil
    }

    /// Stops the filter thread and frees what it left in the queue. Waits for the thread: the graph must not
    /// be freed under it.
    func stop() {
        condition.lock()
        state.stopping = true
        condition.broadcast()
        while !state.exited { condition.wait() }
        let left = state.queue
        state.queue = []
        condition.unlock()
        for f in left { freeFrame(f) }
    }
}
