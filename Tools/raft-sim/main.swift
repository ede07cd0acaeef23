import Foundation

/// raft-sim [--seeds N] [--seed S] [--first F] [--trace] [--plant commit-previous-term|naive-commit|vote-ignoring-log|skip-empty-entry|keep-stale-grant]
/// Runs the deterministic Raft simulation; the last line is
/// `N seeds passed, M failed`. Exit status 1 if any seed failed.
var seeds = 300
var single: UInt64?
var first: UInt64 = 1
var trace = false
var plant = ""
var args = CommandLine.arguments.dropFirst()
while let a = args.popFirst() {
    switch a {
    case "--seeds": seeds = Int(args.popFirst() ?? "") ?? seeds
    case "--seed": single = UInt64(args.popFirst() ?? "")
    case "--first": first = UInt64(args.popFirst() ?? "") ?? first
    case "--trace": trace = true
    case "--plant": plant = args.popFirst() ?? ""
    default:
        FileHandle.standardError.write("unknown argument \(a)\n".data(using: .utf8)!)
        exit(2)
    }
}

/// A precondition failure in the core kills the process: say which seed did it.
nonisolated(unsafe) var crashBanner: [UInt8] = []
for sig in [SIGILL, SIGTRAP, SIGABRT, SIGSEGV] {
    signal(sig) { s in
        crashBanner.withUnsafeBufferPointer { _ = write(2, $0.baseAddress, $0.count) }
        signal(s, SIG_DFL)
        raise(s)
    }
}

let list: [UInt64] = single.map { [$0] } ?? (0..<UInt64(seeds)).map { first + $0 }
var passed = 0, failed = 0
for seed in list {
    crashBanner = Array("FAIL seed=\(seed): crashed (precondition failure in the core)\n  replay: \(SimRunner.replayCommand(seed))\n".utf8)
    let out = SimRunner.runSeed(seed, trace: trace) { c in
        c.printTrace = trace
        c.plantCommitPreviousTermBug = plant == "commit-previous-term"
        c.plantVoteIgnoringLogBug = plant == "vote-ignoring-log"
        c.plantSkipEmptyEntry = plant == "skip-empty-entry" || plant == "naive-commit"
        if plant == "naive-commit" { c.plantCommitPreviousTermBug = true }
        c.plantKeepStaleGrant = plant == "keep-stale-grant"
    }
    if let f = out.failure {
        failed += 1
        print("FAIL seed=\(seed): \(f)")
        print("  replay: \(SimRunner.replayCommand(seed))\(plant.isEmpty ? "" : " PLANT=\(plant)")")
    } else if single != nil {
        print("seed=\(seed) ok: \(out.committedEntries) entries committed, \(out.stats.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))")
    }
}
passed = list.count - failed
print("\(passed) seeds passed, \(failed) failed")
exit(failed == 0 ? 0 : 1)
