import CLMDB

extension MVCCStore {
    /// Changes at revisions ≥ `fromRevision` to keys in [key, rangeEnd)
    /// (rangeEnd as in Range: empty = only `key`, "\0" = every key ≥ key), in
    /// revision order, for watchers catching up.
    ///
    /// Stops after `limit` events or once their keys and values reach
    /// `byteLimit` bytes (0 = no limit; at least one revision is read), but never inside a revision,
    /// so resuming at `lastRevision + 1` loses nothing. `lastRevision` is the
    /// last revision scanned (the current revision when the scan reached the
    /// end). Throws `compacted` when `fromRevision` is below the compaction
    /// revision (etcd's watch rule `minRev < compactRev`).
    public func events(fromRevision: Int64, key: [UInt8], rangeEnd: [UInt8] = [],
                       limit: Int = 0, byteLimit: Int = 0, prevKV: Bool = false) throws -> (events: [Event], lastRevision: Int64) {
        try withReadTxn { rd in
            let (cur, compact) = try revisions(rd)
            if fromRevision < compact { throw MVCCError.compacted }
            let bounds = KeyBounds(key: key, rangeEnd: rangeEnd)
            let cursor = try Cursor(rd.txn, dbs.rev)
            defer { cursor.close() }
            var out: [Event] = []
            var bytes = 0  // keys' and values' bytes in `out`
            var k = MDB_val(), d = MDB_val()
            var ok = try Revision(main: max(fromRevision, 0), sub: 0).withKey { sk in
                k = MDB_val(mv_size: sk.count, mv_data: UnsafeMutableRawPointer(mutating: sk.baseAddress))
                return try cursor.op(MDB_SET_RANGE, key: &k, value: &d)
            }
            while ok {
                let rev = Revision(key: LMDB.bytes(k))
                if (limit > 0 && out.count >= limit) || (byteLimit > 0 && bytes >= byteLimit),
                   let last = out.last, rev.main != last.kv.modRevision {
                    return (out, rev.main - 1)
                }
                let rec = LMDB.bytes(d)
                let keyLen = Int(UInt32(littleEndian: rec.loadUnaligned(fromByteOffset: 32, as: UInt32.self)))
                let recKey = UnsafeRawBufferPointer(rebasing: rec[36 ..< 36 + keyLen])
                if bounds.contains(recKey) {
                    var kv = Record.decode(rec)
                    var ev: Event
                    if kv.version == 0 {
                        kv = KeyValue(key: kv.key, modRevision: rev.main)
                        ev = Event(type: .delete, kv: kv)
                    } else {
                        ev = Event(type: .put, kv: kv)
                    }
                    if prevKV {
                        ev.prevKV = try rd.rangeKeys(.single(kv.key), atRev: rev.main - 1, latest: false,
                                                     limit: 0, countOnly: false).kvs.first
                    }
                    bytes += ev.kv.key.count + ev.kv.value.count
                    out.append(ev)
                }
                ok = try cursor.op(MDB_NEXT, key: &k, value: &d)
            }
            return (out, cur)
        }
    }

    /// The key's value as of `revision` (0 = current), or nil when absent.
    public func get(_ key: [UInt8], revision: Int64 = 0) throws -> KeyValue? {
        try range(RangeRequest(key: key, revision: revision)).kvs.first
    }

    /// Every lease and the live keys attached to one. The keys are found by
    /// visiting every live key, so that scan is skipped when no lease exists
    /// (a restart of a million-key store without leases does not pay it).
    public func leasesWithKeys() throws -> (leases: [StoredLease], leasedKeys: [(key: [UInt8], lease: Int64)]) {
        let all = try leases()
        return (all, all.isEmpty ? [] : try leasedKeys())
    }

    /// Every live key with a lease, for rebuilding lease attachments at start-up.
    public func leasedKeys() throws -> [(key: [UInt8], lease: Int64)] {
        try withReadTxn { rd in
            let (cur, _) = try revisions(rd)
            var revs: [Revision] = []
            try rd.visitLive(.from([]), atRev: cur, latest: true) { _, e in
                revs.append(e.revision)
                return true
            }
            var out: [(key: [UInt8], lease: Int64)] = []
            for r in revs {
                let kv = try rd.record(r, keysOnly: true)
                if kv.lease != 0 { out.append((kv.key, kv.lease)) }
            }
            return out
        }
    }
}
