import Config
import MVCC
import Proto

extension EtcdServer {
    /// What an etcd backend file holds that the store does not (the Raft
    /// term and conf state, members, alarms), as of now.
    func etcdBackendExtras() -> EtcdBackendExtras {
        let status = loop.status
        let members = membership.all
        var extras = EtcdBackendExtras()
        extras.term = status.term
        extras.voters = members.filter { !$0.isLearner }.map(\.id)
        extras.learners = members.filter(\.isLearner).map(\.id)
        extras.members = members.map {
            EtcdMember(id: $0.id, name: $0.name, peerURLs: $0.peerURLs, isLearner: $0.isLearner)
        }
        extras.removedMemberIDs = membership.removedIDs
        extras.alarms = alarms.get(.none).map { EtcdAlarm(memberID: $0.memberID, type: $0.alarm.rawValue) }
        // The version the leader set is in the store; before it is decided
        // the file has none, as etcd 3.5.1's.
        extras.clusterVersion = nil
        return extras
    }
}
