import Foundation
import Testing
@testable import Server

/// A store and a Raft log that do not belong together stop start-up, naming
/// the file (found by the corrupt-data-dir fuzzer: a deleted data.mdb served
/// a state with holes, a deleted or cut WAL left writes unanswered).
@Suite struct StoreLogCheckTests {
    let layout = DataDirLayout(dataDir: "/d")

    func refusal(_ found: StoreLogCheck.Found) -> DataFileError? {
        do {
            try StoreLogCheck.verify(found, layout: layout, lastSegment: "/d/member/wal/1.wal")
            return nil
        } catch {
            return error as? DataFileError
        }
    }

    @Test func matchingStoreAndLogStart() {
        // New member on an empty store; a store between the snapshot and the log's end; a
        // follower whose store is ahead of its log at exactly the received snapshot a crash
        // interrupted before its marker (`StoreInstallMarker`).
        #expect(refusal(.init(storeIndex: 0, walExisted: false, snapshotIndex: 0, lastLogIndex: 0)) == nil)
        #expect(refusal(.init(storeIndex: 120, walExisted: true, snapshotIndex: 100, lastLogIndex: 150)) == nil)
        #expect(refusal(.init(storeIndex: 150, walExisted: true, snapshotIndex: 100, lastLogIndex: 150)) == nil)
        #expect(refusal(.init(storeIndex: 200, walExisted: true, snapshotIndex: 100, lastLogIndex: 150,
                              pendingInstallIndex: 200)) == nil)
    }

    @Test func storeWithoutWALNamesTheWALDir() {
        let e = refusal(.init(storeIndex: 7, walExisted: false, snapshotIndex: 0, lastLogIndex: 0))
        #expect(e?.file == "/d/member/wal")
        #expect(e?.description.contains("/d/member/snap/db/data.mdb") == true)
    }

    @Test func storeOlderThanTheSnapshotNamesDataMDB() {
        let e = refusal(.init(storeIndex: 0, walExisted: true, snapshotIndex: 287, lastLogIndex: 300))
        #expect(e?.file == "/d/member/snap/db/data.mdb")
        #expect(e?.description.contains("287") == true)
    }

    @Test func storeAheadOfItsLogNamesTheLastSegment() {
        let e = refusal(.init(storeIndex: 300, walExisted: true, snapshotIndex: 0, lastLogIndex: 120))
        #expect(e?.file == "/d/member/wal/1.wal")
        #expect(e?.description.contains("ends at index 120") == true)
    }

    /// A follower's WAL that lost its tail behind the store (found by the peer
    /// fuzzer: a torn tail repaired at index 1953 under a store at 3246 left the
    /// member never ready, yet voting). Only an interrupted install of exactly
    /// the store's index excuses a store ahead of the log.
    @Test func storeAheadOfItsLogWithoutAnInstallOfThatIndexIsRefused() {
        for pending: UInt64? in [nil, 3000, 3300] {
            let e = refusal(.init(storeIndex: 3246, walExisted: true, snapshotIndex: 0, lastLogIndex: 1953,
                                  pendingInstallIndex: pending))
            #expect(e?.description.contains("ends at index 1953") == true, "\(String(describing: pending))")
            #expect(e?.description.contains("up to index 3246") == true)
            #expect(e?.description.contains("lost entries this member had applied (data dir /d)") == true)
            #expect(e?.description.contains("etcdctl member remove") == true)
        }
    }

    /// The install note lives from before the store is replaced until the
    /// snapshot's WAL marker is written; start-up reads its index.
    @Test func installNoteRoundTrips() throws {
        let dir = NSTemporaryDirectory() + "store-install-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(StoreInstallMarker.pending(snapDir: dir) == nil)
        try StoreInstallMarker.begin(index: 0x1_2345, snapDir: dir)
        #expect(StoreInstallMarker.pending(snapDir: dir) == 0x1_2345)
        try StoreInstallMarker.end(snapDir: dir)
        #expect(StoreInstallMarker.pending(snapDir: dir) == nil)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }
}
