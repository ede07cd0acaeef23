import GRPCWire
import Proto

/// etcdserverpb.Cluster: MemberList from the member table; MemberAdd,
/// MemberRemove, MemberUpdate and MemberPromote as Raft conf changes.
struct ClusterService {
    let backend: ClusterBackend
    let access: RequestAccess

    func register(on router: GRPCRouter) {
        let backend = self.backend, access = self.access
        router.unary(Etcdserverpb.ClusterService.memberList) { _, context in
            _ = try await access.check(.open, context)
            var response = Etcdserverpb.MemberListResponse()
            response.header = backend.header(revision: 0)
            response.members = backend.members.map(Self.wire)
            return response
        }
        router.unary(Etcdserverpb.ClusterService.memberRemove) { request, context in
            _ = try await access.check(.admin, context)
            try await backend.removeMember(request.id)
            var response = Etcdserverpb.MemberRemoveResponse()
            response.header = backend.header(revision: 0)
            response.members = backend.members.map(Self.wire)
            return response
        }
        router.unary(Etcdserverpb.ClusterService.memberAdd) { request, context in
            _ = try await access.check(.admin, context)
            let added = try await backend.addMember(peerURLs: request.peerURLs, learner: request.isLearner)
            var response = Etcdserverpb.MemberAddResponse()
            response.header = backend.header(revision: 0)
            response.member = Self.wire(added)
            response.members = backend.members.map(Self.wire)
            return response
        }
        router.unary(Etcdserverpb.ClusterService.memberUpdate) { request, context in
            _ = try await access.check(.admin, context)
            try await backend.updateMember(request.id, peerURLs: request.peerURLs)
            var response = Etcdserverpb.MemberUpdateResponse()
            response.header = backend.header(revision: 0)
            response.members = backend.members.map(Self.wire)
            return response
        }
        router.unary(Etcdserverpb.ClusterService.memberPromote) { request, context in
            _ = try await access.check(.admin, context)
            try await backend.promoteMember(request.id)
            var response = Etcdserverpb.MemberPromoteResponse()
            response.header = backend.header(revision: 0)
            response.members = backend.members.map(Self.wire)
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
