import Testing
import MVCC
import Proto
@testable import Auth

private func b(_ s: String) -> [UInt8] { Array(s.utf8) }

/// Who may do what once auth is on (etcd's isOpPermitted, IsAdminPermitted,
/// authApplierV3 and checkTxnAuth).
@Suite struct AuthSnapshotTests {
    /// root (root role), reader (read on prefix "r"), writer (write on [w, x)), plain (no role).
    func enabledState() throws -> AuthState {
        var s = AuthState()
        _ = s.initialize()
        for u in ["root", "reader", "writer", "plain"] { _ = try s.apply(addUser(u), index: 1) }
        _ = try s.apply(.roleAdd(name: "root"), index: 1)
        for (role, p) in [("ro", perm(.read, "r", "s")), ("wo", perm(.write, "w", "x"))] {
            _ = try s.apply(.roleAdd(name: role), index: 1)
            _ = try s.apply(.roleGrantPermission(name: role, perm: p), index: 1)
        }
        _ = try s.apply(.userGrantRole(user: "root", role: "root"), index: 1)
        _ = try s.apply(.userGrantRole(user: "reader", role: "ro"), index: 1)
        _ = try s.apply(.userGrantRole(user: "writer", role: "wo"), index: 1)
        _ = try s.apply(.enable, index: 1)
        return s
    }

    @Test func identityRules() throws {
        let snap = AuthSnapshot(try enabledState())
        let rev = snap.revision
        #expect(snap.check(nil, .read, key: b("r1")) == .userEmpty)
        #expect(snap.check(AuthInfo(username: "reader", revision: 0), .read, key: b("r1")) == .userEmpty)
        #expect(snap.check(AuthInfo(username: "reader", revision: rev - 1), .read, key: b("r1")) == .authOldRevision)
        #expect(snap.check(AuthInfo(username: "reader", revision: rev), .read, key: b("r1")) == nil)
        #expect(snap.check(AuthInfo(username: "reader", revision: rev + 5), .read, key: b("r1")) == nil)
        #expect(snap.check(AuthInfo(username: "ghost", revision: rev), .read, key: b("r1")) == .permissionDenied)
        #expect(snap.check(AuthInfo(username: "root", revision: rev), .write, key: b("anything")) == nil)
        #expect(snap.check(AuthInfo(username: "reader", revision: rev), .write, key: b("r1")) == .permissionDenied)
        #expect(snap.check(AuthInfo(username: "reader", revision: rev), .read, key: b("r"), rangeEnd: b("s")) == nil)
        #expect(snap.check(AuthInfo(username: "reader", revision: rev), .read, key: b("r"), rangeEnd: [0]) == .permissionDenied)
        #expect(snap.checkAdmin(nil) == .userEmpty)
        #expect(snap.checkAdmin(AuthInfo(username: "ghost", revision: rev)) == .userNotFound)
        #expect(snap.checkAdmin(AuthInfo(username: "reader", revision: rev)) == .permissionDenied)
        #expect(snap.checkAdmin(AuthInfo(username: "root", revision: 1)) == nil, "admin checks ignore the revision")
        #expect(AuthSnapshot(AuthState()).check(nil, .write, key: b("x")) == nil, "disabled: anyone may")
    }

    @Test func managementAndSelfService() throws {
        let snap = AuthSnapshot(try enabledState())
        let reader = AuthInfo(username: "reader", revision: snap.revision)
        #expect(snap.authorize(.userList, reader) == .permissionDenied)
        #expect(snap.authorize(.userGet(name: "reader"), reader) == nil)
        #expect(snap.authorize(.userGet(name: "root"), reader) == .permissionDenied)
        #expect(snap.authorize(.roleGet(role: "ro"), reader) == nil)
        #expect(snap.authorize(.roleGet(role: "wo"), reader) == .permissionDenied)
        #expect(snap.authorize(.roleAdd(name: "x"), nil) == .userEmpty)
        #expect(snap.authorize(.authenticate(name: "reader", simpleToken: ""), nil) == nil)
        #expect(snap.authorize(.disable, AuthInfo(username: "root", revision: 1)) == nil)
    }

    @Test func writesTxnsAndLeases() throws {
        let snap = AuthSnapshot(try enabledState())
        let writer = AuthInfo(username: "writer", revision: snap.revision)
        let none: AuthSnapshot.LeaseKeys = { _ in [] }
        #expect(snap.check(writer, write: .put(PutRequest(key: b("w1"))), leaseKeys: none) == nil)
        #expect(snap.check(writer, write: .put(PutRequest(key: b("w1"), prevKV: true)), leaseKeys: none) == .permissionDenied)
        #expect(snap.check(writer, write: .put(PutRequest(key: b("w1"), lease: 7)), leaseKeys: { _ in [b("w2")] }) == nil)
        #expect(snap.check(writer, write: .put(PutRequest(key: b("w1"), lease: 7)), leaseKeys: { _ in [b("r1")] }) == .permissionDenied)
        #expect(snap.check(writer, write: .deleteRange(DeleteRangeRequest(key: b("w"), rangeEnd: b("x"))), leaseKeys: none) == nil)
        #expect(snap.check(writer, write: .deleteRange(DeleteRangeRequest(key: b("w"), rangeEnd: b("y"))), leaseKeys: none) == .permissionDenied)
        let inner = TxnRequest(success: [.range(RangeRequest(key: b("w1")))])
        let txn = TxnRequest(success: [.put(PutRequest(key: b("w1")))], failure: [.txn(inner)])
        #expect(snap.check(writer, write: .txn(txn), leaseKeys: none) == .permissionDenied, "nested txns are checked")
        let compare = TxnRequest(compare: [Compare(key: b("w1"), target: .version, result: .equal, .version(0))])
        #expect(snap.check(writer, txn: compare) == .permissionDenied, "compares need read")
        #expect(snap.checkLeaseKeys(writer, 7, { _ in [b("w1"), b("zz")] }) == .permissionDenied)
        #expect(snap.check(writer, write: .compact(CompactionRequest(revision: 1)), leaseKeys: none) == nil)
    }
}
