import NIOCore

/// Who a starting member is, before its data dir is opened.
///
/// - `new` (bootstrap): IDs derive from `--initial-cluster` and the token,
///   as etcd derives them; every member bootstraps the same voters.
/// - `existing` (joining after `etcdctl member add`): the ID was chosen by
///   MemberAdd (it mixes in the time), so the member asks a running peer for
///   the member list and finds itself by its peer URLs (etcd's
///   `GetClusterFromRemotePeers` + `ValidateClusterAndAssignIDs`). It does
///   not bootstrap: its configuration comes from the leader's log.
/// - A data dir with a WAL: the WAL metadata decides; these are unused.
struct MemberStart {
    var metadata: MemberMetadata
    /// Voters to bootstrap Raft with; empty when joining.
    var bootstrapPeers: [UInt64]
    /// The member table to start with when the data dir has none.
    var members: [ClusterMember]

    static func resolve(options: ServerOptions, hasWAL: Bool, dialer: PeerDialer, group: EventLoopGroup) throws -> MemberStart {
        let joining = !options.initialClusterStateNew
        if joining && !hasWAL {
            let ownURLs = Set(options.initialAdvertisePeerURLs)
            let others = options.initialCluster.flatMap(\.peerURLs).filter { !ownURLs.contains($0) }
            let cluster = try PeerDiscovery.fetch(peerURLs: others, dialer: dialer, group: group)
            let me = try PeerDiscovery.localMember(in: cluster, initialCluster: options.initialCluster.map(\.peerURLs),
                                                   advertisePeerURLs: options.initialAdvertisePeerURLs)
            return MemberStart(metadata: MemberMetadata(memberID: me.id, clusterID: cluster.clusterID),
                               bootstrapPeers: [], members: cluster.members)
        }
        let localID = MemberIdentity.memberID(peerURLs: options.initialAdvertisePeerURLs, clusterToken: options.initialClusterToken)
        // The others' names stay empty ("unstarted", as etcd lists them)
        // until their hellos bring their attributes; the strict
        // reconfiguration check counts only started members.
        let members = options.initialCluster.map {
            ClusterMember(id: MemberIdentity.memberID(peerURLs: $0.peerURLs, clusterToken: options.initialClusterToken),
                          name: "", peerURLs: $0.peerURLs, clientURLs: [])
        }
        let ids = members.map(\.id)
        if !hasWAL && !ids.contains(localID) {
            throw StartupError("couldn't find local name \"\(options.name)\" with --initial-advertise-peer-urls \(options.initialAdvertisePeerURLs.joined(separator: ",")) in the initial cluster configuration")
        }
        return MemberStart(metadata: MemberMetadata(memberID: localID, clusterID: joining ? 0 : MemberIdentity.clusterID(memberIDs: ids)),
                           bootstrapPeers: joining ? [] : ids, members: members)
    }
}
