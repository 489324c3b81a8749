import Foundation

/// The thread a job's task runs on. The stages are async (engines await the model manager), but much of their work
/// blocks: libav encodes for minutes, espeak-ng runs as a child process, the mix reads and writes files. On the
/// cooperative pool (two threads on a 2-core machine) that would starve every other task of the process (the
/// worker's messages, tests running beside each other). As the job's task executor preference, this thread runs
/// the job's own code; an actor's (the model manager's) runs where the actor runs, and the job resumes here after.
final class JobThread: TaskExecutor, @unchecked Sendable {
    // @unchecked: `queue` and `open` are only read and written while `condition`'s lock is held.
    private let condition = NSCondition()
    private var queue: [UnownedJob] = []
    private var open = true

    /// `stackSize`: the job's frames are deep (libav callbacks under the composer), as on the thread it had before.
    init(name: String, stackSize: Int = 8 << 20) {
        let thread = Thread { [self] in drain() }
        thread.name = name
        thread.stackSize = stackSize
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        defer { condition.unlock() }
        guard open else {
            // Only a task that outlived the job's preference (none does today) lands here: run it rather than lose it.
            let executor = asUnownedTaskExecutor()
            Thread { job.runSynchronously(on: executor) }.start()
            return
        }
        queue.append(job)
        condition.signal()
    }

    /// Lets the thread end once its queue is empty (the job's task has returned).
    func close() {
        condition.lock()
        open = false
        condition.signal()
        condition.unlock()
    }

    private func drain() {
        while true {
            condition.lock()
            while queue.isEmpty && open { condition.wait() }
            if queue.isEmpty {
                condition.unlock()
                return
            }
            let job = queue.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
