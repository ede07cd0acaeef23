import CLMDB

/// One bucket's entries in key order, read from a `StoreReadView` step by
/// step. The snapshot writer reads every source twice (planning: sizes
/// only; writing: bytes), each time from a fresh source on the same view,
/// so both passes see the same entries.
protocol EtcdBucketSource {
    /// Moves to the next entry: sets `key` and, when `withValue`, `value`;
    /// returns the value's size, nil after the last entry.
    mutating func next(_ view: StoreReadView, _ rd: KVReader, withValue: Bool,
                       key: inout [UInt8], value: inout [UInt8]) throws -> Int?
}

/// The `key` bucket from the `rev` db: every change the view holds, in
/// revision order, as etcd's revision key → `mvccpb.KeyValue`.
///
/// Changes at or below the compaction revision that physical compaction has
/// not removed yet are left out unless a compaction keeps them (the key's
/// latest put at or below it), so the file is what etcd holds after the
/// same compaction.
///
/// A store whose revision is past its last change (a restore with
/// `--bump-revision`) ends the bucket with etcdutl's marker for that: an
/// entry at the revision with an empty value, so etcd restores the revision.
struct KeyBucketSource: EtcdBucketSource {
    /// Changes at or below this revision are checked against the compaction rule (-1: none are).
    let filterUpTo: Int64
    /// The revision the bucket must reach (the view's).
    let revision: Int64
    private var cursor: Cursor?
    private var started = false
    private var lastMain: Int64 = 0
    private var done = false

    init(view: StoreReadView) {
        filterUpTo = view.finishedCompactRevision < view.compactRevision ? view.compactRevision : -1
        revision = view.revision
    }

    mutating func next(_ view: StoreReadView, _ rd: KVReader, withValue: Bool,
                       key: inout [UInt8], value: inout [UInt8]) throws -> Int? {
        if done { return nil }
        if cursor == nil { cursor = try view.cursor(rd.dbs.rev) }
        var k = MDB_val(), d = MDB_val()
        while true {
            guard try cursor!.op(started ? MDB_NEXT : MDB_FIRST, key: &k, value: &d) else {
                done = true
                // Past the last change and the compaction: etcdutl's revision marker.
                guard revision > lastMain && revision > max(filterUpTo, view.compactRevision) && revision > 1 else { return nil }
                key = EtcdSchema.revisionKey(main: revision, sub: 0, tombstone: false)
                value.removeAll()
                return 0
            }
            started = true
            let rk = LMDB.bytes(k), rec = LMDB.bytes(d)
            guard rk.count == 16, rec.count >= Codec.recordHeaderSize else {
                throw MVCCError(.internal, "mvcc: malformed record in the rev db (key \(rk.count) bytes, value \(rec.count) bytes)")
            }
            let rev = Revision(key: rk)
            let keyLen = Int(UInt32(littleEndian: rec.loadUnaligned(fromByteOffset: 32, as: UInt32.self)))
            guard rec.count >= Codec.recordHeaderSize + keyLen else {
                throw MVCCError(.internal, "mvcc: malformed record at revision \(rev.main)_\(rev.sub)")
            }
            if rev.main <= filterUpTo, try !MVCCStore.isKept(rd, Record.decode(rec, keysOnly: true), at: rev, upTo: filterUpTo) {
                continue
            }
            let create = Int64(littleEndian: rec.loadUnaligned(fromByteOffset: 0, as: Int64.self))
            let mod = Int64(littleEndian: rec.loadUnaligned(fromByteOffset: 8, as: Int64.self))
            let version = Int64(littleEndian: rec.loadUnaligned(fromByteOffset: 16, as: Int64.self))
            let lease = Int64(littleEndian: rec.loadUnaligned(fromByteOffset: 24, as: Int64.self))
            let userKey = UnsafeRawBufferPointer(rebasing: rec[Codec.recordHeaderSize..<(Codec.recordHeaderSize + keyLen)])
            let userValue = UnsafeRawBufferPointer(rebasing: rec[(Codec.recordHeaderSize + keyLen)...])
            let tombstone = version == 0
            lastMain = rev.main
            key.removeAll(keepingCapacity: true)
            withUnsafeBytes(of: rev.main.bigEndian) { key.append(contentsOf: $0) }
            key.append(UInt8(ascii: "_"))
            withUnsafeBytes(of: rev.sub.bigEndian) { key.append(contentsOf: $0) }
            if tombstone { key.append(EtcdSchema.tombstoneMark) }
            if tombstone {
                if withValue {
                    value.removeAll(keepingCapacity: true)
                    EtcdProto.encodeKeyValue(&value, key: userKey, value: UnsafeRawBufferPointer(start: nil, count: 0),
                                             create: 0, mod: 0, version: 0, lease: 0)
                }
                return EtcdProto.keyValueSize(keyBytes: keyLen, valueBytes: 0, create: 0, mod: 0, version: 0, lease: 0)
            }
            if withValue {
                value.removeAll(keepingCapacity: true)
                EtcdProto.encodeKeyValue(&value, key: userKey, value: userValue, create: create, mod: mod,
                                         version: version, lease: lease)
            }
            return EtcdProto.keyValueSize(keyBytes: keyLen, valueBytes: userValue.count, create: create, mod: mod,
                                          version: version, lease: lease)
        }
    }
}

