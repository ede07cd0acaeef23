import MVCC

/// etcd's mvcc operation counters (`etcd_mvcc_range_total`, `_put_total`,
/// `_delete_total`, `_txn_total`): every member counts the writes it
/// applies and the reads it serves, one per operation that ran (a txn's
/// taken branch, nested txns included; a lease revoke is one delete per
/// attached key), and a request that ran more than one operation is also a
/// txn — what etcd's metricsTxnWrite counts when each request's store
/// transaction ends.
final class MVCCOpMetrics: Sendable {
    let ranges = MetricCounter()
    let puts = MetricCounter()
    let deletes = MetricCounter()
    let txns = MetricCounter()

    init() {}

    func record(_ t: OpTally) {
        if t.ranges > 0 { ranges.add(t.ranges) }
        if t.puts > 0 { puts.add(t.puts) }
        if t.deletes > 0 { deletes.add(t.deletes) }
        if t.isTxn { txns.add() }
    }
}

/// The operations one request ran, read from its answer (pure).
struct OpTally: Equatable {
    var ranges: UInt64 = 0
    var puts: UInt64 = 0
    var deletes: UInt64 = 0

    /// More than one operation in one store transaction.
    var isTxn: Bool { ranges + puts + deletes > 1 }

    static func of(_ response: WriteResponse) -> OpTally {
        var t = OpTally()
        switch response {
        case .put: t.puts = 1
        case .deleteRange: t.deletes = 1
        case .txn(let txn): t.add(txn)
        case .compact, .noop: break
        }
        return t
    }

    static func of(_ txn: TxnResponse) -> OpTally {
        var t = OpTally()
        t.add(txn)
        return t
    }

    /// A lease revoke: one delete per attached key.
    static func revoke(keys: Int) -> OpTally { OpTally(deletes: UInt64(max(keys, 0))) }

    private mutating func add(_ txn: TxnResponse) {
        for op in txn.responses {
            switch op {
            case .range: ranges += 1
            case .put: puts += 1
            case .deleteRange: deletes += 1
            case .txn(let nested): add(nested)
            }
        }
    }
}
