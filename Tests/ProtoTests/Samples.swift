import Proto

/// Hand-built messages used by several tests: every package, nested messages,
/// repeated fields, oneofs, enums (known and unknown), bytes with zeros, extremes.
enum Samples {
    static func bytes(_ string: String) -> [UInt8] { Array(string.utf8) }

    static var header: Etcdserverpb.ResponseHeader {
        var header = Etcdserverpb.ResponseHeader()
        header.clusterID = 0xcdef_0123_4567_89ab
        header.memberID = UInt64.max
        header.revision = Int64.max
        header.raftTerm = 42
        return header
    }

    static var keyValue: Mvccpb.KeyValue {
        var kv = Mvccpb.KeyValue()
        kv.key = [0, 1, 0, 0xff, 0]
        kv.createRevision = 1
        kv.modRevision = Int64.min
        kv.version = -1
        kv.value = [UInt8](repeating: 0, count: 300) + [7]
        kv.lease = 0x7fff_ffff_ffff
        return kv
    }

    static var rangeRequest: Etcdserverpb.RangeRequest {
        var request = Etcdserverpb.RangeRequest()
        request.key = bytes("foo")
        request.rangeEnd = [0]
        request.limit = 10
        request.revision = -1
        request.sortOrder = .descend
        request.sortTarget = .UNRECOGNIZED(77)
        request.serializable = true
        request.keysOnly = true
        request.countOnly = true
        request.minModRevision = 1
        request.maxModRevision = 2
        request.minCreateRevision = 3
        request.maxCreateRevision = 4
        return request
    }

    static var rangeResponse: Etcdserverpb.RangeResponse {
        var response = Etcdserverpb.RangeResponse()
        response.header = header
        response.kvs = [keyValue, Mvccpb.KeyValue(), keyValue]
        response.more = true
        response.count = 3
        return response
    }

    static var txnRequest: Etcdserverpb.TxnRequest {
        var compareVersion = Etcdserverpb.Compare()
        compareVersion.key = bytes("a")
        compareVersion.targetUnion = .version(0)
        var compareValue = Etcdserverpb.Compare()
        compareValue.result = .notEqual
        compareValue.target = .value
        compareValue.key = bytes("b")
        compareValue.rangeEnd = bytes("c")
        compareValue.targetUnion = .value([0, 0, 1])
        var put = Etcdserverpb.PutRequest()
        put.key = bytes("k")
        put.value = bytes("v")
        put.lease = 5
        put.prevKv = true
        var delete = Etcdserverpb.DeleteRangeRequest()
        delete.key = bytes("x")
        delete.rangeEnd = bytes("y")
        var inner = Etcdserverpb.TxnRequest()
        inner.success = [op(.requestRange(rangeRequest))]
        var txn = Etcdserverpb.TxnRequest()
        txn.compare = [compareVersion, compareValue]
        txn.success = [op(.requestPut(put)), op(.requestDeleteRange(delete)), op(.requestTxn(inner))]
        txn.failure = [op(.requestRange(Etcdserverpb.RangeRequest())), Etcdserverpb.RequestOp()]
        return txn
    }

    static func op(_ request: Etcdserverpb.RequestOp.OneOf_Request) -> Etcdserverpb.RequestOp {
        var op = Etcdserverpb.RequestOp()
        op.request = request
        return op
    }

    static var txnResponse: Etcdserverpb.TxnResponse {
        var put = Etcdserverpb.PutResponse()
        put.header = header
        put.prevKv = keyValue
        var response = Etcdserverpb.TxnResponse()
        response.header = header
        response.succeeded = true
        var op1 = Etcdserverpb.ResponseOp()
        op1.response = .responsePut(put)
        var op2 = Etcdserverpb.ResponseOp()
        op2.response = .responseRange(rangeResponse)
        response.responses = [op1, op2]
        return response
    }

    static var watchRequest: Etcdserverpb.WatchRequest {
        var create = Etcdserverpb.WatchCreateRequest()
        create.key = bytes("a")
        create.rangeEnd = bytes("b")
        create.startRevision = 9
        create.progressNotify = true
        create.filters = [.noput, .nodelete, .UNRECOGNIZED(5)]
        create.prevKv = true
        create.watchID = 5
        create.fragment = true
        var request = Etcdserverpb.WatchRequest()
        request.requestUnion = .createRequest(create)
        return request
    }

    static var watchResponse: Etcdserverpb.WatchResponse {
        var event = Mvccpb.Event()
        event.type = .delete
        event.kv = keyValue
        event.prevKv = keyValue
        var response = Etcdserverpb.WatchResponse()
        response.header = header
        response.watchID = -3
        response.created = true
        response.canceled = true
        response.compactRevision = 17
        response.cancelReason = "compacted: ünïcødé ✓"
        response.fragment = true
        response.events = [event, Mvccpb.Event()]
        return response
    }

