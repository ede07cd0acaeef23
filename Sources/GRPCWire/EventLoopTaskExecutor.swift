import NIOCore

/// Runs Swift tasks on one NIO event loop, so a handler started for a
/// connection runs on that connection's thread and writes its response back
/// without a thread hop. Handlers on it must not block.
final class EventLoopTaskExecutor: TaskExecutor, @unchecked Sendable {
    let loop: EventLoop

    init(_ loop: EventLoop) {
        self.loop = loop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
