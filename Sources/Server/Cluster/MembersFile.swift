import Foundation
import Proto

/// Reads `member/members.json` strictly: a member that has a WAL wrote it
/// before its WAL existed, so a missing, unreadable or unparsable file, or
/// one listing no members, is damage. Start-up stops with an error naming
/// the file, the offset (JSON syntax) or the field (JSON shape), and what to
/// do; it never falls back to the `--initial-cluster` flags, which a
/// restarted member ignores and which may be long out of date.
enum MembersFile {
    static let remedy = "Restore the file from a backup of the data dir, or write it again: a JSON array with " +
        "one object per member, {\"id\": <member ID as a decimal number>, \"name\", \"peerURLs\", \"clientURLs\", " +
        "\"learner\"} (`etcdctl member list -w json` on a healthy member shows them). Or " + DataFileError.rebuildMember

    static func load(path: String) throws -> [ClusterMember] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw DataFileError(file: path, offset: nil, problem: "the member table is missing (the WAL exists, so this " +
                                "member wrote it when it was first started)", remedy: remedy)
        }
        guard !isDir.boolValue, let data = FileManager.default.contents(atPath: path) else {
            throw DataFileError(file: path, offset: nil, problem: "the member table cannot be read", remedy: DataFileError.checkAccess)
        }
        return try decode(Array(data), path: path)
    }

    /// Pure: the members in `bytes`, or a `DataFileError` saying where and why not.
    static func decode(_ bytes: [UInt8], path: String) throws -> [ClusterMember] {
        if let offset = JSONValue.syntaxErrorOffset(bytes) {
            let reason = offset >= bytes.count ? "it ends before the JSON does (\(bytes.count) bytes)" : "it is not valid JSON"
            throw DataFileError(file: path, offset: UInt64(offset), problem: "the member table is damaged: \(reason)", remedy: remedy)
        }
        let members: [ClusterMember]
        do {
            members = try JSONDecoder().decode([ClusterMember].self, from: Data(bytes))
        } catch let error as DecodingError {
            throw DataFileError(file: path, offset: nil, problem: "the member table is damaged: \(describe(error))", remedy: remedy)
        }
        guard !members.isEmpty else {
            throw DataFileError(file: path, offset: 0, problem: "the member table lists no members", remedy: remedy)
        }
        return members
    }

    /// "at [0].peerURLs: expected an array" rather than Foundation's prose.
    private static func describe(_ error: DecodingError) -> String {
        func at(_ path: [CodingKey]) -> String {
            path.isEmpty ? "the top level" : path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        }
        switch error {
        case .typeMismatch(let type, let c): return "at \(at(c.codingPath)): expected \(type)"
        case .valueNotFound(let type, let c): return "at \(at(c.codingPath)): expected \(type), found null"
        case .keyNotFound(let key, let c): return "at \(at(c.codingPath)): the field \"\(key.stringValue)\" is missing"
        case .dataCorrupted(let c): return "at \(at(c.codingPath)): \(c.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}
