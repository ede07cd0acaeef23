import Foundation
import Testing

/// Auth is not built yet: etcdctl sees etcd's answers for a store with auth
/// disabled and no users, and a clear refusal when it tries to add one.
@Suite(.serialized) struct AuthTests {
    @Test func etcdctlSeesAuthDisabledAndUserCreationRefused() throws {
        let server = try ServerProcess()
        defer { server.stop(); server.removeData() }
        try server.start()
        let ep = server.endpoint
        for list in [["user", "list"], ["role", "list"]] {
            let r = try etcdctl(ep, list)
            #expect(r.exitCode == 0 && r.stdout.isEmpty, "\(list): \(r.stderr)")
        }
        #expect(try etcdctl(ep, ["user", "get", "bob"]).stderr.contains("etcdserver: user name not found"))
        #expect(try etcdctl(ep, ["role", "get", "r"]).stderr.contains("etcdserver: role name not found"))
        #expect(try etcdctl(ep, ["auth", "enable"]).stderr.contains("etcdserver: root user does not exist"))
        let add = try etcdctl(ep, ["user", "add", "root", "--new-user-password", "pw"])
        #expect(add.exitCode != 0 && add.stderr.contains("not supported by swift-etcd"), "\(add.stderr)")
        let disable = try etcdctl(ep, ["auth", "disable"])
        #expect(disable.exitCode == 0 && disable.stdout.contains("Authentication Disabled"))
    }
}
