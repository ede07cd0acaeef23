import Testing
@testable import Server

/// ReadIndex contexts: the leader keys pending reads by context and drops a
/// duplicate, so two members' first read batches must not look alike.
@Suite struct ReadContextTests {
    @Test func batchesOfDifferentMembersNeverShareAContext() {
        let members: [UInt64] = [0x8211_f1d0_f64f_3269, 0x91bc_3c39_8fb3_c146, 0xfd42_2379_fda5_0e48]
        var seen = Set<[UInt8]>()
        for member in members {
            for batch in UInt64(1)...50 {
                let context = RaftLoop.readContext(batch: batch, memberID: member)
                #expect(seen.insert(context).inserted)
                #expect(RaftLoop.readBatch(ofContext: context) == batch)
            }
        }
    }
}
