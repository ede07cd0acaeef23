import Foundation

/// A tiny flag between a test and the threads it starts (stop, failed,
/// done), each read and set under one lock. Shared by MVCCTests and
/// IntegrationTests.
public final class ThreadFlag: @unchecked Sendable {
    private let c = NSCondition()
    private var setValue = false, failedValue = false, doneValue = false
    public init() {}
    public var isSet: Bool { c.withLock { setValue } }
    public var failed: Bool { c.withLock { failedValue } }
    public func set() { c.withLock { setValue = true } }
    public func fail() { c.withLock { failedValue = true } }
    public func done() { c.withLock { doneValue = true; c.broadcast() } }
    public func waitDone() { c.withLock { while !doneValue { c.wait() } } }
}
