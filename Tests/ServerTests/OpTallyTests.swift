import MVCC
import Testing
@testable import Server

/// The operations a request ran, as etcd's mvcc counters count them.
@Suite struct OpTallyTests {
    @Test func singleRequestsAreOneOperationAndNoTxn() {
        #expect(OpTally.of(.put(PutResponse(revision: 2))) == OpTally(puts: 1))
        #expect(OpTally.of(.deleteRange(DeleteRangeResponse(revision: 3, deleted: 5))) == OpTally(deletes: 1))
        #expect(OpTally.of(.compact(CompactionResponse(revision: 3))) == OpTally())
        #expect(!OpTally.of(.put(PutResponse(revision: 2))).isTxn)
    }

    @Test func txnCountsTheTakenBranchWithNestedTxns() {
        let nested = TxnResponse(revision: 0, succeeded: true, responses: [.put(PutResponse(revision: 0)),
                                                                          .range(RangeResponse(revision: 0))])
        let txn = TxnResponse(revision: 4, succeeded: false, responses: [.deleteRange(DeleteRangeResponse(revision: 4)),
                                                                        .txn(nested)])
        let t = OpTally.of(.txn(txn))
        #expect(t == OpTally(ranges: 1, puts: 1, deletes: 1) && t.isTxn)
        let one = OpTally.of(TxnResponse(revision: 4, succeeded: true, responses: [.range(RangeResponse(revision: 4))]))
        #expect(one == OpTally(ranges: 1) && !one.isTxn)
        #expect(OpTally.of(TxnResponse(revision: 4, succeeded: true)) == OpTally())
    }

    @Test func leaseRevokeIsOneDeletePerKey() {
        #expect(OpTally.revoke(keys: 2) == OpTally(deletes: 2) && OpTally.revoke(keys: 2).isTxn)
        #expect(OpTally.revoke(keys: 0) == OpTally())
    }

    @Test func countersAddTalliesAndCountTxns() {
        let m = MVCCOpMetrics()
        m.record(OpTally(puts: 1))
        m.record(OpTally(ranges: 1, puts: 2))
        #expect(m.puts.count == 3 && m.ranges.count == 1 && m.deletes.count == 0 && m.txns.count == 1)
    }
}
