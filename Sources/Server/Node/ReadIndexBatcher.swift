import Foundation
import NIOCore

/// Linearizable reads on one member, as etcd's `linearizableReadLoop`: at
/// most one ReadIndex request is in flight; every read that arrives
/// meanwhile waits for the next one, so a member sends one ReadIndex (and a
/// leader one heartbeat round) per round trip, however many reads there are.
///
/// Reads are numbered in arrival order ("batches", one per read). A
/// ReadIndex carries the newest number queued when it was sent; its answer
/// serves every read up to that number (they all arrived before it was
/// sent). A request unanswered after `retryTicks` (dropped on the way, or
/// the leader changed) is sent again with the newest number; with no leader
/// known it is dropped and resent so until one is elected. Reads waiting
/// longer than their deadline fail with "request timed out".
///
/// Pure and confined to the Raft loop thread.
struct ReadIndexBatcher {
    /// etcd's `readIndexRetryTime` (500 ms) in heartbeat ticks of 100 ms.
    static let retryTicks = 5

    /// Sorted by batch.
    private var waiting = CircularBuffer<(batch: UInt64, deadlineNanos: UInt64)>()
    /// The newest read covered by the request in flight, and its age in ticks.
    private(set) var inFlight: (batch: UInt64, ticks: Int)?

    var isEmpty: Bool { waiting.isEmpty }

    /// New reads with their deadlines. Callers number reads under one lock
    /// but queue them under another, so they may come slightly out of order.
    mutating func enqueue(_ reads: [(batch: UInt64, deadlineNanos: UInt64)]) {
        guard !reads.isEmpty else { return }
        let sorted = waiting.last.map { last in reads.allSatisfy { $0.batch > last.batch } } ?? true
        waiting.append(contentsOf: reads)
        if !sorted || !reads.indices.dropFirst().allSatisfy({ reads[$0 - 1].batch < reads[$0].batch }) {
            waiting.sort { $0.batch < $1.batch }
        }
    }

    /// The context of the ReadIndex to send now, if reads wait and none is in flight.
    mutating func nextRequest() -> UInt64? {
        guard inFlight == nil, let newest = waiting.last?.batch else { return nil }
        inFlight = (newest, 0)
        return newest
    }

    /// The answer to the request for `batch` arrived: the next may be sent.
    mutating func answered(_ batch: UInt64) {
        if let f = inFlight, f.batch <= batch { inFlight = nil }
    }

    /// This member applied up to the index answered for `batch`: returns the
    /// reads it serves (removed from the queue).
    mutating func served(upTo batch: UInt64) -> [UInt64] {
        var done: [UInt64] = []
        while let first = waiting.first, first.batch <= batch {
            done.append(first.batch)
            waiting.removeFirst()
        }
        return done
    }

    /// One heartbeat tick: ages the request in flight (forgotten after
    /// `retryTicks`, so the next `nextRequest` resends) and returns the reads
    /// past their deadline (removed from the queue). Deadlines and `nowNanos`
    /// are `MonotonicClock` nanoseconds.
    mutating func tick(nowNanos: UInt64) -> [UInt64] {
        if let f = inFlight {
            inFlight = f.ticks + 1 >= Self.retryTicks ? nil : (f.batch, f.ticks + 1)
        }
        var expired: [UInt64] = []
        while let first = waiting.first, first.deadlineNanos <= nowNanos {
            expired.append(first.batch)
            waiting.removeFirst()
        }
        return expired
    }

    /// The leader changed (or is gone): the request in flight is forgotten,
    /// so `nextRequest` sends one to the new leader; the reads keep waiting.
    mutating func forgetInFlight() {
        inFlight = nil
    }
}
