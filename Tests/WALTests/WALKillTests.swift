import Foundation
import Raft
import Support
import Testing
import TestSupport
@testable import WAL

/// The real-process test: `wal-crash-child` appends and prints "ack <index>"
/// after each durable save; we SIGKILL it at random moments and check that
/// every acknowledged entry is in the WAL when it is reopened.
@Suite struct WALKillTests {
    /// Same payload function as the child (Tools/wal-crash-child/main.swift).
    static func childPayload(_ index: UInt64) -> [UInt8] {
        (0..<(16 + Int(index % 200))).map { UInt8(truncatingIfNeeded: index &* 31 &+ UInt64($0)) }
    }

    @Test func sigkillLoopKeepsEveryAck() throws {
        let child = try #require(BuiltProducts.executable("wal-crash-child"), "wal-crash-child not built")
        let tmp = TempDir()
        defer { tmp.cleanup() }
        let dir = tmp.path + "/member/wal"
        var rng = SplitMix64(seed: UInt64(UInt32(truncatingIfNeeded: getpid())))
        var maxAcked: UInt64 = 0
        var cyclesWithAcks = 0
        let cycles = 50
        for cycle in 0..<cycles {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: child)
            // Small segments so kills also land around segment cuts.
            p.arguments = [dir, "262144"]
            let out = Pipe()
            p.standardOutput = out
            p.standardError = FileHandle.nullDevice
            try p.run()
            var early = Data()
            if cycle % 5 != 4 {
                // Usually wait until it has opened the WAL (start-up time varies
                // with machine load), then let it append for up to 40 ms; every
                // fifth cycle kill it blind, possibly during open or repair.
                while !String(decoding: early, as: UTF8.self).contains("\n") {
                    let chunk = out.fileHandleForReading.availableData
                    if chunk.isEmpty { break }
                    early.append(chunk)
                }
            }
            usleep(UInt32(rng.next() % 40_000))
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            early.append(out.fileHandleForReading.readDataToEndOfFile())
            let text = String(decoding: early, as: UTF8.self)
            // Only complete lines count; a line cut by the kill was never an ack.
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            if !text.hasSuffix("\n") { lines.removeLast() }
            var acked: UInt64 = 0
            for line in lines where line.hasPrefix("ack ") {
                acked = max(acked, UInt64(line.dropFirst(4)) ?? 0)
            }
            if acked > maxAcked { cyclesWithAcks += 1 }
            maxAcked = max(maxAcked, acked)
            guard WAL.exists(dir: dir) else {
                #expect(maxAcked == 0, "cycle \(cycle): WAL vanished after acks")
                continue
            }
            var opts = WALOptions(segmentBytes: 262_144)
            opts.logger.logLevel = .critical
            let r = try WAL.open(dir: dir, from: .zero, options: opts)
            try r.wal.close()
            #expect(UInt64(r.entries.count) >= maxAcked, "cycle \(cycle): acked \(maxAcked), recovered \(r.entries.count)")
            #expect(r.entries.map(\.index) == Array(1...UInt64(max(1, r.entries.count))).prefix(r.entries.count).map { $0 })
            for e in r.entries where e.data != Self.childPayload(e.index) {
                Issue.record("cycle \(cycle): entry \(e.index) has wrong data")
                break
            }
            // The next child continues from what survived, which may exceed the acks.
            maxAcked = max(maxAcked, UInt64(r.entries.count))
        }
        #expect(cyclesWithAcks >= cycles / 5, "the child rarely got to acknowledge anything")
    }
}
