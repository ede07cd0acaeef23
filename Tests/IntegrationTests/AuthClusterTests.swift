import Foundation
import Testing

/// Auth across a 3-member cluster: a simple token issued by one member is
/// valid on the others (etcd assigns it through Raft), a role change made
/// through one member applies on all, users and roles survive a restart
/// (tokens do not, as in etcd) and a snapshot restored into a new cluster.
@Suite(.serialized) struct AuthClusterTests {
    @Test func tokensRolesRestartAndRestore() throws {
        let cluster = try ClusterTests.Cluster()
        defer { cluster.stop() }
        try cluster.start()
        _ = try cluster.waitForLeader(among: cluster.members)
        let (m1, m2, m3) = (cluster.members[0], cluster.members[1], cluster.members[2])
        try AuthClientTests.createAppUser(m1.endpoint)

        // Authenticate on m1, use the token on m2 and m3.
        let token = try Gateway.authenticate(m1.endpoint, "app", "apppw")
        let put = try Gateway.post(m2.endpoint, "/v3/kv/put", #"{"key":"YXBwL2s=","value":"dg=="}"#, token: token)
        #expect(put.contains("\"revision\""), "m2: \(put)")
        let get = try Gateway.post(m3.endpoint, "/v3/kv/range", #"{"key":"YXBwL2s="}"#, token: token)
        #expect(get.contains(#""value":"dg==""#), "m3: \(get)")

        // A revocation through m2 applies on every member.
        let revoke = try etcdctl(m2.endpoint, ["role", "revoke-permission", "app", "app/", "--prefix", "--user=root:rootpw"])
        #expect(revoke.exitCode == 0, "\(revoke.stderr)")
        for m in cluster.members {
            let denied = try Gateway.post(m.endpoint, "/v3/kv/range", #"{"key":"YXBwL2s="}"#, token: token)
            #expect(denied.contains("permission denied"), "\(m.name): \(denied)")
        }
        let grant = try etcdctl(m3.endpoint, ["role", "grant-permission", "app", "readwrite", "app/", "--prefix", "--user=root:rootpw"])
        #expect(grant.exitCode == 0, "\(grant.stderr)")

        // clientv3 over all three endpoints with one login.
        let go = try ProcessRunner.run(try GoPrograms.binary("authclient"),
                                       ["-setup=false", "-endpoints", cluster.endpoints], timeoutSeconds: 120)
        #expect(go.exitCode == 0 && go.stdout.contains("authclient ok"), "\(go.stderr)")

        // A backup taken as root, restored into a new single-member cluster.
        let file = m1.dataDir + ".auth-snapshot.db"
        defer { try? FileManager.default.removeItem(atPath: file) }
        let save = try etcdctl(m1.endpoint, ["snapshot", "save", file, "--user=root:rootpw"])
        #expect(save.exitCode == 0, "\(save.stderr)")
        let denied = try etcdctl(m1.endpoint, ["snapshot", "save", file + ".x", "--user=app:apppw"])
        #expect(denied.exitCode != 0 && denied.stderr.contains("auth: permission denied"), "\(denied.stderr)")

        // Restart every member: users and roles stay, tokens do not.
        for m in cluster.members { m.stop(signal: SIGTERM) }
        for m in cluster.members { try m.start() }
        _ = try cluster.waitForLeader(among: cluster.members)
        for m in cluster.members {
            let users = try etcdctl(m.endpoint, ["user", "list", "--user=root:rootpw"])
            #expect(users.stdout == "app\nroot\n", "\(m.name): \(users.stdout)\(users.stderr)")
            let stale = try Gateway.post(m.endpoint, "/v3/kv/range", #"{"key":"YXBwL2s="}"#, token: token)
            #expect(stale.contains("invalid auth token"), "\(m.name): \(stale)")
        }

        let restored = try ServerProcess(name: "restored")
        defer { restored.stop(); restored.removeData() }
        let peer = "http://127.0.0.1:\(restored.peerPort)"
        let restore = try ProcessRunner.run(try PackagePaths.serverBinary, [
            "snapshot", "restore", file, "--data-dir", restored.dataDir, "--name", "restored",
            "--initial-cluster", "restored=\(peer)", "--initial-advertise-peer-urls", peer,
            "--initial-cluster-token", "restored-token"], timeoutSeconds: 60)
        #expect(restore.exitCode == 0, "\(restore.stderr)")
        try restored.start()
        let anonymous = try etcdctl(restored.endpoint, ["get", "app/k"])
        #expect(anonymous.stderr.contains("user name is empty"), "auth is still enabled: \(anonymous.stdout)\(anonymous.stderr)")
        let role = try etcdctl(restored.endpoint, ["role", "get", "app", "--user=root:rootpw"])
        #expect(role.stdout.contains("[app/, app0) (prefix app/)"), "\(role.stdout)\(role.stderr)")
        let read = try etcdctl(restored.endpoint, ["get", "app/k", "--print-value-only", "--user=app:apppw"])
        #expect(read.stdout == "v\n", "\(read.stdout)\(read.stderr)")
    }
}
