import Testing
import Proto
import CProtobuf
#if os(Linux)
import Glibc

/// Resident set size of this process, from /proc/self/statm (pages → bytes).
private func residentBytes() -> Int {
    guard let file = fopen("/proc/self/statm", "r") else { return 0 }
    defer { fclose(file) }
    var size = 0
    var resident = 0
    guard withUnsafeMutablePointer(to: &size, { sizePointer in
        withUnsafeMutablePointer(to: &resident) { fscanf_pair(file, sizePointer, $0) }
    }) else { return 0 }
    return resident * Int(sysconf(Int32(_SC_PAGESIZE)))
}

private func fscanf_pair(_ file: UnsafeMutablePointer<FILE>, _ a: UnsafeMutablePointer<Int>, _ b: UnsafeMutablePointer<Int>) -> Bool {
    var line = [CChar](repeating: 0, count: 256)
    guard fgets(&line, Int32(line.count), file) != nil else { return false }
    let fields = String(cString: line).split(separator: " ")
    guard fields.count >= 2, let first = Int(fields[0]), let second = Int(fields[1]) else { return false }
    a.pointee = first
    b.pointee = second
    return true
}

@Suite struct LeakTests {
    /// Encode/decode many valid and invalid inputs (~90k decodes, 600 encodes and
    /// decodes of a 35 KB RangeResponse). Two checks:
    /// - every malloc'd unpack-arena block is released again (exact; counted per thread,
    ///   so tests running in parallel do not disturb it);
    /// - resident memory stays flat in at least one of three windows of 200 rounds. A leak
    ///   grows every window; other tests in this process (run in parallel) move the figure
    ///   in some windows only (one 600-round window once grew 20 MB in CI with no leak).
    @Test func codecLoopKeepsHeapFlat() throws {
        var rng = SeededRandom(seed: 7)
        let corpus = Samples.corpus
        var big = Etcdserverpb.RangeResponse()
        big.kvs = (0..<100).map { index in
            var kv = Samples.keyValue
            kv.key = Array("key-\(index)".utf8)
            return kv
        }  // ~35 KB: the pack arena needs malloc'd chunks
        let bigBytes = big.serializedBytes()
        func round() {
            for bytes in corpus {
                let mutated = Fuzz.mutate(bytes, &rng)
                for type in [Etcdserverpb.TxnRequest.self, Etcdserverpb.RangeResponse.self,
                             Swiftetcd.InternalRaftRequest.self, Etcdserverpb.WatchResponse.self] as [any ProtoMessage.Type] {
                    _ = try? type.init(serializedBytes: bytes)
                    _ = try? type.init(serializedBytes: mutated)
                }
            }
            _ = big.serializedBytes()
            _ = try? Etcdserverpb.RangeResponse(serializedBytes: bigBytes)
        }
        for _ in 0..<100 { round() }  // warm up caches and metadata
        let blocksBefore = swiftetcd_unpack_arena_live_blocks_on_this_thread()
        var growths: [Int] = []
        for _ in 0..<3 {
            let before = residentBytes()
            for _ in 0..<200 { round() }
            growths.append(residentBytes() - before)
        }
        print("resident growth per window: \(growths) B")
        #expect(swiftetcd_unpack_arena_live_blocks_on_this_thread() == blocksBefore, "unpack arena blocks never freed")
        #expect(growths.min()! < 8 * 1024 * 1024, "resident memory grew in every window: \(growths) bytes")
    }

    /// The live-block count the check above relies on does move: a 35 KB decode needs
    /// malloc'd blocks, and they are counted while its arena lives.
    @Test func arenaBlocksAreCountedWhileTheArenaLives() {
        let blocksBefore = swiftetcd_unpack_arena_live_blocks_on_this_thread()
        var arena = SwiftEtcdUnpackArena()
        swiftetcd_unpack_arena_init(&arena, nil, 0)
        _ = arena.allocator.alloc(arena.allocator.allocator_data, 64 * 1024)
        #expect(swiftetcd_unpack_arena_live_blocks_on_this_thread() == blocksBefore + 1)
        swiftetcd_unpack_arena_destroy(&arena)
        #expect(swiftetcd_unpack_arena_live_blocks_on_this_thread() == blocksBefore)
    }
}
#endif
