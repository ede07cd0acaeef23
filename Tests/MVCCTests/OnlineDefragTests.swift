import Foundation
import Support
import Testing
import TestSupport
@testable import MVCC

/// Online defrag: writes applied while the copy is taken and caught up must
/// all be in the swapped-in store. Checked against a twin store that gets
/// the same batches and is never defragmented.
@Suite struct OnlineDefragTests {
    @Test func writesDuringTheCopyAreCaughtUp() throws {
        let twin = try Twin(seed: 1)
        try twin.fill(keys: 1500)
        // Runs inside defragment after the copy: the apply loop must not be
        // blocked there (a blocked writer would deadlock this test).
        var applied = 0
        twin.live.store.afterDefragCopy = {
            for _ in 0..<30 { try! twin.step(); applied += 1 }
        }
        let (before, after) = try twin.live.store.defragment()
        #expect(applied == 30)
        #expect(after < before, "before \(before) after \(after)")
        try twin.expectEqual()
        // The swapped-in store keeps working and survives a reopen.
        for _ in 0..<10 { try twin.step() }
        try twin.live.reopen()
        try twin.expectEqual()
    }

    /// A view (a snapshot stream) opened while a defrag runs waits for the
    /// defrag, then reads: as etcd's snapshot waits for its defrag. It used
    /// to open at once and be ended by the swap ("snapshot view ended: the
    /// store was defragmented"), so `etcdctl snapshot save` beside `etcdctl
    /// defrag` failed, where etcd 3.5.1 saves and defragments both.
    @Test func aViewOpenedDuringADefragWaitsForItAndReads() throws {
        let twin = try Twin(seed: 3)
        try twin.fill(keys: 500)
        let store = twin.live.store
        let opened = ThreadFlag(), defragged = ThreadFlag(), readFailed = ThreadFlag()
        let reader = Thread {
            guard let view = try? store.openReadView() else {
                readFailed.fail()
                return readFailed.done()
            }
            opened.set()
            defragged.waitDone()
            if (try? view.read { _ in }) == nil { readFailed.fail() }
            view.close()
            readFailed.done()
        }
        var openedDuringDefrag = false
        store.afterDefragCopy = {
            reader.start()
            Thread.sleep(forTimeInterval: 0.3)  // time to open a view, were it let
            openedDuringDefrag = opened.isSet
        }
        _ = try store.defragment()
        #expect(store.isDefragmenting == false)
        defragged.done()
        readFailed.waitDone()
        #expect(!openedDuringDefrag, "a view opened while the defrag ran")
        #expect(!readFailed.failed, "the view ended")
    }

    @Test func concurrentWritesDuringRepeatedDefrags() async throws {
        let twin = try Twin(seed: 7)
        try twin.fill(keys: 3000)
        let store = twin.live.store
        let done = ThreadFlag()
        let defragger = Thread {
            for _ in 0..<3 where (try? store.defragment()) == nil { done.fail() }
            done.set()
        }
        defragger.start()
        var steps = 0
        while !done.isSet || steps < 20 {
            try twin.step()
            steps += 1
        }
        #expect(!done.failed, "a defrag failed")
        try twin.expectEqual()
    }

    @Test func aCopyLeftByAKilledDefragIsRemovedOnOpen() throws {
        let t = try TempStore()
        try t.put("k", "v")
        let copy = t.dir + "/data.mdb.defrag"
        _ = FileManager.default.createFile(atPath: copy, contents: Data(repeating: 7, count: 8192))
        _ = FileManager.default.createFile(atPath: copy + "-lock", contents: Data(repeating: 7, count: 100))
        try t.reopen()
        #expect(!FileManager.default.fileExists(atPath: copy))
        #expect(!FileManager.default.fileExists(atPath: copy + "-lock"))
        #expect(try t.get("k").kvs.first?.value == b("v"))
        try t.store.defragment()
        #expect(try t.get("k").kvs.first?.value == b("v"))
    }
}

/// Two stores fed the same seeded stream of batches: puts (some leased),
/// deletes, txns, lease grants/checkpoints/revokes and compactions.
final class Twin: @unchecked Sendable {
    let live: TempStore
    let reference: TempStore
    private var rng: UInt64
    private var leaseKeys: [Int64: [[UInt8]]] = [:]
    private var nextLease: Int64 = 1
    private var lastCompact: Int64 = 0

