import Testing
import Proto
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
    /// decodes of a 35 KB RangeResponse); resident memory afterwards must stay where
    /// it was. Forgetting to free one unpacked message or one arena chunk would add
    /// tens of MB; the margin allows for other tests running in parallel.
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
        let before = residentBytes()
        for _ in 0..<600 { round() }
        let after = residentBytes()
        print("resident: before \(before) B, after \(after) B")
        #expect(before > 0)
        #expect(after - before < 16 * 1024 * 1024, "resident memory grew by \(after - before) bytes")
    }
}
#endif
