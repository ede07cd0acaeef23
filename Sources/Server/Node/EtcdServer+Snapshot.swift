import Foundation
import MVCC
import Proto
import Raft

/// The state a member keeps outside the MVCC store, carried as a Raft
/// snapshot's data so a follower installing the snapshot gets all of it:
/// the member table (members.json) and the alarms. Leases live in the store.
/// JSON, as members.json is.
struct SnapshotExtras: Codable, Equatable {
    struct Alarm: Codable, Equatable {
        var memberID: UInt64
        var type: Int32
    }

    var members: [ClusterMember]
    var alarms: [Alarm]

    func encoded() throws -> [UInt8] { Array(try JSONEncoder().encode(self)) }

    init(members: [ClusterMember], alarms: [Alarm]) {
        self.members = members
        self.alarms = alarms
    }

    init(decoding bytes: [UInt8]) throws {
        self = try JSONDecoder().decode(SnapshotExtras.self, from: Data(bytes))
    }
}

extension EtcdServer {
    /// The leader's side: a fresh consistent copy of the store and the
    /// extras, for a snapshot transfer. The copy's consistent index is at
    /// least the Raft snapshot's (snapshots are taken at the applied index);
    /// the follower skips the entries in between that it already holds, and
    /// re-applies their membership changes, which is harmless.
    func snapshotPayload() throws -> SnapshotPayload {
        let copy = try StoreCopy.make(store: store, snapDir: DataDirLayout(dataDir: options.dataDir).snapDir)
        do {
            let alarms = alarms.get(.none).map { SnapshotExtras.Alarm(memberID: $0.memberID, type: $0.alarm.rawValue) }
            let extras = try SnapshotExtras(members: membership.all, alarms: alarms).encoded()
            return SnapshotPayload(copy: copy, extras: extras)
        } catch {
            copy.close()
            throw error
        }
    }

    /// The follower's side, on the Raft loop thread (the apply thread
    /// drained first: nothing is applied meanwhile), before Raft persists the snapshot: swaps in the received
    /// store, then rebuilds what derives from it or travels with it —
    /// members and peer connections, alarms, leases, watchers.
    func installSnapshot(_ snap: Snapshot) throws {
        let index = snap.metadata.index
        guard let file = peers?.receivedSnapshots.take(index: index) else {
            throw StartupError("no received database for the snapshot at index \(index)")
        }
        let extras = try SnapshotExtras(decoding: snap.data)
        let before = store.currentRevision
        let versionBefore = ClusterVersion.load(from: store)
        let info = try store.replace(withDatabaseFile: file)
        replaceMembers(with: extras.members)
        alarms.replaceAll(extras.alarms.map {
            var m = Etcdserverpb.AlarmMember()
            m.memberID = $0.memberID
            m.alarm = Etcdserverpb.AlarmType(rawValue: $0.type)
            return m
        })
        let leased = try store.leasesWithKeys()
        lessor.reload(leases: leased.leases, leasedKeys: leased.leasedKeys)
        try loadAuth()
        watchHub.storeReplaced()
        // The version came with the database, as etcd's recovery after a
        // snapshot: a new member logs it here (scripts wait for the line).
        if let version = ClusterVersion.load(from: store) {
            clusterVersionApplied(version, previous: versionBefore)
        }
        logger.info("installed database snapshot from the leader", metadata: [
            "snapshot-index": "\(index)", "consistent-index": "\(info.consistentIndex)",
            "revision-before": "\(before)", "revision": "\(info.revision)", "members": "\(extras.members.count)",
        ])
    }

    /// Makes the member table the snapshot's (this member keeps its own name
    /// and client URLs) and the peer connections follow it.
    private func replaceMembers(with members: [ClusterMember]) {
        let incoming = Dictionary(members.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        for old in membership.all where incoming[old.id] == nil && old.id != memberID {
            membership.remove(old.id)
            peers?.dropPeer(old.id)
        }
        for var m in members {
            let old = membership.member(m.id)
            if m.id == memberID, let old {
                m.name = old.name
                m.clientURLs = old.clientURLs
            }
            membership.put(m)
            guard m.id != memberID, let url = m.peerURLs.first else { continue }
            if let old, old.peerURLs != m.peerURLs { peers?.replacePeer(m.id, url: url) } else { peers?.addPeer(m.id, url: url) }
        }
    }
}
