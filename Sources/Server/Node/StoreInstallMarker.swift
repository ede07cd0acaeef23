import Foundation
import Support

/// A durable note that a follower is replacing its store with one received
/// from the leader, kept from before the store is replaced until the
/// snapshot's WAL marker is written. The store is installed first, so a
/// crash in between leaves a store ahead of the log; the note is what tells
/// that legal state apart from a WAL that lost entries the store had
/// applied (`StoreLogCheck`).
enum StoreInstallMarker {
    static let prefix = "store-install-"

    /// Notes the install of the snapshot at `index` (fsynced with its directory).
    static func begin(index: UInt64, snapDir: String) throws {
        try DurableFile.write([], to: path(index: index, snapDir: snapDir))
    }

    /// Drops the notes: the log now holds the snapshot.
    static func end(snapDir: String) throws {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: snapDir)) ?? []
        let notes = names.filter { $0.hasPrefix(prefix) }
        guard !notes.isEmpty else { return }
        for name in notes { unlink(snapDir + "/" + name) }
        try FileIO.syncDirectory(snapDir)
    }

    /// The snapshot index of the install a crash interrupted, if any.
    static func pending(snapDir: String) -> UInt64? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: snapDir)) ?? []
        return names.compactMap { name in
            name.hasPrefix(prefix) ? UInt64(name.dropFirst(prefix.count), radix: 16) : nil
        }.max()
    }

    static func path(index: UInt64, snapDir: String) -> String {
        snapDir + "/" + prefix + String(format: "%016llx", index)
    }
}
