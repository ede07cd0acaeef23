import Auth
import Foundation
import Proto
import Testing
@testable import Server

/// `migrate` finds etcd auth requests among the WAL's committed entries by
/// their InternalRaftRequest field number, whatever comes before them,
/// and never reads past the bytes it was given; it replays them, leaving
/// out authenticate and hashing passwords etcd 3.4 logged in clear.
@Suite struct EtcdAuthRequestsTests {
    /// A protobuf tag (field number, wire type) as a varint.
    static func tag(_ field: UInt64, _ wire: UInt64) -> [UInt8] {
        var v = field << 3 | wire
        var out: [UInt8] = []
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        return out + [UInt8(v)]
    }

    @Test func findsAuthFieldsAfterOtherFields() {
        // header (100, bytes), ID (1, varint), then put (4, bytes): no auth.
        let put = Self.tag(100, 2) + [2, 8, 7] + Self.tag(1, 0) + [0x96, 0x01] + Self.tag(4, 2) + [3, 10, 1, 0x6B]
        #expect(EtcdAuthRequests.authField(in: put) == nil)
        // auth_enable (1000) with an empty message; auth_user_add (1100) after the ID.
        #expect(EtcdAuthRequests.authField(in: Self.tag(1000, 2) + [0]) == 1000)
        #expect(EtcdAuthRequests.authField(in: Self.tag(1, 0) + [5] + Self.tag(1100, 2) + [2, 10, 0]) == 1100)
        #expect(EtcdAuthRequests.authField(in: Self.tag(1, 1) + [UInt8](repeating: 9, count: 8) + Self.tag(1204, 2) + [0]) == 1204)
        // Just outside the range.
        #expect(EtcdAuthRequests.authField(in: Self.tag(999, 2) + [0] + Self.tag(1300, 2) + [0]) == nil)
    }

    @Test func malformedBytesEndTheScan() {
        // A length past the end, a truncated varint, an unknown wire type: no answer, no trap.
        #expect(EtcdAuthRequests.authField(in: Self.tag(4, 2) + [200, 1] + Self.tag(1000, 2) + [0]) == nil)
        #expect(EtcdAuthRequests.authField(in: [0xFF, 0xFF]) == nil)
        #expect(EtcdAuthRequests.authField(in: Self.tag(3, 7) + Self.tag(1000, 2) + [0]) == nil)
        #expect(EtcdAuthRequests.authField(in: [UInt8](repeating: 0xFF, count: 11)) == nil)
        #expect(EtcdAuthRequests.authField(in: []) == nil)
    }

    static func request(_ fill: (inout Swiftetcd.InternalRaftRequest) -> Void) -> [UInt8] {
        var m = Swiftetcd.InternalRaftRequest()
        m.id = 7
        fill(&m)
        return m.serializedBytes(headroom: 0)
    }

    static func decode(_ bytes: [UInt8]?) throws -> Swiftetcd.InternalRaftRequest {
        try #require(bytes).withUnsafeBytes { try Swiftetcd.InternalRaftRequest(serializedBytes: $0) }
    }

    @Test func replayKeepsMostRequestsAsTheyAre() throws {
        let put = Self.tag(4, 2) + [3, 10, 1, 0x6B]
        #expect(EtcdAuthRequests.forReplay(put) == put)
        let enable = Self.request { $0.authEnable = Etcdserverpb.AuthEnableRequest() }
        #expect(EtcdAuthRequests.forReplay(enable) == enable)
        // etcd 3.5 logs the bcrypt hash: the entry replays unchanged.
        let hashed = Self.request { var r = Etcdserverpb.AuthUserAddRequest(); r.name = "u"; r.hashedPassword = "aGFzaA=="; $0.authUserAdd = r }
        #expect(EtcdAuthRequests.forReplay(hashed) == hashed)
        let noPassword = Self.request {
            var r = Etcdserverpb.AuthUserAddRequest(); r.name = "n"; var o = Authpb.UserAddOptions(); o.noPassword = true; r.options = o
            $0.authUserAdd = r
        }
        #expect(EtcdAuthRequests.forReplay(noPassword) == noPassword)
        let authenticate = Self.request { var a = Swiftetcd.InternalAuthenticateRequest(); a.name = "u"; a.password = "pw"; $0.authenticate = a }
        #expect(EtcdAuthRequests.forReplay(authenticate) == nil)
    }

    /// etcd 3.4 logs the password itself and hashes at apply time; the
    /// replayed entry carries the hash instead, never the password.
    @Test func clearPasswordsOfEtcd34AreHashed() throws {
        let add = Self.request { var r = Etcdserverpb.AuthUserAddRequest(); r.name = "u"; r.password = "secret"; $0.authUserAdd = r }
        let replayedAdd = try Self.decode(EtcdAuthRequests.forReplay(add, bcryptCost: 4))
        #expect(replayedAdd.id == 7 && replayedAdd.authUserAdd?.name == "u" && replayedAdd.authUserAdd?.password == "")
        let hash = try #require(Data(base64Encoded: replayedAdd.authUserAdd?.hashedPassword ?? ""))
        #expect(PasswordHasher.verify("secret", hash: [UInt8](hash)))

        let change = Self.request { var r = Etcdserverpb.AuthUserChangePasswordRequest(); r.name = "u"; r.password = "new"; $0.authUserChangePassword = r }
        let replayedChange = try Self.decode(EtcdAuthRequests.forReplay(change, bcryptCost: 4))
        #expect(replayedChange.authUserChangePassword?.password == "")
        let newHash = try #require(Data(base64Encoded: replayedChange.authUserChangePassword?.hashedPassword ?? ""))
        #expect(PasswordHasher.verify("new", hash: [UInt8](newHash)))
        #expect(!PasswordHasher.verify("secret", hash: [UInt8](newHash)))
    }
}
