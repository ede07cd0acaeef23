import Foundation
import Logging
import MVCC
import Proto
import Raft
import Testing
@testable import Server

/// The apply chain (corruption → capped → auth → backend) on real entries:
/// what each guard refuses, that refused entries still count as applied,
/// that an alarm changes the guards for the entries after it in the same
/// batch, and that a guard in the auth slot sees every entry after the
/// alarm guards.
@Suite struct ApplyPipelineTests {
    /// Refuses every entry whose put key starts with "secret" (a stand-in for
    /// the auth stage); records what it saw.
    final class DenySecrets: ApplyGuard {
        var seen: [UInt64] = []
        static let denied = ServerError(code: .invalidArgument, message: "etcdserver: permission denied")
        func refusal(for entry: ApplyEntry) -> ServerError? {
            seen.append(entry.index)
            if case .write(.put(let p)) = entry.request, p.key.starts(with: Array("secret".utf8)) { return Self.denied }
            return nil
        }
    }

    final class Member {
        let f: WatchFixture
        let alarms: AlarmStore
        let auth = DenySecrets()
        var pipeline: ApplyPipeline!
        var answers: [UInt64: Result<WriteResponse, ServerError>] = [:]
        var index: UInt64 = 0

        init() throws {
            f = try WatchFixture()
            alarms = AlarmStore(path: f.dir + "/alarms")
            let chain = ApplyChain(corruption: CorruptionGuard(alarms: alarms), capped: CappedGuard(alarms: alarms),
                                   auth: auth)
            let backend = ApplyBackend(store: f.store, lessor: Lessor(minTTLSeconds: 2, clock: ManualClock()), hub: f.hub,
                                       alarms: alarms, logger: Logger(label: "test"))
            pipeline = ApplyPipeline(chain: chain, backend: backend, logger: Logger(label: "test")) { [unowned self] id, r in
                answers[id] = r.response
            }
        }

        func entry(_ build: (inout Swiftetcd.InternalRaftRequest) -> Void) -> Entry {
            var r = Swiftetcd.InternalRaftRequest()
            build(&r)
            index += 1
            r.id = 100 + index
            return Entry(term: 1, index: index, data: r.serializedBytes())
        }

        func put(_ key: String) -> Entry {
            entry { var p = Etcdserverpb.PutRequest(); p.key = Array(key.utf8); p.value = [1]; $0.put = p }
        }

        func delete(_ key: String) -> Entry {
            entry { var d = Etcdserverpb.DeleteRangeRequest(); d.key = Array(key.utf8); $0.deleteRange = d }
        }

        func alarm(_ action: Etcdserverpb.AlarmRequest.AlarmAction, _ type: Etcdserverpb.AlarmType) -> Entry {
            entry { var a = Etcdserverpb.AlarmRequest(); a.action = action; a.memberID = 1; a.alarm = type; $0.alarm = a }
        }

        func has(_ key: String) throws -> Bool { try f.store.get(Array(key.utf8)) != nil }
    }

    @Test func noSpaceRefusesPutsFromTheNextEntryOnButNotDeletes() throws {
        let m = try Member()
        m.pipeline.apply([m.put("a"), m.alarm(.activate, .nospace), m.put("b"), m.delete("a")], term: 3)
        #expect(try m.has("a") == false)  // put, then deleted after the alarm
        #expect(try m.has("b") == false)  // refused
        #expect(m.answers[103] == .failure(ServerError.noSpace))
        if case .success(.deleteRange(let d)) = m.answers[104] { #expect(d.deleted == 1) } else { Issue.record("delete not applied") }
        #expect(m.alarms.hasNoSpace)
        // Every entry, refused ones included, is recorded as applied.
        #expect(m.f.store.consistentIndex == 4)
        // The alarm's proposer hears the revision at its place in the log
        // (after put a, before the delete).
        #expect(m.answers[102] == .success(.noop(revision: 2)))
        #expect(m.f.store.currentRevision == 3)

        m.pipeline.apply([m.alarm(.deactivate, .nospace), m.put("c")], term: 3)
        #expect(try m.has("c"))
    }

    @Test func corruptRefusesEveryKVAndLeaseRequest() throws {
        let m = try Member()
        m.pipeline.apply([m.alarm(.activate, .corrupt), m.put("a"), m.delete("a"),
                          m.entry { var g = Etcdserverpb.LeaseGrantRequest(); g.id = 7; g.ttl = 10; $0.leaseGrant = g }],
                         term: 1)
        #expect(m.answers[102] == .failure(CorruptionGuard.corruptCluster))
        #expect(m.answers[103] == .failure(CorruptionGuard.corruptCluster))
        #expect(m.answers[104] == .failure(CorruptionGuard.corruptCluster))
        #expect(try m.f.store.leases().isEmpty)
        #expect(m.f.store.consistentIndex == 4)
    }

    @Test func authSlotRunsAfterTheAlarmGuards() throws {
        let m = try Member()
        m.pipeline.apply([m.put("secret/x"), m.put("public")], term: 1)
        #expect(m.answers[101] == .failure(DenySecrets.denied))
        #expect(try m.has("secret/x") == false)
        #expect(try m.has("public"))
        #expect(m.auth.seen == [1, 2])
        // While corrupt, the corruption guard answers first: auth is not asked.
        m.pipeline.apply([m.alarm(.activate, .corrupt), m.put("secret/y")], term: 1)
        #expect(m.answers[104] == .failure(CorruptionGuard.corruptCluster))
        #expect(m.auth.seen == [1, 2, 3])
    }

    @Test func undecodableAndEmptyEntriesAreNoOps() throws {
        let m = try Member()
        m.index = 2
        m.pipeline.apply([Entry(term: 1, index: 1, data: []), Entry(term: 1, index: 2, data: [0xFF, 0xFF, 0xFF]), m.put("k")],
                         term: 1)
        #expect(try m.has("k"))
        #expect(m.f.store.consistentIndex == 3)
    }
}
