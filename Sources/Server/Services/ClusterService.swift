import GRPCWire
import Proto

/// etcdserverpb.Cluster: MemberList from the member table; MemberAdd,
/// MemberRemove, MemberUpdate and MemberPromote as Raft conf changes.
struct ClusterService {
    let server: EtcdServer

    func register(on router: GRPCRouter) {
        let server = self.server
        router.unary(Etcdserverpb.ClusterService.memberList) { _, _ in
            var response = Etcdserverpb.MemberListResponse()
            response.header = server.header(revision: 0)
            response.members = server.membership.all.map(Self.wire)
            return response
        }
        router.unary(Etcdserverpb.ClusterService.memberRemove) { request, _ in
            try await server.removeMember(request.id)
            var response = Etcdserverpb.MemberRemoveResponse()
            response.header = server.header(revision: 0)
            response.members = server.membership.all.map(Self.wire)
            return response
        }
        router.unary(Etcdserverpb.ClusterService.memberAdd) { request, _ in
            let added = try await server.addMember(peerURLs: request.peerURLs, learner: request.isLearner)
            var response = Etcdserverpb.MemberAddResponse()
            response.header = server.header(revision: 0)
            response.member = Self.wire(added)
            response.members = server.membership.all.map(Self.wire)
            return response
        }
        router.unary(Etcdserverpb.ClusterService.memberUpdate) { request, _ in
            try await server.updateMember(request.id, peerURLs: request.peerURLs)
            var response = Etcdserverpb.MemberUpdateResponse()
            response.header = server.header(revision: 0)
            response.members = server.membership.all.map(Self.wire)
            return response
        }
        router.unary(Etcdserverpb.ClusterService.memberPromote) { request, _ in
            try await server.promoteMember(request.id)
            var response = Etcdserverpb.MemberPromoteResponse()
            response.header = server.header(revision: 0)
            response.members = server.membership.all.map(Self.wire)
            return response
        }
    }

    static func wire(_ m: ClusterMember) -> Etcdserverpb.Member {
        var member = Etcdserverpb.Member()
        member.id = m.id
        member.name = m.name
        member.peerURLs = m.peerURLs
        member.clientURLs = m.clientURLs
        member.isLearner = m.isLearner
        return member
    }
}
