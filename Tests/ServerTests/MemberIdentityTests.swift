import Testing
@testable import Server

@Suite struct MemberIdentityTests {
    @Test func defaultMemberMatchesEtcd() {
        // etcd 3.5.1 started with all defaults reports these IDs.
        let member = MemberIdentity.memberID(peerURLs: ["http://localhost:2380"], clusterToken: "etcd-cluster")
        #expect(member == 0x8e9e_05c5_2164_694d)
        #expect(MemberIdentity.clusterID(memberIDs: [member]) == 0xcdf8_1819_4e3a_8c32)
    }

    /// Values from etcd 3.4's `membership.NewMember("", urls, "", &now)`, as
    /// `member add` calls it (checked with a Go program against the sources).
    @Test func addedMemberIDMatchesEtcdMemberAdd() {
        #expect(MemberIdentity.addedMemberID(peerURLs: ["http://127.0.0.1:2380"], unixSeconds: 1_700_000_000) == 0x71b3_e183_c260_adbe)
        #expect(MemberIdentity.addedMemberID(peerURLs: ["http://b:2380", "http://a:2380"], unixSeconds: 1_800_000_000)
                == 0xc83d_78db_ff08_a18b)
        // Re-added a second later with the same URLs: another ID.
        #expect(MemberIdentity.addedMemberID(peerURLs: ["http://127.0.0.1:2380"], unixSeconds: 1_700_000_001) != 0x71b3_e183_c260_adbe)
    }
}
