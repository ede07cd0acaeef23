import Foundation

/// A one-shot gate between threads: `open` once, `wait` returns once it is
/// open (joining a thread that opens it as its last step). Replaces GCD
/// semaphores; Foundation's NSConditionLock traps on Linux when waiting
/// without a deadline.
public final class Latch: @unchecked Sendable {
    private let condition = NSCondition()
    private var isOpen = false  // guarded by `condition`

    public init() {}

    public func open() {
        condition.lock()
        isOpen = true
        condition.broadcast()
        condition.unlock()
    }

    public func wait() {
        condition.lock()
        while !isOpen { condition.wait() }
        condition.unlock()
    }
}
