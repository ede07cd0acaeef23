import Foundation
import Logging
import Testing
@testable import Server

/// members.json is written by peer hellos (event-loop threads) and applied
/// conf changes (the apply thread) at the same time. Two writers of one temp
/// file tore it or renamed it away under each other ("failed to persist
/// cluster members ... rename ... No such file or directory", seen in a
/// 3-member chaos run during a member replacement), and a writer holding an
/// older table could rename last, leaving a stale member table on disk.
@Suite struct MembershipPersistTests {
    @Test func concurrentChangesPersistTheNewestTableWithoutErrors() throws {
        let dir = NSTemporaryDirectory() + "membership-persist-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/members.json"
        let lines = CapturedLines()
        let logger = Logger(label: "membership-test") { _ in CapturingHandler(lines: lines) }
        let initial = (1...3).map { ClusterMember(id: UInt64($0), name: "m\($0)", peerURLs: ["http://127.0.0.1:\(2380 + $0)"],
                                                   clientURLs: []) }
        let membership = Membership(members: initial, path: path, logger: logger)

        // Hellos renaming members 1–3 race with applied adds of members 10–49.
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            for round in 0..<40 {
                if worker < 2 {
                    let id = UInt64(1 + (round + worker) % 3)
                    membership.update(id, attributes: MemberAttributes(name: "m\(id)-\(worker)-\(round)",
                                                                       clientURLs: ["http://c\(round)"]))
                } else {
                    let id = UInt64(10 + (worker - 2) * 20 + round / 2)
                    membership.put(ClusterMember(id: id, name: "n\(id)", peerURLs: ["http://127.0.0.1:\(3000 + id)"],
                                                 clientURLs: [], learner: round % 2 == 0))
                }
            }
        }
        let errors = lines.all.filter { $0.level >= .error }
        #expect(errors.isEmpty, "\(errors.map { "\($0.message) \($0.fields)" })")
        #expect(try MembersFile.load(path: path) == membership.all)
        #expect(membership.all.count == 3 + 40)
        #expect(!FileManager.default.fileExists(atPath: path + ".tmp"))
    }
}
