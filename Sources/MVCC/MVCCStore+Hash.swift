import CLMDB
import Support

/// What `Maintenance.HashKV` answers.
public struct KVHash: Equatable, Sendable {
    /// CRC-32C of the history up to the hash revision.
    public var hash: UInt32
    /// The store's revision when the hash was taken (the response header's).
    public var currentRevision: Int64
    /// The compaction revision (-1 before the first compaction; etcd's
    /// compactMainRev); the history at or below it is hashed as it will
    /// survive compaction.
    public var compactRevision: Int64
    /// The revision the history was hashed up to.
    public var hashRevision: Int64
}

extension MVCCStore {
    /// etcd's `HashByRev`: CRC-32C over the bucket name "key" and then, in
    /// revision order, each change at or below `revision` (0 = current) as
    /// etcd's bolt stores it: the 17-byte revision key (main ‖ '_' ‖ sub, big
    /// endian, plus 't' for a tombstone) and the `mvccpb.KeyValue` protobuf.
    /// Changes at or below the compaction revision count only when they are
    /// what a compaction at `revision` keeps (each key's latest put at or
    /// below it), so the hash does not depend on how far physical compaction
    /// got, and two members with the same history agree, as with etcd.
    ///
    /// Throws `compacted` for 0 < revision ≤ compact revision and
    /// `futureRevision` above the current one.
    public func hashKV(revision: Int64) throws -> KVHash {
        try withReadTxn { rd in
            let (current, compact) = try revisions(rd)
            if revision > 0 && revision <= compact { throw MVCCError.compacted }
            if revision > current { throw MVCCError.futureRevision }
            let upTo = revision == 0 ? current : revision
            var crc: UInt32 = 0
            crc = CRC32C.update(crc, Array("key".utf8))
            var keepIsEmpty: Bool?  // etcd's len(keep) == 0, computed only if needed
            let cursor = try Cursor(rd.txn, dbs.rev)
            defer { cursor.close() }
            var k = MDB_val(), d = MDB_val()
            var more = try cursor.op(MDB_FIRST, key: &k, value: &d)
            while more {
                let rev = Revision(key: LMDB.bytes(k))
                if rev.main > upTo { break }
                let kv = Record.decode(LMDB.bytes(d))
                var include = true
                if rev.main <= compact {
                    if keepIsEmpty == nil { keepIsEmpty = try Self.noLiveKey(rd, atRev: upTo) }
                    if keepIsEmpty == false { include = try Self.isKept(rd, kv, at: rev, upTo: upTo) }
                }
                if include { Self.hashRecord(&crc, rev, kv) }
                more = try cursor.op(MDB_NEXT, key: &k, value: &d)
            }
            return KVHash(hash: crc, currentRevision: current, compactRevision: compact, hashRevision: upTo)
        }
    }

    /// etcd's backend `Hash` (Maintenance.Hash): CRC-32C over every database
    /// of the store, by name, then its keys and values, leaving out the
    /// consistent index (it differs between members holding the same data).
    /// Returns the hash and the revision it was taken at.
    public func hashAll() throws -> (hash: UInt32, revision: Int64) {
        try withReadTxn { rd in
            let (current, _) = try revisions(rd)
            let hash = try Self.contentHash(txn: rd.txn, dbs: dbs, ignoring: [MetaKey.consistentIndex.rawValue]).hash
            return (hash, current)
        }
    }

    /// CRC-32C over the databases in name order (index, meta, rev): the
    /// name, then every key and value (each duplicate of the index). Also
    /// counts the entries hashed.
    static func contentHash(txn: OpaquePointer, dbs: Databases, ignoring metaKeys: Set<String> = [])
        throws -> (hash: UInt32, entries: Int) {
        var crc: UInt32 = 0
        var entries = 0
        for (name, dbi) in [("index", dbs.index), ("meta", dbs.meta), ("rev", dbs.rev)] {
            crc = CRC32C.update(crc, Array(name.utf8))
            let cursor = try Cursor(txn, dbi)
            defer { cursor.close() }
            var k = MDB_val(), d = MDB_val()
            var more = try cursor.op(MDB_FIRST, key: &k, value: &d)
            while more {
                let key = LMDB.bytes(k)
                if dbi != dbs.meta || !metaKeys.contains(String(decoding: key, as: UTF8.self)) {
                    crc = CRC32C.update(crc, key)
                    crc = CRC32C.update(crc, LMDB.bytes(d))
                    entries += 1
                }
                more = try cursor.op(MDB_NEXT, key: &k, value: &d)
            }
        }
        return (crc, entries)
    }

    private static func noLiveKey(_ rd: KVReader, atRev: Int64) throws -> Bool {
        var found = false
        try rd.visitLive(.from([]), atRev: atRev, latest: false) { _, _ in
            found = true
            return false
        }
        return !found
    }

    /// Whether the change at `rev` is its key's latest at or below `upTo`
    /// and a put (etcd's keyIndex.keep).
    static func isKept(_ rd: KVReader, _ kv: KeyValue, at rev: Revision, upTo: Int64) throws -> Bool {
        if kv.version == 0 { return false }
        var entry: IndexEntry?
        try rd.visitLive(.single(kv.key), atRev: upTo, latest: false) { _, e in
            entry = e
            return false
        }
        return entry?.revision == rev
    }

    /// Feeds one change to the hash in etcd's bolt encoding.
    static func hashRecord(_ crc: inout UInt32, _ rev: Revision, _ kv: KeyValue) {
        var key: [UInt8] = []
        key.reserveCapacity(18)
        for shift in stride(from: 56, through: 0, by: -8) { key.append(UInt8(truncatingIfNeeded: rev.main >> Int64(shift))) }
        key.append(UInt8(ascii: "_"))
        for shift in stride(from: 56, through: 0, by: -8) { key.append(UInt8(truncatingIfNeeded: rev.sub >> Int64(shift))) }
        let tombstone = kv.version == 0
        if tombstone { key.append(UInt8(ascii: "t")) }
        crc = CRC32C.update(crc, key)
        crc = CRC32C.update(crc, tombstone ? EtcdProto.encode(KeyValue(key: kv.key)) : EtcdProto.encode(kv))
    }
}
