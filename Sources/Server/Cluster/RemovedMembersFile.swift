import Foundation
import Logging
import Support

/// `member/members.removed.json` (beside `members.json`): the IDs of members removed from the
/// cluster (a JSON array of decimal IDs), kept so that a removed member
/// that comes back with its old data dir is told so and stops, as etcd's
/// `members_removed` bucket does. Optional: a missing file means none
/// (data dirs written before it existed); an unreadable one is logged by
/// the writer only, since losing it costs a log line, never data.
enum RemovedMembersFile {
    static func path(besides membersPath: String) -> String {
        (membersPath as NSString).deletingPathExtension + ".removed.json"
    }

    static func load(path: String) -> Set<UInt64> {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        return decode(Array(data))
    }

    /// Pure: the IDs in `bytes`; anything that is not an array of numbers counts as none.
    static func decode(_ bytes: [UInt8]) -> Set<UInt64> {
        Set((try? JSONDecoder().decode([UInt64].self, from: Data(bytes))) ?? [])
    }

    static func write(_ ids: Set<UInt64>, path: String, logger: Logger) {
        do {
            try DurableFile.write(Array(try JSONEncoder().encode(ids.sorted())), to: path)
        } catch {
            logger.error("failed to persist removed members", metadata: ["path": "\(path)", "error": "\(error)"])
        }
    }
}
