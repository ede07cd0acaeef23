import Foundation
import Logging
import MVCC
import Proto
import Raft
import Testing
@testable import Server

/// A committed entry no member can decode (issue 18: a txn nested past the
/// decoder's limit was committed, then skipped; its client waited 7 s and
/// the write was lost without a word). Every member applies it as a noop,
/// and the proposer is answered at once with etcd's error.
@Suite struct UndecodableEntryTests {
    /// An InternalRaftRequest with `id` whose txn is nested `depth` deep.
    static func deepTxnEntry(id: UInt64, depth: Int, index: UInt64) -> Entry {
        let put: [UInt8] = [0x12, 0x03, 0x0A, 0x01, 0x6B]  // RequestOp.request_put{key: "k"}
        var txn = [0x12] + varint(UInt64(put.count)) + put
        for _ in 1..<depth {
            let op = [0x22] + varint(UInt64(txn.count)) + txn
            txn = [0x12] + varint(UInt64(op.count)) + op
        }
        let data = [0x08] + varint(id) + [0x32] + varint(UInt64(txn.count)) + txn
        return Entry(term: 1, index: index, data: data)
    }

    static func varint(_ value: UInt64) -> [UInt8] {
        var value = value, out: [UInt8] = []
        while value >= 0x80 {
            out.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        return out + [UInt8(value)]
    }

    @Test func requestIDIsReadWithoutDecoding() {
        let entry = Self.deepTxnEntry(id: 300, depth: ProtoLimits.maxTxnDepth + 5, index: 1)
        #expect(throws: ProtoDecodeError.nestingTooDeep) { try Swiftetcd.InternalRaftRequest(serializedBytes: entry.data) }
        #expect(ApplyEntry.requestID(entry.data) == 300)
        #expect(ApplyEntry.requestID([0x12, 0x00]) == nil)  // no id field
        #expect(ApplyEntry.requestID([0x08]) == nil)  // truncated
    }

    @Test func undecodableEntryIsAnsweredAndAppliedAsNoop() throws {
        let f = try WatchFixture()
        let alarms = AlarmStore(path: f.dir + "/alarms")
        let backend = ApplyBackend(store: f.store, lessor: Lessor(minTTLSeconds: 2), hub: f.hub, alarms: alarms,
                                   logger: Logger(label: "test"))
        var answers: [UInt64: AppliedResult] = [:]
        let pipeline = ApplyPipeline(chain: ApplyChain(corruption: CorruptionGuard(alarms: alarms),
                                                       capped: CappedGuard(alarms: alarms)),
                                     backend: backend, logger: Logger(label: "test")) { id, r in answers[id] = r }
        pipeline.apply([Self.deepTxnEntry(id: 77, depth: ProtoLimits.maxTxnDepth + 1, index: 1)], term: 3)
        #expect(answers[77]?.response == .failure(ServerError.tooManyOps))
        #expect(answers[77]?.term == 3)
        #expect(f.store.consistentIndex == 1)  // applied (as a noop): replay will not see it again
        #expect(f.store.currentRevision == 1)
        #expect(try f.store.get(Array("k".utf8)) == nil)
    }
}
