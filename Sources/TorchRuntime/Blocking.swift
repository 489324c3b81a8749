import Dispatch
import Synchronization

/// Runs async work to its end from a synchronous caller and returns its result. The pipeline calls engines on its
/// own job thread (never the cooperative pool), and the model manager is an actor: this is the one bridge between
/// them, until the engine protocols are async (#24 item 3). Never call it from the cooperative pool: it blocks.
public func waitForAsync<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let box = Mutex<Result<T, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    Task.detached {
        let r: Result<T, any Error>
        do { r = .success(try await body()) } catch { r = .failure(error) }
        box.withLock { $0 = r }
        done.signal()
    }
    done.wait()
    return try box.withLock { $0! }.get()
}
