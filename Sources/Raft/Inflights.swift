/// The last indexes of append messages sent to one follower and not yet
/// acknowledged, oldest first: a fixed-capacity ring (flow control, bounded by
/// `RaftConfig.maxInflightMsgs`).
struct Inflights {
    private var buffer: [UInt64]
    private var start = 0
    private(set) var count = 0
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        buffer = []
    }

    var isFull: Bool { count == capacity }

    mutating func add(_ lastIndex: UInt64) {
        precondition(!isFull, "inflights overflow")
        if buffer.count < capacity { buffer = Array(repeating: 0, count: capacity) }
        buffer[(start + count) % capacity] = lastIndex
        count += 1
    }

    /// Frees every message whose last index is ≤ `to`.
    mutating func freeLE(_ to: UInt64) {
        while count > 0 && buffer[start] <= to {
            start = (start + 1) % capacity
            count -= 1
        }
        if count == 0 { start = 0 }
    }

    mutating func freeFirstOne() {
        guard count > 0 else { return }
        start = (start + 1) % capacity
        count -= 1
    }

    mutating func reset() {
        start = 0
        count = 0
    }
}