/// Entries of the `meta` db under a prefix, the prefix cut off and the
/// value mapped (leases: our 16 bytes → `leasepb.Lease`).
struct MetaPrefixSource: EtcdBucketSource {
    let prefix: [UInt8]
    /// Nil skips the entry.
    let map: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> [UInt8]?
    private var cursor: Cursor?
    private var started = false

    init(prefix: [UInt8], map: @escaping (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> [UInt8]?) {
        self.prefix = prefix
        self.map = map
    }

    static func leases() -> MetaPrefixSource {
        MetaPrefixSource(prefix: LeaseKey.prefix) { k, v in
            guard k.count == 8, v.count == 16 else { return nil }
            return EtcdProto.encode(StoredLease(
                id: Int64(bitPattern: UInt64(bigEndian: k.loadUnaligned(as: UInt64.self))),
                ttlSeconds: Int64(littleEndian: v.loadUnaligned(fromByteOffset: 0, as: Int64.self)),
                remainingTTLSeconds: Int64(littleEndian: v.loadUnaligned(fromByteOffset: 8, as: Int64.self))))
        }
    }

    mutating func next(_ view: StoreReadView, _ rd: KVReader, withValue: Bool,
                       key: inout [UInt8], value: inout [UInt8]) throws -> Int? {
        if cursor == nil { cursor = try view.cursor(rd.dbs.meta) }
        var k = MDB_val(), d = MDB_val()
        while true {
            let found: Bool
            if started {
                found = try cursor!.op(MDB_NEXT, key: &k, value: &d)
            } else {
                started = true
                found = try prefix.withUnsafeBytes { p in
                    k = MDB_val(mv_size: p.count, mv_data: UnsafeMutableRawPointer(mutating: p.baseAddress))
                    return try cursor!.op(MDB_SET_RANGE, key: &k, value: &d)
                }
            }
            guard found, LMDB.bytes(k).starts(with: prefix) else { return nil }
            let suffix = UnsafeRawBufferPointer(rebasing: LMDB.bytes(k)[prefix.count...])
            guard let mapped = map(suffix, LMDB.bytes(d)) else { continue }
            key = Array(suffix)
            if withValue { value = mapped }
            return mapped.count
        }
    }
}

/// A small bucket held in memory.
struct ArraySource: EtcdBucketSource {
    private let entries: [([UInt8], [UInt8])]
    private var at = 0

    init(_ entries: [([UInt8], [UInt8])]) {
        self.entries = entries.sorted { $0.0.lexicographicallyPrecedes($1.0) }
    }

    mutating func next(_ view: StoreReadView, _ rd: KVReader, withValue: Bool,
                       key: inout [UInt8], value: inout [UInt8]) throws -> Int? {
        guard at < entries.count else { return nil }
        defer { at += 1 }
        key = entries[at].0
        if withValue { value = entries[at].1 }
        return entries[at].1.count
    }
}
