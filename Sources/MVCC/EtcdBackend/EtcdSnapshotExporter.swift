import Bolt

/// What a member keeps outside the MVCC store that an etcd backend file
/// holds: the Raft term, membership, alarms, the cluster version. The
/// server fills it in when a snapshot starts.
public struct EtcdBackendExtras: Sendable, Equatable {
    /// The term of the last applied entry (meta `term`).
    public var term: UInt64 = 0
    /// Voters and learners (meta `confState`, as etcd 3.5 writes it).
    public var voters: [UInt64] = []
    public var learners: [UInt64] = []
    public var members: [EtcdMember] = []
    public var removedMemberIDs: [UInt64] = []
    public var alarms: [EtcdAlarm] = []
    /// Written only when the store has no cluster version recorded; nil
    /// writes none (etcd 3.5.1 writes `clusterVersion` once the leader set
    /// it, so a snapshot taken before that has none).
    public var clusterVersion: String? = "3.5.0"

    public init() {}
}

public struct EtcdAlarm: Sendable, Equatable, Hashable {
    public var memberID: UInt64
    public var type: Int32
    public init(memberID: UInt64, type: Int32) {
        self.memberID = memberID
        self.type = type
    }
}

/// Streams the store as an etcd backend (bbolt) file from one consistent
/// `StoreReadView`, with no copy: `init` runs the planning pass over the
/// view (sizes only, so the total size and every page position are known up
/// front), then each `next` writes the following piece of the file. Memory
/// holds about `minBytes` of output plus one page per tree level, whatever
/// the store's size.
///
/// Buckets: see `EtcdSchema`. `key` holds every change the view still
/// holds (as a finished compaction leaves them); `meta` the consistent index
/// and term, the compaction revisions, `confState`; `lease` every lease with
/// its TTLs; the auth buckets as the store keeps them raw, or an empty auth
/// store at revision 1 (what etcd writes at start) when it has none.
public final class EtcdSnapshotExporter {
    private let view: StoreReadView
    private let names: [[UInt8]]
    private let makeSources: () -> [any EtcdBucketSource]
    public let layout: BoltFileLayout
    /// The revision of the last change in the file (what `snapshot status` shows).
    public private(set) var lastRevision: Int64 = 1
    private var writer: BoltFileWriter?
    private var sources: [any EtcdBucketSource] = []
    private var bucket = 0
    private var inBucket = false
    private var finished = false
    private var key: [UInt8] = []
    private var value: [UInt8] = []

    public var sizeBytes: Int64 { layout.sizeBytes }

    public init(view: StoreReadView, extras: EtcdBackendExtras, pageSize: Int = BoltFormat.defaultPageSize) throws {
        self.view = view
        let fixed = try view.read { rd in try Self.fixedBuckets(view: view, rd: rd, extras: extras) }
        makeSources = {
            EtcdSchema.allBuckets.map { name -> any EtcdBucketSource in
                if let entries = fixed[name] { return ArraySource(entries) }
                if name == EtcdSchema.keyBucket { return KeyBucketSource(view: view) }
                precondition(name == EtcdSchema.leaseBucket, "every other bucket is built in memory")
                return MetaPrefixSource.leases()
            }
        }
        names = EtcdSchema.allBuckets
        var planner = try BoltFileWriter(planning: names, pageSize: pageSize)
        var sources = makeSources()
        var none: [UInt8] = []
        var key: [UInt8] = [], value: [UInt8] = []
        var last: Int64 = 1
        try view.read { rd in
            for (i, name) in planner.bucketNames.enumerated() {
                try planner.beginBucket(name)
                while let size = try sources[i].next(view, rd, withValue: false, key: &key, value: &value) {
                    try key.withUnsafeBytes { try planner.add(key: $0, value: nil, valueBytes: size, out: &none) }
                    if name == EtcdSchema.keyBucket { last = key.withUnsafeBytes { EtcdSchema.parseRevisionKey($0)?.main ?? last } }
                }
                try planner.endBucket(out: &none)
            }
        }
        precondition(planner.bucketNames == names, "EtcdSchema.allBuckets is sorted")
        layout = try planner.finish()
        lastRevision = max(last, view.compactRevision)
    }

