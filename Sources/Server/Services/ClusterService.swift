import GRPCWire
import Proto

/// etcdserverpb.Cluster: MemberList from the member table. Runtime
/// reconfiguration (MemberAdd/Remove/Update/Promote) is not built yet and
/// answers UNIMPLEMENTED (the router's answer for unregistered methods).
struct ClusterService {
    let server: EtcdServer

    func register(on router: GRPCRouter) {
        let server = self.server
        router.unary(Etcdserverpb.ClusterService.memberList) { _, _ in
            var response = Etcdserverpb.MemberListResponse()
            response.header = server.header(revision: server.store.currentRevision)
            response.members = server.membership.all.map { m in
                var member = Etcdserverpb.Member()
                member.id = m.id
                member.name = m.name
                member.peerURLs = m.peerURLs
                member.clientURLs = m.clientURLs
                return member
            }
            return response
        }
    }
}
