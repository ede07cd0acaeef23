import MVCC
import Proto
import Testing
@testable import Server

/// The shared encoder must give, byte for byte, what encoding the whole
/// `WatchResponse` gives, for any watch ID (zero, large, negative), with and
/// without prev_kv, and reuse its work across watchers.
@Suite struct WatchEventEncoderTests {
    func kv(_ key: String, rev: Int64, version: Int64 = 2, value: String = "v", lease: Int64 = 0) -> KeyValue {
        KeyValue(key: Array(key.utf8), createRevision: 2, modRevision: rev, version: version, value: Array(value.utf8), lease: lease)
    }

    func header(_ rev: Int64) -> Etcdserverpb.ResponseHeader {
        var h = Etcdserverpb.ResponseHeader()
        h.clusterID = 0xdead_beef_1234
        h.memberID = 42
        h.revision = rev
        h.raftTerm = 7
        return h
    }

    /// The reference: the old path, a whole message through the generated codec.
    func reference(_ id: Int64, _ events: [Event], _ rev: Int64, prevKV: Bool, store: [String: KeyValue]) -> [UInt8] {
        var r = Etcdserverpb.WatchResponse()
        r.header = header(rev)
        r.watchID = id
        r.events = events.map { e in
            var out = Mvccpb.Event()
            out.type = e.type == .put ? .put : .delete
            out.kv = KVMapping.keyValue(e.kv)
            if prevKV && !(e.type == .put && e.kv.version == 1), let p = store[String(decoding: e.kv.key, as: UTF8.self)] {
                out.prevKv = KVMapping.keyValue(p)
            }
            return out
        }
        return r.serializedBytes()
    }

    @Test func bytesEqualTheWholeMessagesEncoding() throws {
        let store = ["a": kv("a", rev: 3, value: "old"), "b": kv("b", rev: 4, value: String(repeating: "x", count: 300))]
        var reads = 0
        var encoder = WatchEventEncoder(header: header) { key, _ in
            reads += 1
            return store[String(decoding: key, as: UTF8.self)]
        }
        let batches: [[Event]] = [
            [Event(type: .put, kv: kv("a", rev: 9, value: String(repeating: "y", count: 200), lease: 5))],
            [Event(type: .put, kv: kv("b", rev: 10)), Event(type: .delete, kv: KeyValue(key: Array("a".utf8), modRevision: 10))],
            [Event(type: .put, kv: kv("new", rev: 11, version: 1))],
        ]
        for (i, events) in batches.enumerated() {
            let rev = events[0].kv.modRevision
            for id: Int64 in [0, 1, 127, 128, 1 << 40, -1] {
                for prevKV in [false, true] {
                    let got = encoder.response(watchID: id, events: events, revision: rev, prevKV: prevKV)
                    #expect(got == reference(id, events, rev, prevKV: prevKV, store: store), "batch \(i) id \(id) prevKV \(prevKV)")
                    let decoded = try got.withUnsafeBytes { try Etcdserverpb.WatchResponse(serializedBytes: $0) }
                    #expect(decoded.watchID == id)
                    #expect(decoded.events.count == events.count)
                }
            }
        }
        // prev_kv was read once per event that needs it (a, b and a's delete), not once per watcher.
        #expect(reads == 3)
    }

    /// A watcher's joined outputs encode as their events in one array would,
    /// and an array shared by two watchers is read for prev_kv once.
    @Test func partsEncodeAsTheirConcatenation() {
        let store = ["a": kv("a", rev: 3, value: "old")]
        var reads = 0
        var encoder = WatchEventEncoder(header: header) { key, _ in
            reads += 1
            return store[String(decoding: key, as: UTF8.self)]
        }
        let first = [Event(type: .put, kv: kv("a", rev: 9))]
        let second = [Event(type: .put, kv: kv("a", rev: 10)), Event(type: .delete, kv: KeyValue(key: Array("b".utf8), modRevision: 10))]
        for id: Int64 in [0, 7] {
            let got = encoder.response(watchID: id, parts: [first, second], revision: 10, prevKV: true)
            #expect(got == reference(id, first + second, 10, prevKV: true, store: store))
        }
        #expect(reads == 3)
    }

    /// Watchers whose responses have the same parts reuse the joined fields;
    /// a response whose parts differ (other arrays of the same size, another
    /// prev_kv choice, fewer parts) is encoded from its own.
    @Test func consecutiveResponsesWithOtherPartsAreEncodedFromTheirOwn() {
        let store = ["a": kv("a", rev: 3, value: "old"), "b": kv("b", rev: 4, value: "older")]
        var encoder = WatchEventEncoder(header: header) { key, _ in store[String(decoding: key, as: UTF8.self)] }
        let a = [Event(type: .put, kv: kv("a", rev: 9))]
        let b = [Event(type: .put, kv: kv("b", rev: 10, value: "bee"))]
        let c = [Event(type: .delete, kv: KeyValue(key: Array("a".utf8), modRevision: 10))]
        let sequence: [(Int64, [[Event]], Bool)] = [
            (1, [a, b], false), (2, [a, b], false), (3, [a, c], false), (4, [a, c], true),
            (5, [a, c], false), (6, [a], false), (7, [a, b], true), (8, [a, b], true),
        ]
        for (id, parts, prevKV) in sequence {
            let got = encoder.response(watchID: id, parts: parts, revision: 10, prevKV: prevKV)
            #expect(got == reference(id, parts.flatMap { $0 }, 10, prevKV: prevKV, store: store), "watcher \(id)")
        }
    }
}
