/// etcd's applyRange (etcdserver/apply.go) over a view at revision `curRev`.
extension KVReader {
    /// - Parameters:
    ///   - curRev: the view's revision (current revision, or the in-flight
    ///     revision inside a write txn that already changed something).
    ///   - compactRev: reads below it are refused (-1: never compacted).
    func applyRange(_ r: RangeRequest, curRev: Int64, compactRev: Int64) throws -> RangeResponse {
        let filtered = r.minModRevision != 0 || r.maxModRevision != 0
            || r.minCreateRevision != 0 || r.maxCreateRevision != 0
        // Fetch everything when sorting or filtering; truncate afterwards.
        var fetchLimit = (r.sortOrder != .none || filtered) ? 0 : r.limit
        if fetchLimit > 0 { fetchLimit += 1 }  // one extra for `more`

        // mvcc rangeKeys revision rules.
        var rev = r.revision
        if rev > curRev { throw KVError.futureRevision }
        if rev <= 0 { rev = curRev }
        if rev < compactRev { throw KVError.compacted }

        let bounds = KeyBounds(key: r.key, rangeEnd: r.rangeEnd)
        // keys_only drops values after sorting, so a VALUE sort needs them.
        let sortsByValue = r.sortTarget == .value
        var (kvs, count) = try rangeKeys(bounds, atRev: rev, latest: rev >= curRev,
                                         limit: fetchLimit > Int64(Int.max) ? 0 : Int(fetchLimit),
                                         countOnly: r.countOnly, keysOnly: r.keysOnly && !sortsByValue)
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
            kvs = Self.stableSorted(kvs, target: r.sortTarget, descending: order == .descend)
        }
        var more = false
        if r.limit > 0 && kvs.count > r.limit {
            kvs.removeSubrange(Int(r.limit)...)
            more = true
        }
        if r.keysOnly && sortsByValue {
            for i in kvs.indices { kvs[i].value = [] }
        }
        return RangeResponse(revision: curRev, kvs: kvs, more: more, count: Int64(count))
    }

    /// Sorts by `target`; ties keep the input (key) order in both directions,
    /// as Go's sort.Stable over sort.Reverse.
    static func stableSorted(_ kvs: [KeyValue], target: RangeRequest.SortTarget, descending: Bool) -> [KeyValue] {
        func cmp(_ a: KeyValue, _ b: KeyValue) -> Int {
            switch target {
            case .key: return Bytes.compare(a.key, b.key)
            case .version: return a.version < b.version ? -1 : (a.version > b.version ? 1 : 0)
            case .create: return a.createRevision < b.createRevision ? -1 : (a.createRevision > b.createRevision ? 1 : 0)
            case .mod: return a.modRevision < b.modRevision ? -1 : (a.modRevision > b.modRevision ? 1 : 0)
            case .value: return Bytes.compare(a.value, b.value)
            }
        }
        let order = kvs.indices.sorted { i, j in
            let c = cmp(kvs[i], kvs[j])
            if c != 0 { return descending ? c > 0 : c < 0 }
            return i < j
        }
        return order.map { kvs[$0] }
    }
}
