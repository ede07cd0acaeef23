import MVCC

/// etcd's lease errors (etcdserver/api/v3rpc/rpctypes), as apply results.
enum LeaseErrors {
    static let notFound = KVError.leaseNotFound
    static let exists = KVError(.failedPrecondition, "etcdserver: lease already exists")
    static let ttlTooLarge = KVError(.outOfRange, "etcdserver: too large lease TTL")
}
