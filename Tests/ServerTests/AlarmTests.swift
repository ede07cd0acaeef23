import Foundation
import Proto
import Testing
@testable import Server

@Suite struct AlarmTests {
    @Test func alarmStorePersistsAndReportsChanges() throws {
        let path = NSTemporaryDirectory() + "alarms-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = AlarmStore(path: path)
        #expect(!store.hasNoSpace)
        #expect(store.activate(memberID: 7, type: .nospace)?.memberID == 7)
        #expect(store.activate(memberID: 7, type: .nospace) == nil)  // already active
        #expect(store.activate(memberID: 9, type: .corrupt) != nil)
        #expect(store.hasNoSpace)
        #expect(store.get(.none).count == 2)
        #expect(store.get(.nospace).map(\.memberID) == [7])

        let reopened = AlarmStore(path: path)
        #expect(reopened.hasNoSpace)
        #expect(reopened.get(.none).count == 2)
        #expect(reopened.deactivate(memberID: 7, type: .nospace) != nil)
        #expect(reopened.deactivate(memberID: 7, type: .nospace) == nil)
        #expect(!AlarmStore(path: path).hasNoSpace)
    }

    @Test func statusErrorTextMatchesEtcd() {
        var m = Etcdserverpb.AlarmMember()
        m.memberID = 10_276_657_743_932_975_437
        m.alarm = .nospace
        #expect(AlarmStore.describe(m) == "memberID:10276657743932975437 alarm:NOSPACE ")
    }

    @Test func quotaCostsAsEtcd() {
        var p = Etcdserverpb.PutRequest()
        p.key = Array("key".utf8)
        p.value = Array("value".utf8)
        #expect(BackendQuota.cost(p) == 256 + 8)
        var txn = Etcdserverpb.TxnRequest()
        var op = Etcdserverpb.RequestOp()
        op.request = .requestPut(p)
        var get = Etcdserverpb.RequestOp()
        get.request = .requestRange(Etcdserverpb.RangeRequest())
        txn.success = [op, op]
        txn.failure = [get]
        #expect(BackendQuota.cost(txn) == 2 * 264)
        txn.success = [get]
        #expect(BackendQuota.cost(txn) == 0)
        let state = BackendQuota(bytes: 1000)
        // etcd 3.5.1: a Txn that writes nothing is refused too once the file is at the quota.
        #expect(!state.available(costBytes: 0, dbSizeBytes: 5000))
        #expect(!state.available(costBytes: 0, dbSizeBytes: 1000))
        #expect(state.available(costBytes: 0, dbSizeBytes: 999))
        #expect(state.available(costBytes: 100, dbSizeBytes: 800))
        #expect(!state.available(costBytes: 200, dbSizeBytes: 800))
        let off = BackendQuota(bytes: -1)
        #expect(off.isDisabled && !state.isDisabled)
        #expect(off.available(costBytes: 1 << 30, dbSizeBytes: 1 << 40))
    }
}
