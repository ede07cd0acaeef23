/// etcd's applyRange (etcdserver/apply.go) over a view at revision `curRev`.
extension KVReader {
    /// - Parameters:
    ///   - curRev: the view's revision (current revision, or the in-flight
    ///     revision inside a write txn that already changed something).
    ///   - compactRev: reads below it are refused (-1: never compacted).
    ///   - counts: the store's remembered counts (nil in a write txn).
    func applyRange(_ r: RangeRequest, curRev: Int64, compactRev: Int64,
                    counts: RangeCounts? = nil) throws -> RangeResponse {
        let filtered = r.minModRevision != 0 || r.maxModRevision != 0
            || r.minCreateRevision != 0 || r.maxCreateRevision != 0
        // Fetch everything when sorting or filtering; truncate afterwards.
        let fetchLimit = Self.fetchLimit(r.limit, fetchesAll: r.sortOrder != .none || filtered)

        let rev = try Self.readRevision(r.revision, curRev: curRev, compactRev: compactRev)

        let bounds = KeyBounds(key: r.key, rangeEnd: r.rangeEnd)
        // etcd sorts on the full values and drops them afterwards for keys_only.
        let sortsByValue = r.sortTarget == .value && !r.countOnly
        // Sorted or filtered pages are not the range's first keys: no next-page count.
        let plain = !filtered && r.sortOrder == .none && r.sortTarget == .key
        var (kvs, count) = try rangeKeys(bounds, atRev: rev, latest: rev >= curRev,
                                         limit: fetchLimit,
                                         countOnly: r.countOnly, keysOnly: r.keysOnly && !sortsByValue,
                                         counts: counts)
        if filtered {
            kvs.removeAll { kv in
                (r.maxModRevision != 0 && kv.modRevision > r.maxModRevision)
                    || (r.minModRevision != 0 && kv.modRevision < r.minModRevision)
                    || (r.maxCreateRevision != 0 && kv.createRevision > r.maxCreateRevision)
                    || (r.minCreateRevision != 0 && kv.createRevision < r.minCreateRevision)
            }
        }
        var order = r.sortOrder
        if r.sortTarget != .key && order == .none { order = .ascend }
        if order != .none && kvs.count > 1 {
            kvs = Self.etcdSorted(kvs, target: r.sortTarget, descending: order == .descend)
        }
        var more = false
        if r.limit > 0 && kvs.count > r.limit {
            kvs.removeSubrange(Int(r.limit)...)
            more = true
            if plain {
                kvs[kvs.count - 1].key.withUnsafeBytes {
                    Self.rememberNextPage(counts, bounds, lastKey: $0, atRev: rev, count: count, limit: kvs.count)
                }
            }
        }
        if r.keysOnly && sortsByValue {
            for i in kvs.indices { kvs[i].value = [] }
        }
        return RangeResponse(revision: curRev, kvs: kvs, more: more, count: Int64(count))
    }

    /// The revision a read of `requested` sees (mvcc rangeKeys' rules): the
    /// current one for 0 or less; refused in the future or below `compactRev`.
    static func readRevision(_ requested: Int64, curRev: Int64, compactRev: Int64) throws -> Int64 {
        if requested > curRev { throw MVCCError.futureRevision }
        let rev = requested <= 0 ? curRev : requested
        if rev < compactRev { throw MVCCError.compacted }
        return rev
    }

    /// How many keys `rangeKeys` collects for a request `limit` (0: all):
    /// one more than the limit, to know whether there are `more`. A client
    /// controls `limit`, so `limit + 1` saturates: a limit no store can
    /// reach (up to Int64.max, as `--limit=9223372036854775807`) means all
    /// keys, which is also what etcd's wrapped sum ends up meaning.
    static func fetchLimit(_ limit: Int64, fetchesAll: Bool) -> Int {
        if fetchesAll || limit <= 0 { return 0 }
        let (plusOne, overflow) = limit.addingReportingOverflow(1)
        guard !overflow, let n = Int(exactly: plusOne) else { return 0 }
        return n
    }

    /// Sorts by `target` exactly as etcd 3.5.1 does: Go's (unstable)
    /// `sort.Sort`, over `sort.Reverse` when descending, so ties come out in
    /// etcd's order too.
    static func etcdSorted(_ kvs: [KeyValue], target: RangeRequest.SortTarget, descending: Bool) -> [KeyValue] {
        let less: (KeyValue, KeyValue) -> Bool
        switch target {
        case .key: less = { Bytes.compare($0.key, $1.key) < 0 }
        case .version: less = { $0.version < $1.version }
        case .create: less = { $0.createRevision < $1.createRevision }
        case .mod: less = { $0.modRevision < $1.modRevision }
        case .value: less = { Bytes.compare($0.value, $1.value) < 0 }
        }
        return GoSort.sorted(kvs, by: descending ? { less($1, $0) } : less)
    }
}