    init(seed: UInt64) throws {
        live = try TempStore()
        reference = try TempStore()
        rng = seed
    }

    private func random(_ n: Int) -> Int {
        // SplitMix64
        rng &+= 0x9E37_79B9_7F4A_7C15
        var z = rng
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int((z ^ (z >> 31)) % UInt64(n))
    }

    private func apply(_ requests: [WriteRequest]) throws {
        let leases = Set(leaseKeys.keys)
        live.leases = leases
        reference.leases = leases
        let a = live.apply(requests), r = reference.apply(requests)
        #expect(a.results.map { try? $0.get() } == r.results.map { try? $0.get() })
        for result in a.results { if case .failure(let e) = result, e.isStoreFailure { throw e } }
    }

    /// `keys` keys of ~1 KiB, then most of them deleted, so there is
    /// free space to reclaim.
    func fill(keys: Int) throws {
        let value = [UInt8](repeating: 0x61, count: 1000)
        for start in stride(from: 0, to: keys, by: 500) {
            try apply((start..<min(start + 500, keys)).map { .put(PutRequest(key: b("fill/\($0)"), value: value)) })
        }
        try apply([.deleteRange(DeleteRangeRequest(key: b("fill/"), rangeEnd: b("fill/5")))])
    }

    /// One batch of a few random requests.
    func step() throws {
        var batch: [WriteRequest] = []
        for _ in 0..<(1 + random(8)) {
            // Some keys are past LMDB's key limit (hashed index keys).
            let key = random(10) == 0 ? b(String(repeating: "L", count: 600) + "\(random(20))") : b("k/\(random(200))")
            switch random(20) {
            case 0..<9:
                batch.append(.put(PutRequest(key: key, value: [UInt8](repeating: UInt8(random(256)), count: random(300)))))
            case 9..<11:
                batch.append(.deleteRange(DeleteRangeRequest(key: b("k/\(random(200))"), rangeEnd: b("k/\(random(200))"))))
            case 11:
                batch.append(.txn(TxnRequest(success: [.put(PutRequest(key: key, value: b("t"))),
                                                       .deleteRange(DeleteRangeRequest(key: b("k/\(random(200))")))])))
            case 12..<14:
                let id = nextLease
                nextLease += 1
                leaseKeys[id] = []
                batch.append(.leaseGrant(StoredLease(id: id, ttlSeconds: Int64(10 + random(100)))))
            case 14..<16:
                guard let id = leaseKeys.keys.min() else { continue }
                leaseKeys[id, default: []].append(key)
                // Granted in an earlier batch (leaseExists is per batch).
                batch.append(.put(PutRequest(key: key, value: b("leased"), lease: id)))
            case 16:
                guard let id = leaseKeys.keys.max() else { continue }
                batch.append(.leaseCheckpoint([StoredLease(id: id, ttlSeconds: 0, remainingTTLSeconds: Int64(random(10)))]))
            case 17:
                guard let id = leaseKeys.keys.min() else { continue }
                batch.append(.leaseRevoke(id: id, keys: leaseKeys[id] ?? []))
                leaseKeys[id] = nil
            default:
                let rev = reference.store.currentRevision - 20
                if rev > lastCompact {
                    lastCompact = rev
                    batch.append(.compact(CompactionRequest(revision: rev)))
                }
            }
        }
        try apply(batch)
    }

    /// Everything a member exposes is equal: content hash (every db but the
    /// consistent index), HashKV, the full range, leases, revisions, index.
    func expectEqual() throws {
        for t in [live, reference] { t.store.waitForCompaction(t.store.compactRevision) }
        let a = live.store, r = reference.store
        #expect(try a.hashAll().hash == r.hashAll().hash)
        #expect(try a.hashKV(revision: 0) == r.hashKV(revision: 0))
        let all = RangeRequest(key: [0], rangeEnd: [0])
        #expect(try a.range(all) == r.range(all))
        #expect(try a.leases() == r.leases())
        #expect(a.currentRevision == r.currentRevision)
        #expect(a.compactRevision == r.compactRevision)
        #expect(a.consistentIndex == r.consistentIndex)
    }
}
