/// A Range answered as the bytes of etcd's `etcdserverpb.RangeResponse`,
/// written straight from the stored records: no `KeyValue` per key and no
/// second copy of every value on its way to the wire (`MVCCStore.rangeEncoded`).
public struct EncodedRange: Sendable {
    /// `headroom` zero bytes, then the encoded response.
    public var bytes: [UInt8]
    /// The response header's revision (the store's current one).
    public var revision: Int64
    /// Keys in the response, and the bytes of their keys and values (for the slow-read warning).
    public var kvCount: Int
    public var kvBytes: Int
}

extension MVCCStore {
    /// `range(r)` encoded as etcd's `RangeResponse` (header = field 1, given
    /// encoded by `header(revision)`; kvs = 2, `mvccpb.KeyValue` as
    /// `EtcdProto` writes it; more = 3; count = 4; zero values left out), the
    /// same bytes protobuf's encoder writes for `range(r)`'s answer. Nil when
    /// the request sorts or filters by revision: take `range` then.
    public func rangeEncoded(_ r: RangeRequest, headroom: Int,
                             header: (Int64) throws -> [UInt8]) throws -> EncodedRange? {
        guard Self.encodesDirectly(r) else { return nil }
        return try withReadTxn { rd in
            let (cur, compact) = try revisions(rd)
            return try rd.rangeEncoded(r, curRev: cur, compactRev: compact, headroom: headroom, header: header(cur),
                                       counts: rangeCounts)
        }
    }

    /// Requests whose answer is the index's key order as it is: no sort
    /// other than by key ascending-as-stored, no revision filters.
    static func encodesDirectly(_ r: RangeRequest) -> Bool {
        r.sortOrder == .none && r.sortTarget == .key
            && r.minModRevision == 0 && r.maxModRevision == 0
            && r.minCreateRevision == 0 && r.maxCreateRevision == 0
    }
}

extension KVReader {
    /// `applyRange` for a request `MVCCStore.encodesDirectly` accepts, encoded.
    /// `counts`: the store's remembered counts (nil in a write txn).
    func rangeEncoded(_ r: RangeRequest, curRev: Int64, compactRev: Int64, headroom: Int,
                      header: [UInt8], counts: RangeCounts? = nil) throws -> EncodedRange {
        let rev = try Self.readRevision(r.revision, curRev: curRev, compactRev: compactRev)
        let bounds = KeyBounds(key: r.key, rangeEnd: r.rangeEnd)
        var (revs, count) = try liveRevisions(bounds, atRev: rev, latest: rev >= curRev,
                                              limit: Self.fetchLimit(r.limit, fetchesAll: false),
                                              countOnly: r.countOnly, counts: counts)
        var more = false
        if r.limit > 0 && revs.count > r.limit {
            revs.removeSubrange(Int(r.limit)...)
            more = true
            try Self.rememberNextPage(counts, bounds, lastKey: Record.Fields(recordBytes(revs[revs.count - 1])).key,
                                      atRev: rev, count: count, limit: revs.count)
        }
        // The records stay mapped while the txn is open: size first, then write once.
        var records: [UnsafeRawBufferPointer] = []
        records.reserveCapacity(revs.count)
        var size = headroom + 1 + EtcdProto.varintSize(UInt64(header.count)) + header.count
        var kvBytes = 0
        for rv in revs {
            let b = try recordBytes(rv)
            records.append(b)
            let f = Record.Fields(b)
            let n = EtcdProto.keyValueSize(keyBytes: f.key.count, valueBytes: r.keysOnly ? 0 : f.value.count,
                                           create: f.create, mod: f.mod, version: f.version, lease: f.lease)
            size += 1 + EtcdProto.varintSize(UInt64(n)) + n
            kvBytes += f.key.count + f.value.count
        }
        size += 2 + 1 + EtcdProto.varintSize(UInt64(count))

        // One allocation of the final size (a buffer of `headroom` zeros first
        // would be a second one, reallocated at once).
        var out = [UInt8]()
        out.reserveCapacity(size)
        out.append(contentsOf: repeatElement(0, count: headroom))
        header.withUnsafeBytes { EtcdProto.bytesField(&out, 1, $0) }
        for b in records {
            let f = Record.Fields(b)
            let value = r.keysOnly ? UnsafeRawBufferPointer(start: nil, count: 0) : f.value
            let n = EtcdProto.keyValueSize(keyBytes: f.key.count, valueBytes: value.count,
                                           create: f.create, mod: f.mod, version: f.version, lease: f.lease)
            EtcdProto.varint(&out, 2 << 3 | 2)
            EtcdProto.varint(&out, UInt64(n))
            EtcdProto.encodeKeyValue(&out, key: f.key, value: value, create: f.create, mod: f.mod,
                                     version: f.version, lease: f.lease)
        }
        if more { EtcdProto.varintField(&out, 3, 1) }
        EtcdProto.varintField(&out, 4, Int64(count))
        return EncodedRange(bytes: out, revision: curRev, kvCount: records.count, kvBytes: kvBytes)
    }
}
