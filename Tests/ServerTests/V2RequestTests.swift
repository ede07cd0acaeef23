import Foundation
import Logging
import MVCC
import Proto
import Raft
import Testing
@testable import Server

/// etcd 3.5.1's start-up entries (`V2Request`): the bytes below are entry
/// data from a real etcd 3.5.1 WAL (member m1 publishing its attributes,
/// the leader setting the cluster version). swift-etcd decodes them,
/// proposes the same bytes, and applies them with etcd's effects.
@Suite struct V2RequestTests {
    static func bytes(_ hex: String) -> [UInt8] {
        stride(from: 0, to: hex.count, by: 2).map {
            UInt8(hex[hex.index(hex.startIndex, offsetBy: $0)..<hex.index(hex.startIndex, offsetBy: $0 + 2)], radix: 16)!
        }
    }

    static let etcdAttributes = bytes(
        "0882daa19e8ec9e8863912035055541a262f302f6d656d626572732f626461653962626331316464333930642f61747472696275746573"
            + "22357b226e616d65223a226d31222c22636c69656e7455524c73223a5b22687474703a2f2f3132372e302e302e313a3233373931225d7d"
            + "2800320038004800500058006000680070007800800100")
    static let etcdVersion = bytes(
        "0884daa19e8ec9e8863912035055541a0a2f302f76657273696f6e2205332e352e302800320038004800500058006000680070007800800100")

    @Test func etcdsEntriesDecodeAndEncodeToTheSameBytes() throws {
        let attributes = try #require(V2Request(decoding: Self.etcdAttributes))
        #expect(attributes.method == "PUT")
        #expect(attributes.path == V2Request.attributesPath(0xbdae9bbc11dd390d))
        let json = EtcdMemberJSON.attributes(name: "m1", clientURLs: ["http://127.0.0.1:23791"])
        #expect(attributes.meaning == .memberAttributes(memberID: 0xbdae9bbc11dd390d, json: json))
        #expect(attributes.encoded() == Self.etcdAttributes)

        let version = try #require(V2Request(decoding: Self.etcdVersion))
        #expect(version.meaning == .clusterVersion("3.5.0"))
        #expect(version.encoded() == Self.etcdVersion)
        #expect(V2Request(id: version.id, method: "PUT", path: "/0/version", value: "3.5.0").encoded() == Self.etcdVersion)
        // `migrate` replays them from an etcd WAL as they are (no auth field to change).
        #expect(EtcdAuthRequests.forReplay(Self.etcdAttributes) == Self.etcdAttributes)
        #expect(EtcdAuthRequests.forReplay(Self.etcdVersion) == Self.etcdVersion)
    }

    @Test func ourOwnRequestsAndDamagedBytesAreNotV2() {
        var put = Swiftetcd.InternalRaftRequest()
        put.id = 7
        var p = Etcdserverpb.PutRequest()
        p.key = Array("k".utf8)
        put.put = p
        #expect(V2Request(decoding: put.serializedBytes()) == nil)
        #expect(V2Request(decoding: Array(Self.etcdVersion.prefix(20))) == nil)  // a string past the end
        #expect(V2Request(decoding: [0x08, 0x01]) == nil)
        #expect(V2Request(decoding: []) == nil)
        #expect(EtcdMemberJSON.attributes(name: "", clientURLs: []) == Array("{}".utf8))
    }

    /// The shape check that runs before the full decode refuses exactly what
    /// the decode refuses: no or empty method (the last one counts), a field
    /// v2's Request lacks, bad UTF-8; and accepts what etcd writes.
    @Test func shapeCheckAndDecodeAgreeOnEdgeCases() {
        let ok = V2Request(id: 5, method: "PUT", path: "/0/version", value: "3.5.0")
        #expect(V2Request(decoding: ok.encoded()) == ok)
        #expect(V2Request(decoding: V2Request(id: 5, method: "", path: "/0/version", value: "x").encoded()) == nil)
        let lastMethodEmpty: [UInt8] = [0x08, 0x05, 0x12, 0x03] + Array("PUT".utf8) + [0x12, 0x00]
        #expect(V2Request(decoding: lastMethodEmpty) == nil)
        let lastMethodSet: [UInt8] = [0x08, 0x05, 0x12, 0x00, 0x12, 0x03] + Array("GET".utf8)
        #expect(V2Request(decoding: lastMethodSet)?.method == "GET")
        let badPath: [UInt8] = [0x08, 0x05, 0x12, 0x03] + Array("PUT".utf8) + [0x1a, 0x02, 0xff, 0xfe]
        #expect(V2Request(decoding: badPath) == nil)
        let unknownField: [UInt8] = [0x08, 0x05, 0x12, 0x03] + Array("PUT".utf8) + [0x90, 0x01, 0x00]  // field 18
        #expect(V2Request(decoding: unknownField) == nil)
    }

    @Test func appliedVersionIsStoredAndAttributesReported() throws {
        let f = try WatchFixture()
        let backend = ApplyBackend(store: f.store, lessor: Lessor(minTTLSeconds: 2, clock: ManualClock()), hub: f.hub,
                                   alarms: AlarmStore(path: f.dir + "/alarms"), logger: Logger(label: "test"))
        var versions: [(String, String?)] = []
        var attributes: [(UInt64, [UInt8])] = []
        backend.clusterVersionApplied = { versions.append(($0, $1)) }
        backend.memberAttributesApplied = { attributes.append(($0, $1)) }
        let alarms = AlarmStore(path: f.dir + "/alarms2")
        let chain = ApplyChain(corruption: CorruptionGuard(alarms: alarms), capped: CappedGuard(alarms: alarms), auth: nil)
        var answered: Set<UInt64> = []
        let pipeline = ApplyPipeline(chain: chain, backend: backend, logger: Logger(label: "test")) { id, _ in answered.insert(id) }
        let attributesID = try #require(V2Request(decoding: Self.etcdAttributes)).id
        let versionID = try #require(V2Request(decoding: Self.etcdVersion)).id
        pipeline.apply([Entry(term: 2, index: 1, data: Self.etcdAttributes), Entry(term: 2, index: 2, data: Self.etcdVersion)],
                       term: 2)
        #expect(f.store.consistentIndex == 2)
        #expect(ClusterVersion.load(from: f.store) == "3.5.0")
        #expect(versions.count == 1 && versions.first?.0 == "3.5.0" && versions.first?.1 == nil)
        #expect(attributes.count == 1 && attributes.first?.0 == 0xbdae9bbc11dd390d)
        #expect(answered == [attributesID, versionID])
        // Applied again at a later index (another start's entry): the version before is reported.
        pipeline.apply([Entry(term: 3, index: 3, data: Self.etcdVersion)], term: 3)
        #expect(versions.last?.1 == "3.5.0")
    }
}
