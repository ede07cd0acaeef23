import Foundation
import Testing

/// The store holds every key (auth's password hashes, Kubernetes' secrets):
/// what the member writes under its data dir is for its own user alone, as
/// etcd's (0600 files, 0700 dirs), even in a data dir someone else made
/// world-readable (a package's 0755 /var/lib/etcd). The store's file was
/// 0644 in 0755 dirs, readable by every local user.
@Suite(.serialized) struct DataDirModeTests {
    /// Every file and dir under `root` whose mode lets group or others in.
    static func openToOthers(under root: String) -> [String] {
        var found: [String] = []
        let items = FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String } ?? []
        for item in items {
            var st = stat()
            guard lstat(root + "/" + item, &st) == 0, st.st_mode & S_IFMT != S_IFLNK else { continue }
            if st.st_mode & 0o077 != 0 { found.append("\(item) \(String(st.st_mode & 0o777, radix: 8))") }
        }
        return found
    }

    @Test func nothingUnderAWorldReadableDataDirIsOpenToOthers() throws {
        let dataDir = NSTemporaryDirectory() + "swift-etcd-mode-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        let server = try ServerProcess(dataDir: dataDir)
        defer { server.stop(); server.removeData() }
        try server.start()
        #expect(try etcdctl(server.endpoint, ["put", "k", "v"]).exitCode == 0)
        // The defragmented copy replaces the store's file.
        #expect(try etcdctl(server.endpoint, ["defrag"]).exitCode == 0)
        #expect(try etcdctl(server.endpoint, ["get", "k", "--print-value-only"]).stdout == "v\n")
        let open = Self.openToOthers(under: dataDir)
        #expect(open.isEmpty, "\(open)")
    }
}
