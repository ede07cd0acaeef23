import Bolt
import CLMDB

/// What an etcd backend file held besides the key-value history.
public struct EtcdImportResult: Sendable, Equatable {
    /// The store revision after the import (etcd's: the last change's, or
    /// the compaction revision if that is higher).
    public var revision: Int64
    /// The compaction revision (-1: none).
    public var compactRevision: Int64
    /// Changes (revisions) imported.
    public var changes: Int
    public var leases: Int
    /// meta `consistent_index` and `term` as etcd left them.
    public var consistentIndex: UInt64
    public var term: UInt64
    public var alarms: [EtcdAlarm]
    /// Entries kept raw (the auth buckets).
    public var rawEntries: Int
    /// The `members_removed` bucket's IDs, ascending (etcdutl's restore
    /// drops them with the rest of the membership; `migrate` keeps them).
    public var removedMemberIDs: [UInt64] = []
}

extension MVCCStore {
    /// Records written per LMDB commit while importing (bounds the dirty
    /// pages LMDB keeps in memory).
    static let importCommitRecords = 100_000

    /// Builds the store in `dir` (which must not hold one) from an etcd
    /// backend file: every change of the `key` bucket with its revision,
    /// the compaction revisions, leases with their TTLs, and the auth
    /// buckets kept raw. `members` and `cluster` are left to the caller
    /// (a restore replaces the membership). The file is read through
    /// `reader`, which checks its structure. An entry with an empty value is
    /// the mark etcdutl's `--bump-revision` leaves: it moves the revision but
    /// is not a change. Malformed etcd data (a key that
    /// is not a revision, a `mvccpb.KeyValue` that does not decode, changes
    /// out of order) throws a `BoltReadError` naming the file and offset.
    /// Memory stays bounded: one page per tree level and one LMDB commit.
    public static func importEtcdBackend(_ reader: BoltReader, into dir: String) throws -> EtcdImportResult {
        let store = try MVCCStore(path: dir)
        defer { store.close() }
        guard store.currentRevision == 1, store.consistentIndex == 0 else {
            throw MVCCError(.internal, "mvcc: import into \(dir), which already holds a store")
        }
        let buckets = Dictionary(try reader.buckets().map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        guard let keyBucket = buckets[EtcdSchema.keyBucket], let metaBucket = buckets[EtcdSchema.metaBucket] else {
            throw BoltReadError(file: reader.source.name, offset: 0,
                                reason: "not an etcd backend: no \"key\" or \"meta\" bucket (buckets: \(buckets.keys.map { String(decoding: $0, as: UTF8.self) }.sorted().joined(separator: ", ")))")
        }
        var result = EtcdImportResult(revision: 1, compactRevision: -1, changes: 0, leases: 0, consistentIndex: 0, term: 0,
                                      alarms: [], rawEntries: 0)
        let meta = try EtcdMetaBucket(reader, metaBucket)
        result.consistentIndex = meta.consistentIndex
        result.term = meta.term

        var loader = try ImportLoader(store: store)
        defer { loader.abort() }
        var last: (main: Int64, sub: Int64)?
        try reader.forEach(keyBucket) { k, v, flags, offset in
            func bad(_ why: String) -> BoltReadError { BoltReadError(file: reader.source.name, offset: offset, reason: why) }
            guard flags == 0, let rev = EtcdSchema.parseRevisionKey(k) else {
                throw bad("the key bucket holds \(BoltReader.show(k)), not a revision key")
            }
            if let l = last, (rev.main, rev.sub) <= l { throw bad("revision \(rev.main)_\(rev.sub) after \(l.main)_\(l.sub)") }
            guard rev.main >= 1, rev.sub >= 0 else { throw bad("revision \(rev.main)_\(rev.sub) is negative") }
            last = (rev.main, rev.sub)
            if !rev.tombstone && v.count == 0 { return }  // etcdutl's --bump-revision marker: a revision, no change
            let kv: KeyValue
            do { kv = try EtcdProto.decodeKeyValue(v) } catch { throw bad("revision \(rev.main)_\(rev.sub): mvccpb.KeyValue: \(error)") }
            guard !kv.key.isEmpty else { throw bad("revision \(rev.main)_\(rev.sub) has an empty key") }
            if !rev.tombstone {
                guard kv.modRevision == rev.main, kv.version >= 1, kv.createRevision >= 1, kv.createRevision <= rev.main else {
                    throw bad("revision \(rev.main)_\(rev.sub): inconsistent KeyValue (create \(kv.createRevision), mod \(kv.modRevision), version \(kv.version))")
                }
            }
            try loader.change(Revision(main: rev.main, sub: rev.sub), kv, tombstone: rev.tombstone)
            result.changes += 1
        }
        if let leases = buckets[EtcdSchema.leaseBucket] {
            try reader.forEach(leases) { k, v, _, offset in
                let lease: StoredLease
                do { lease = try EtcdProto.decodeLease(v) } catch {
                    throw BoltReadError(file: reader.source.name, offset: offset, reason: "lease \(BoltReader.show(k)): leasepb.Lease: \(error)")
                }
                try loader.lease(lease)
                result.leases += 1
            }
        }
        for name in EtcdSchema.rawBuckets {
            guard let b = buckets[name] else { continue }
            try reader.forEach(b) { k, v, _, _ in
                try loader.raw(name, k, v)
                result.rawEntries += 1
            }
        }
        if let alarms = buckets[EtcdSchema.alarmBucket] {
            try reader.forEach(alarms) { k, _, _, offset in
                guard let a = try? EtcdProto.decodeAlarm(k) else {
                    throw BoltReadError(file: reader.source.name, offset: offset, reason: "alarm \(BoltReader.show(k)) does not decode")
                }
                result.alarms.append(EtcdAlarm(memberID: a.memberID, type: a.type))
            }
        }
        if let removed = buckets[EtcdSchema.membersRemovedBucket] {
            try reader.forEach(removed) { k, _, _, offset in
                guard let id = UInt64(String(decoding: k, as: UTF8.self), radix: 16) else {
                    throw BoltReadError(file: reader.source.name, offset: offset, reason: "removed member \(BoltReader.show(k)) is not a hex ID")
                }
                result.removedMemberIDs.append(id)
            }
            result.removedMemberIDs.sort()
        }
        // etcd's restore: the revision is the last change's, or the compaction's if higher.
        let compact = max(meta.scheduledCompact ?? -1, meta.finishedCompact ?? -1)
        result.revision = max(last?.main ?? 1, meta.finishedCompact ?? 1)
        result.compactRevision = compact
        try loader.finish(revision: result.revision, scheduledCompact: compact, finishedCompact: meta.finishedCompact ?? -1)
        try store.sync()
        return result
    }
}

/// The `meta` bucket's values an import uses.
struct EtcdMetaBucket {
    var consistentIndex: UInt64 = 0
    var term: UInt64 = 0
    var scheduledCompact: Int64?
    var finishedCompact: Int64?