    static var memberListResponse: Etcdserverpb.MemberListResponse {
        var member = Etcdserverpb.Member()
        member.id = 0x8e9e05c52164694d
        member.name = "default"
        member.peerURLs = ["http://127.0.0.1:2380", "http://[::1]:2380"]
        member.clientURLs = ["http://127.0.0.1:2379"]
        member.isLearner = true
        var response = Etcdserverpb.MemberListResponse()
        response.header = header
        response.members = [member, Etcdserverpb.Member()]
        return response
    }

    static var statusResponse: Etcdserverpb.StatusResponse {
        var status = Etcdserverpb.StatusResponse()
        status.header = header
        status.version = "3.5.0"
        status.dbSize = 1 << 40
        status.leader = 1
        status.raftIndex = 2
        status.raftTerm = 3
        status.raftAppliedIndex = 4
        status.errors = ["", "NOSPACE"]
        status.dbSizeInUse = 5
        status.isLearner = true
        return status
    }

    static var leaseTimeToLiveResponse: Etcdserverpb.LeaseTimeToLiveResponse {
        var response = Etcdserverpb.LeaseTimeToLiveResponse()
        response.header = header
        response.id = 1
        response.ttl = -1
        response.grantedTTL = 60
        response.keys = [[], [0], bytes("key")]
        return response
    }

    static var alarmResponse: Etcdserverpb.AlarmResponse {
        var member = Etcdserverpb.AlarmMember()
        member.memberID = 1
        member.alarm = .nospace
        var response = Etcdserverpb.AlarmResponse()
        response.alarms = [member, Etcdserverpb.AlarmMember()]
        return response
    }

    static var role: Authpb.Role {
        var permission = Authpb.Permission()
        permission.permType = .readwrite
        permission.key = bytes("/a")
        permission.rangeEnd = bytes("/b")
        var role = Authpb.Role()
        role.name = bytes("root")
        role.keyPermission = [permission, Authpb.Permission()]
        return role
    }

    static var user: Authpb.User {
        var user = Authpb.User()
        user.name = bytes("alice")
        user.password = [0x24, 0x32, 0x61, 0]
        user.roles = ["root", "reader"]
        var options = Authpb.UserAddOptions()
        options.noPassword = true
        user.options = options
        return user
    }

    static var lockResponse: V3lockpb.LockResponse {
        var response = V3lockpb.LockResponse()
        response.header = header
        response.key = bytes("lock/694d")
        return response
    }

    static var campaignResponse: V3electionpb.CampaignResponse {
        var leader = V3electionpb.LeaderKey()
        leader.name = bytes("e")
        leader.key = bytes("e/1")
        leader.rev = 8
        leader.lease = 9
        var response = V3electionpb.CampaignResponse()
        response.header = header
        response.leader = leader
        return response
    }

    static var healthResponse: GrpcHealthV1.HealthCheckResponse {
        var response = GrpcHealthV1.HealthCheckResponse()
        response.status = .serviceUnknown
        return response
    }

    static var internalRaftRequest: Swiftetcd.InternalRaftRequest {
        var header = Swiftetcd.RequestHeader()
        header.id = 77
        header.username = "root"
        header.authRevision = 3
        var request = Swiftetcd.InternalRaftRequest()
        request.header = header
        request.id = UInt64.max - 1
        request.txn = txnRequest
        var checkpoint = Etcdserverpb.LeaseCheckpoint()
        checkpoint.id = 1
        checkpoint.remainingTTL = 30
        var checkpoints = Etcdserverpb.LeaseCheckpointRequest()
        checkpoints.checkpoints = [checkpoint]
        request.leaseCheckpoint = checkpoints
        var grant = Etcdserverpb.AuthRoleGrantPermissionRequest()
        grant.name = "root"
        grant.perm = role.keyPermission[0]
        request.authRoleGrantPermission = grant
        return request
    }

    static var clusterState: Swiftetcd.ClusterState {
        var member = Swiftetcd.ClusterMember()
        member.id = 1
        member.name = "infra1"
        member.peerURLs = ["http://10.0.0.1:2380"]
        member.clientURLs = ["http://10.0.0.1:2379", "http://127.0.0.1:2379"]
        member.isLearner = false
        var state = Swiftetcd.ClusterState()
        state.clusterID = 0xdeadbeef
        state.members = [member, Swiftetcd.ClusterMember()]
        state.removedMemberIDs = [3, UInt64.max, 0]
        state.clusterVersion = "3.5.0"
        return state
    }

    static var messages: [any ProtoMessage] {
        [
            header, keyValue, rangeRequest, rangeResponse, txnRequest, txnResponse,
            watchRequest, watchResponse, memberListResponse, statusResponse,
            leaseTimeToLiveResponse, alarmResponse, role, user, lockResponse,
            campaignResponse, healthResponse, internalRaftRequest, clusterState,
        ]
    }

    /// Encodings of all samples: the seed corpus for the mutation fuzzer.
    static var corpus: [[UInt8]] { messages.map { $0.serializedBytes() } }
}

/// Hex string of bytes, "0a 03 66" style, for readable expectations.
func hex(_ bytes: [UInt8]) -> String {
    bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }
        .joined(separator: " ")
}

func unhex(_ string: String) -> [UInt8] {
    string.split(separator: " ").map { UInt8($0, radix: 16)! }
}
