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
        // follower whose store is ahead of its log (a received snapshot before its marker).
        #expect(refusal(.init(storeIndex: 0, walExisted: false, snapshotIndex: 0, lastLogIndex: 0, onlyVoter: false)) == nil)
        #expect(refusal(.init(storeIndex: 120, walExisted: true, snapshotIndex: 100, lastLogIndex: 150, onlyVoter: true)) == nil)
        #expect(refusal(.init(storeIndex: 150, walExisted: true, snapshotIndex: 100, lastLogIndex: 150, onlyVoter: true)) == nil)
        #expect(refusal(.init(storeIndex: 200, walExisted: true, snapshotIndex: 100, lastLogIndex: 150, onlyVoter: false)) == nil)
    }

    @Test func storeWithoutWALNamesTheWALDir() {
        let e = refusal(.init(storeIndex: 7, walExisted: false, snapshotIndex: 0, lastLogIndex: 0, onlyVoter: true))
        #expect(e?.file == "/d/member/wal")
        #expect(e?.description.contains("/d/member/snap/db/data.mdb") == true)
    }

    @Test func storeOlderThanTheSnapshotNamesDataMDB() {
        let e = refusal(.init(storeIndex: 0, walExisted: true, snapshotIndex: 287, lastLogIndex: 300, onlyVoter: true))
        #expect(e?.file == "/d/member/snap/db/data.mdb")
        #expect(e?.description.contains("287") == true)
    }

    @Test func onlyVoterStoreAheadOfItsLogNamesTheLastSegment() {
        let e = refusal(.init(storeIndex: 300, walExisted: true, snapshotIndex: 0, lastLogIndex: 120, onlyVoter: true))
        #expect(e?.file == "/d/member/wal/1.wal")
        #expect(e?.description.contains("ends at index 120") == true)
    }
}