    init(_ reader: BoltReader, _ bucket: BoltReader.Bucket) throws {
        try reader.forEach(bucket) { k, v, _, offset in
            func bad(_ why: String) -> BoltReadError { BoltReadError(file: reader.source.name, offset: offset, reason: why) }
            func revision() throws -> Int64 {
                guard let r = EtcdSchema.parseRevisionKey(v), !r.tombstone, r.main >= 0 else {
                    throw bad("meta \(BoltReader.show(k)) is not a revision")
                }
                return r.main
            }
            switch Array(k) {
            case EtcdSchema.consistentIndexKey:
                guard let ci = EtcdSchema.parseUInt64BE(v) else { throw bad("meta consistent_index is \(v.count) bytes") }
                consistentIndex = ci
            case EtcdSchema.termKey:
                guard let t = EtcdSchema.parseUInt64BE(v) else { throw bad("meta term is \(v.count) bytes") }
                term = t
            case EtcdSchema.scheduledCompactKey: scheduledCompact = try revision()
            case EtcdSchema.finishedCompactKey: finishedCompact = try revision()
            default: break
            }
        }
    }
}

/// Writes imported changes into a fresh store in large LMDB txns: records
/// appended in revision order, index entries put by key.
struct ImportLoader {
    let store: MVCCStore
    private var txn: OpaquePointer?
    private var pending = 0

    init(store: MVCCStore) throws {
        self.store = store
        try begin()
    }

    private mutating func begin() throws {
        var t: OpaquePointer?
        try LMDB.check(mdb_txn_begin(store.env, nil, 0, &t), "txn_begin(import)")
        txn = t
    }

    private mutating func commitIfFull() throws {
        pending += 1
        guard pending >= MVCCStore.importCommitRecords else { return }
        try LMDB.check(mdb_txn_commit(txn), "txn_commit(import)")
        txn = nil
        store.dbFileChanged()
        pending = 0
        try begin()
    }

    mutating func change(_ rev: Revision, _ kv: KeyValue, tombstone: Bool) throws {
        let (create, version, lease) = tombstone ? (Int64(0), Int64(0), Int64(0)) : (kv.createRevision, kv.version, kv.lease)
        let value = tombstone ? [] : kv.value
        try kv.key.withUnsafeBytes { k in
            try value.withUnsafeBytes { v in
                try rev.withKey { rk in
                    try LMDB.putReserved(txn!, store.dbs.rev, rk, size: Record.size(key: k.count, value: v.count),
                                         flags: UInt32(MDB_APPEND)) { out in
                        Record.encode(into: out, key: k, value: v, createRevision: create, modRevision: rev.main,
                                      version: version, lease: lease)
                    }
                }
                try IndexEntry(revision: rev, createRevision: create, version: version).withBytes { e in
                    try IndexKey.with(k) { ik in try LMDB.put(txn!, store.dbs.index, ik, e) }
                }
            }
        }
        try commitIfFull()
    }

    mutating func lease(_ l: StoredLease) throws {
        try LeaseKey.key(l.id).withUnsafeBytes { k in
            try LeaseKey.value(l).withUnsafeBytes { v in try LMDB.put(txn!, store.dbs.meta, k, v) }
        }
        try commitIfFull()
    }

    mutating func raw(_ bucket: [UInt8], _ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws {
        try RawBucketKey.with(bucket, key) { k in try LMDB.put(txn!, store.dbs.meta, k, value) }
        try commitIfFull()
    }

    /// Writes the store's meta values and commits.
    mutating func finish(revision: Int64, scheduledCompact: Int64, finishedCompact: Int64) throws {
        let w = try KVWriter(txn: txn!, dbs: store.dbs, revision: revision, readOnly: true)
        try w.setMeta(.revision, revision)
        if scheduledCompact >= 0 { try w.setMeta(.scheduledCompact, scheduledCompact) }
        if finishedCompact >= 0 { try w.setMeta(.finishedCompact, finishedCompact) }
        try w.setMeta(.liveKeys, try w.reader.countLiveKeys(atRev: revision))
        try LMDB.check(mdb_txn_commit(txn), "txn_commit(import)")
        txn = nil
        store.dbFileChanged()
    }

    /// Drops an unfinished import txn.
    mutating func abort() {
        if let txn { mdb_txn_abort(txn) }
        txn = nil
    }
}
