/// Compact binary codec for the peer transport. Layout (all integers uvarint):
///
///     version u8 (=1) | type u8 | flags u8 (bit0 reject, bit1 has snapshot)
///     to from term logTerm index commit rejectHint
///     context: len + bytes
///     entries: count, then per entry: term index type(u8) data(len + bytes)
///     snapshot (if flag): index term voters(count, ids) learners(count, ids) data(len + bytes)
extension Message {
    static let codecVersion: UInt8 = 1

    /// Terms and indexes a peer may send. No real log gets near 2^63, and
    /// the core adds to them (`index + 1`, `term + 1`, `index + count`):
    /// refusing larger ones here keeps a peer's value from reaching a trap.
    public static let maxTermOrIndex = UInt64(Int64.max)

    public func encoded() -> [UInt8] {
        var size = 48 + context.count
        for e in entries { size += 24 + e.data.count }
        if let s = snapshot { size += 32 + s.data.count + 10 * (s.metadata.confState.voters.count + s.metadata.confState.learners.count) }
        var w = ByteWriter(capacity: size)
        w.u8(Message.codecVersion)
        w.u8(type.rawValue)
        w.u8((reject ? 1 : 0) | (snapshot != nil ? 2 : 0))
        for v in [to, from, term, logTerm, index, commit, rejectHint] { w.uvarint(v) }
        w.bytes(context)
        w.uvarint(UInt64(entries.count))
        for e in entries {
            w.uvarint(e.term)
            w.uvarint(e.index)
            w.u8(e.type.rawValue)
            w.bytes(e.data)
        }
        if let s = snapshot {
            w.uvarint(s.metadata.index)
            w.uvarint(s.metadata.term)
            for ids in [s.metadata.confState.voters, s.metadata.confState.learners] {
                w.uvarint(UInt64(ids.count))
                for id in ids { w.uvarint(id) }
            }
            w.bytes(s.data)
        }
        return w.buffer
    }

    public init(decoding bytes: [UInt8]) throws {
        var r = ByteReader(bytes)
        guard try r.u8() == Message.codecVersion else { throw RaftError.malformed("message version") }
        guard let t = MessageType(rawValue: try r.u8()) else { throw RaftError.malformed("message type") }
        let flags = try r.u8()
        self.init(type: t)
        reject = flags & 1 != 0
        to = try r.uvarint()
        from = try r.uvarint()
        term = try r.termOrIndex()
        logTerm = try r.termOrIndex()
        index = try r.termOrIndex()
        commit = try r.termOrIndex()
        rejectHint = try r.termOrIndex()
        context = try r.bytes()
        let n = try r.count()
        entries.reserveCapacity(n)
        for _ in 0..<n {
            let term = try r.termOrIndex()
            let index = try r.termOrIndex()
            guard let et = EntryType(rawValue: try r.u8()) else { throw RaftError.malformed("entry type") }
            entries.append(Entry(term: term, index: index, type: et, data: try r.bytes()))
        }
        if flags & 2 != 0 {
            var meta = SnapshotMetadata(index: try r.termOrIndex(), term: try r.termOrIndex())
            var lists: [[UInt64]] = []
            for _ in 0..<2 {
                let c = try r.count()
                var ids: [UInt64] = []
                for _ in 0..<c { ids.append(try r.uvarint()) }
                lists.append(ids)
            }
            meta.confState = ConfState(voters: lists[0], learners: lists[1])
            snapshot = Snapshot(metadata: meta, data: try r.bytes())
        }
        guard r.atEnd else { throw RaftError.malformed("trailing bytes in message") }
        // The follower's append indexes an append's entries by their position
        // after `index` (`ci - (index + 1)`) and commits up to `index + count`:
        // entries that do not follow `index` one by one would reach a trap
        // there (an out-of-range slice, a commit past the last index).
        // (A forwarded proposal's entries have no index yet.)
        for (i, e) in entries.enumerated() where type == .app && e.index != index + 1 + UInt64(i) {
            throw RaftError.malformed("entry \(i) has index \(e.index), expected \(index + 1 + UInt64(i))")
        }
    }
}

extension ByteReader {
    /// A uvarint no larger than `Message.maxTermOrIndex`.
    mutating func termOrIndex() throws -> UInt64 {
        let v = try uvarint()
        guard v <= Message.maxTermOrIndex else { throw RaftError.malformed("term or index past 2^63") }
        return v
    }
}
