import GRPCWire
import Proto

/// etcdserverpb.Cluster: MemberList from the member table, MemberRemove as a
/// Raft conf change. MemberAdd/Update/Promote are not built yet and answer
/// UNIMPLEMENTED (the router's answer for unregistered methods).
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
        router.unary(Etcdserverpb.ClusterService.memberRemove) { request, _ in
            try await server.removeMember(request.id)
            var response = Etcdserverpb.MemberRemoveResponse()
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
