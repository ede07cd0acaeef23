import Proto

/// The backend quota (etcd's --quota-backend-bytes and backendQuota): writes
/// are refused once the db file would reach `bytes`. Read by the gRPC-side
/// `QuotaGuard` (before proposing, raising NOSPACE) and, through the alarm,
/// by the apply chain's `CappedGuard`.
struct BackendQuota: Sendable {
    /// 2 GiB by default, as etcd; negative turns the quota off (etcd's
    /// passthroughQuota), so no write is ever refused for space.
    let bytes: Int64

    var isDisabled: Bool { bytes < 0 }

    /// etcd 3.5's backendQuota.Available: a request that writes `costBytes`
    /// fits if the db file plus it stays below the quota. A request that
    /// writes nothing (a Txn of ranges or deletes) is no exception: etcd
    /// 3.5.1 refuses every Txn while the db file is at the quota (3.4
    /// passed those through).
    func available(costBytes: Int, dbSizeBytes: Int64) -> Bool {
        isDisabled || dbSizeBytes + Int64(costBytes) < bytes
    }

    /// etcd's MaxQuotaBytes: larger quotas work but are warned about.
    static let maxRecommendedBytes: Int64 = 8 << 30

    // etcd's cost estimates (etcdserver/quota.go).
    static let kvOverheadBytes = 256
    static let leaseOverheadBytes = 64

    static func cost(_ put: Etcdserverpb.PutRequest) -> Int { kvOverheadBytes + put.key.count + put.value.count }

    /// The larger branch's puts (top level only, as etcd counts).
    static func cost(_ txn: Etcdserverpb.TxnRequest) -> Int {
        func branch(_ ops: [Etcdserverpb.RequestOp]) -> Int {
            ops.reduce(0) { sum, op in
                if case .requestPut(let p)? = op.request { return sum + cost(p) }
                return sum
            }
        }
        return max(branch(txn.success), branch(txn.failure))
    }
}