    /// The next piece of the file: at least `minBytes` unless the file ends
    /// first; nil once everything was returned. Throws `unavailable` when
    /// the store ended the view (defragmented, replaced, closed).
    public func next(minBytes: Int) throws -> [UInt8]? {
        if finished { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(minBytes + layout.pageSize)
        try view.read { rd in
            if writer == nil {
                writer = try BoltFileWriter(writing: layout, out: &out)
                sources = makeSources()
            }
            while out.count < minBytes {
                if !inBucket {
                    if bucket == names.count {
                        _ = try writer!.finish()
                        finished = true
                        return
                    }
                    try writer!.beginBucket(names[bucket])
                    inBucket = true
                }
                if try sources[bucket].next(view, rd, withValue: true, key: &key, value: &value) != nil {
                    try writer!.add(key: key, value: value, out: &out)
                } else {
                    try writer!.endBucket(out: &out)
                    inBucket = false
                    bucket += 1
                }
            }
        }
        return out
    }

    /// The buckets built in memory: everything but `key` and `lease`.
    static func fixedBuckets(view: StoreReadView, rd: KVReader, extras: EtcdBackendExtras) throws -> [[UInt8]: [([UInt8], [UInt8])]] {
        func compactKey(_ rev: Int64) -> [UInt8] { EtcdSchema.revisionKey(main: rev, sub: 0, tombstone: false) }
        var meta: [([UInt8], [UInt8])] = [
            (EtcdSchema.consistentIndexKey, EtcdSchema.uint64BE(view.consistentIndex)),
            (EtcdSchema.termKey, EtcdSchema.uint64BE(extras.term)),
        ]
        if !extras.voters.isEmpty { meta.append((EtcdSchema.confStateKey, EtcdMemberJSON.confState(voters: extras.voters, learners: extras.learners))) }
        if view.compactRevision > 0 {
            meta.append((EtcdSchema.scheduledCompactKey, compactKey(view.compactRevision)))
            // The key bucket is written as a finished compaction leaves it.
            meta.append((EtcdSchema.finishedCompactKey, compactKey(view.compactRevision)))
        }
        var fixed: [[UInt8]: [([UInt8], [UInt8])]] = [
            EtcdSchema.metaBucket: meta,
            EtcdSchema.clusterBucket: extras.clusterVersion.map { [(EtcdSchema.clusterVersionKey, Array($0.utf8))] } ?? [],
            EtcdSchema.membersBucket: extras.members.map { (EtcdSchema.memberKey($0.id), EtcdMemberJSON.encode($0)) },
            EtcdSchema.membersRemovedBucket: extras.removedMemberIDs.map { (EtcdSchema.memberKey($0), Array("removed".utf8)) },
            EtcdSchema.alarmBucket: Set(extras.alarms).map { (EtcdProto.encodeAlarm(memberID: $0.memberID, type: $0.type), []) },
        ]
        // The server's records of etcd's `cluster` bucket (`clusterVersion`
        // as the leader set it through Raft, `downgrade`); with none
        // recorded, `extras.clusterVersion` if any.
        var cluster: [([UInt8], [UInt8])] = []
        try RawBucketKey.forEach(rd.txn, rd.dbs.meta, EtcdSchema.clusterBucket) { key, value in
            cluster.append((Array(key), Array(value)))
        }
        if !cluster.contains(where: { $0.0 == EtcdSchema.clusterVersionKey }) {
            cluster += fixed[EtcdSchema.clusterBucket] ?? []
        }
        fixed[EtcdSchema.clusterBucket] = cluster.sorted { $0.0.lexicographicallyPrecedes($1.0) }
        // The auth buckets are small (one entry per user and role) and a
        // long name's key must be given back from its record, out of the
        // stored order: they are read whole.
        for name in EtcdSchema.rawBuckets {
            fixed[name] = try RawBucketKey.entries(rd.txn, rd.dbs.meta, name)
        }
        if fixed[EtcdSchema.authBucket]!.isEmpty { fixed[EtcdSchema.authBucket] = [(EtcdSchema.authRevisionKey, EtcdSchema.uint64BE(1))] }
        return fixed
    }
}
