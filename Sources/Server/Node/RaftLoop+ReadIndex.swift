import Foundation
import GRPCWire
import Raft
import Support

/// Linearizable reads on the loop thread: sending ReadIndex requests,
/// serving the answered ones once applied, and the leader's read grant.
extension RaftLoop {
    /// Sends the next ReadIndex if reads wait and none is in flight: its
    /// context names the newest read, and its answer serves every read up to it.
    func requestReadIndex() {
        if let newest = reads.nextRequest() {
            node.readIndex(context: Self.readContext(batch: newest, memberID: memberID))
            while node.hasReady() { handle(node.ready()) }
        }
        let inFlight = reads.inFlight != nil
        if inFlight != readInFlightSeen {
            readInFlightSeen = inFlight
            condition.withLock { readInFlight = inFlight }
        }
    }

    /// The leader keys pending reads by context, so contexts must differ
    /// between members (batch numbers alone collide and the leader drops the
    /// duplicate): batch ‖ member ID, 8 bytes big-endian each.
    static func readContext(batch: UInt64, memberID: UInt64) -> [UInt8] {
        batch.bigEndianBytes + memberID.bigEndianBytes
    }

    static func readBatch(ofContext context: [UInt8]) -> UInt64 { UInt64(bigEndianBytes: context.prefix(8)) }

    /// The (read index, batch) answers in `readStates` for this member's
    /// reads. Another member's answer can come here (the leader it asked
    /// stepped down and forwarded its request as this member's): its batch
    /// numbers are not ours, so it serves nothing.
    static func ownReads(_ readStates: [ReadState], memberID: UInt64) -> [(index: UInt64, batch: UInt64)] {
        readStates.compactMap { rs in
            guard rs.context.count == 16, UInt64(bigEndianBytes: rs.context.suffix(8)) == memberID else { return nil }
            return (rs.index, readBatch(ofContext: rs.context))
        }
    }

    func answerReads() {
        guard !pendingReadStates.isEmpty else { return }
        // The answers go to their connections' loops together (`AnswerBatch`).
        AnswerBatch.collect { serveReadStates(pendingReadStates) }
    }

    private func serveReadStates(_ states: [(index: UInt64, batch: UInt64)]) {
        var remaining: [(index: UInt64, batch: UInt64)] = []
        for rs in states {
            if rs.index <= appliedIndex {
                // Every read up to rs.batch arrived before this ReadIndex was sent.
                for batch in reads.served(upTo: rs.batch) { readWaits.trigger(id: batch, .success(rs.index)) }
            } else {
                remaining.append(rs)
            }
        }
        pendingReadStates = remaining
    }

    /// Takes `readGrant` again from the node's current state (see its doc).
    func publishReadGrant() {
        let grant = node.readIndexGrant
        statusLock.withLock { readGrant = grant }
    }
}
