import CLMDB

/// Lease persistence. Leases live in the `meta` db under `lease/<id BE>`,
/// written in the same LMDB txn as the KV changes and the consistent index,
/// so a replay after a crash neither loses nor repeats a grant or revoke.
/// Which keys a lease holds is not stored twice: it is each key's `lease`
/// field (see `leasedKeys()`).
extension MVCCStore {
    /// Every persisted lease, by ID.
    public func leases() throws -> [StoredLease] {
        try withReadTxn { rd in
            let cursor = try Cursor(rd.txn, dbs.meta)
            defer { cursor.close() }
            var out: [StoredLease] = []
            var k = MDB_val(), d = MDB_val()
            let prefix = LeaseKey.prefix
            var ok = try prefix.withUnsafeBytes { p in
                k = MDB_val(mv_size: p.count, mv_data: UnsafeMutableRawPointer(mutating: p.baseAddress))
                return try cursor.op(MDB_SET_RANGE, key: &k, value: &d)
            }
            while ok {
                let key = LMDB.bytes(k), value = LMDB.bytes(d)
                guard key.count == prefix.count + 8, key.starts(with: prefix), value.count == 16 else { break }
                out.append(LeaseKey.decode(key: key, value: value))
                ok = try cursor.op(MDB_NEXT, key: &k, value: &d)
            }
            return out
        }
    }
}

enum LeaseKey {
    static let prefix: [UInt8] = Array("lease/".utf8)

    static func key(_ id: Int64) -> [UInt8] {
        prefix + (0..<8).map { UInt8(truncatingIfNeeded: UInt64(bitPattern: id) >> (56 - 8 * UInt64($0))) }
    }

    static func value(_ l: StoredLease) -> [UInt8] {
        withUnsafeBytes(of: l.ttlSeconds.littleEndian, Array.init) + withUnsafeBytes(of: l.remainingTTLSeconds.littleEndian, Array.init)
    }

    static func decode(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) -> StoredLease {
        let id = key[prefix.count...].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return StoredLease(id: Int64(bitPattern: id),
                           ttlSeconds: Int64(littleEndian: value.loadUnaligned(fromByteOffset: 0, as: Int64.self)),
                           remainingTTLSeconds: Int64(littleEndian: value.loadUnaligned(fromByteOffset: 8, as: Int64.self)))
    }
}

extension KVWriter {
    /// Persists (or overwrites) a lease; no revision change.
    func putLease(_ l: StoredLease) throws {
        try LeaseKey.key(l.id).withUnsafeBytes { k in
            try LeaseKey.value(l).withUnsafeBytes { v in try LMDB.put(txn, dbs.meta, k, v) }
        }
    }

    /// Updates an existing lease's remaining TTL; unknown IDs are skipped.
    func checkpointLease(id: Int64, remainingTTLSeconds: Int64) throws {
        let key = LeaseKey.key(id)
        let current: StoredLease? = try key.withUnsafeBytes { k in
            guard let v = try LMDB.get(txn, dbs.meta, k), v.count == 16 else { return nil }
            return LeaseKey.decode(key: k, value: v)
        }
        guard var lease = current else { return }
        lease.remainingTTLSeconds = remainingTTLSeconds
        try putLease(lease)
    }

    /// Removes the lease record and deletes `keys` (those still attached to
    /// the lease) in one revision, as etcd's lessor.Revoke.
    mutating func applyLeaseRevoke(id: Int64, keys: [[UInt8]]) throws -> DeleteRangeResponse {
        _ = try LeaseKey.key(id).withUnsafeBytes { k in try LMDB.del(txn, dbs.meta, k, nil) }
        var deleted: Int64 = 0
        for key in keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            let live = try reader.rangeKeys(.single(key), atRev: readRev, latest: true, limit: 0, countOnly: false).kvs.first
            guard let live, live.lease == id else { continue }
            deleted += try deleteRange(.single(key))
        }
        return DeleteRangeResponse(revision: readRev, deleted: deleted)
    }
}
