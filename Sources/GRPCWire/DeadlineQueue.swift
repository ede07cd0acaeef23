import NIOCore

/// The `grpc-timeout` deadlines of one connection's calls, earliest first.
///
/// One NIO timer per call was costly where it hurts: cancelling a scheduled
/// task makes the event loop scan all of its scheduled tasks, and every call
/// that carries a timeout (Kubernetes sets one on each) cancels its timer when
/// it ends, so each call paid a scan as long as the loop's open calls and
/// connections. Instead a connection keeps its deadlines in this min-heap and
/// one timer for the earliest. Entries are never removed when a call ends;
/// the connection checks, when an entry falls due, whether the call is still
/// open, and `compact` drops the stale ones once they outnumber the live ones.
///
/// Pure value type; the connection owns it on its event loop.
struct DeadlineQueue {
    struct Entry {
        var deadline: NIODeadline
        var streamID: Int32
    }

    private var heap: [Entry] = []

    var count: Int { heap.count }
    var isEmpty: Bool { heap.isEmpty }
    /// When the next entry falls due.
    var earliest: NIODeadline? { heap.first?.deadline }

    mutating func insert(_ deadline: NIODeadline, streamID: Int32) {
        heap.append(Entry(deadline: deadline, streamID: streamID))
        siftUp(heap.count - 1)
    }

    /// Removes and returns the entries due at `now`, earliest first.
    mutating func popDue(_ now: NIODeadline) -> [Int32] {
        var due: [Int32] = []
        while let first = heap.first, first.deadline <= now {
            due.append(first.streamID)
            removeRoot()
        }
        return due
    }

    /// Keeps only the entries `isLive` accepts (calls still open).
    mutating func compact(keeping isLive: (Int32) -> Bool) {
        heap.removeAll { !isLive($0.streamID) }
        // Floyd's heap construction: sift down every parent, last first.
        var i = heap.count / 2
        while i > 0 {
            i -= 1
            siftDown(i)
        }
    }

    private mutating func removeRoot() {
        let last = heap.removeLast()
        guard !heap.isEmpty else { return }
        heap[0] = last
        siftDown(0)
    }

    private mutating func siftUp(_ index: Int) {
        var child = index
        let entry = heap[child]
        while child > 0 {
            let parent = (child - 1) / 2
            guard entry.deadline < heap[parent].deadline else { break }
            heap[child] = heap[parent]
            child = parent
        }
        heap[child] = entry
    }

    private mutating func siftDown(_ index: Int) {
        var parent = index
        let entry = heap[parent]
        while true {
            var child = 2 * parent + 1
            guard child < heap.count else { break }
            if child + 1 < heap.count && heap[child + 1].deadline < heap[child].deadline { child += 1 }
            guard heap[child].deadline < entry.deadline else { break }
            heap[parent] = heap[child]
            parent = child
        }
        heap[parent] = entry
    }
}
