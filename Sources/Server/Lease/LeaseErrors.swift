/// etcd's lease errors (etcdserver/api/v3rpc/rpctypes), as apply results.
enum LeaseErrors {
    static let notFound = ServerError.leaseNotFound
    static let exists = ServerError(code: .failedPrecondition, message: "etcdserver: lease already exists")
    static let ttlTooLarge = ServerError(code: .outOfRange, message: "etcdserver: too large lease TTL")
}
