import Bolt
import Foundation
import Testing
@testable import MVCC

/// Users and roles whose names pass LMDB's key limit: stored under a
/// shortened key, exported under the name etcd files them under (in etcd's
/// order), imported from such a file and exported again unchanged.
@Suite struct EtcdLongAuthKeyTests {
    /// An `authpb.User`/`authpb.Role`: field 1 (name) and an extra field 2.
    static func record(_ name: [UInt8], _ extra: UInt8) -> [UInt8] {
        var out: [UInt8] = [0x0a]
        EtcdProto.varint(&out, UInt64(name.count))
        return out + name + [0x12, 1, extra]
    }

    static func authBuckets(_ file: [UInt8]) throws -> [String: [([UInt8], [UInt8])]] {
        try EtcdExportTests.buckets(file).filter { $0.key.hasPrefix("auth") }
    }

    @Test func longNamesRoundTripAsEtcdStoresThem() throws {
        let t = try TempStore()
        let shared = [UInt8](repeating: 0x75, count: 600)
        // Four users sharing their first 600 bytes (one shortened run, in
        // hash order in the store), a short one, and a long role.
        let users = [shared + [0x64], shared + [0x61], shared + [0x63, 0x63], shared + [0x62], Array("zed".utf8)]
        let role = [UInt8](repeating: 0x72, count: 4000)
        t.apply([.bucketRecords(users.enumerated().map { i, name in
            BucketRecord(bucket: "authUsers", key: name, value: Self.record(name, UInt8(i)))
        } + [BucketRecord(bucket: "authRoles", key: role, value: Self.record(role, 9))])])

        let first = try Self.authBuckets(try EtcdExportTests.export(t))
        #expect(first["authUsers"]!.map(\.0) == users.sorted { $0.lexicographicallyPrecedes($1) })
        for (key, value) in first["authUsers"]! {
            #expect(value == Self.record(key, UInt8(users.firstIndex(of: key)!)))
        }
        #expect(first["authRoles"]!.map(\.0) == [role])

        let (imported, result, dir) = try EtcdImportTests.roundTrip(t)
        defer { imported.close(); try? FileManager.default.removeItem(atPath: dir) }
        #expect(result.rawEntries == users.count + 1 + 1)  // + the auth bucket's authRevision
        let view = try imported.openReadView()
        defer { view.close() }
        let second = try Self.authBuckets(try EtcdExportTests.stream(try EtcdSnapshotExporter(view: view, extras: EtcdBackendExtras())))
        for name in ["authUsers", "authRoles"] {
            #expect(second[name]!.map(\.0) == first[name]!.map(\.0), "\(name)")
            #expect(second[name]!.map(\.1) == first[name]!.map(\.1), "\(name)")
        }
    }

    /// A shortened key whose record names another key is a damaged store:
    /// the export says so instead of writing a wrong key.
    @Test func aRecordNotMatchingItsShortenedKeyIsRefused() throws {
        let t = try TempStore()
        let long = [UInt8](repeating: 0x61, count: 700)
        t.apply([.bucketRecords([BucketRecord(bucket: "authRoles", key: long, value: Self.record(Array("b".utf8), 1))])])
        #expect(throws: MVCCError.self) { _ = try EtcdExportTests.export(t) }
    }
}
