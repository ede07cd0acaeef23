import Foundation
import Testing

/// The differential fuzzers (scripts/fuzz/README.md) on a fixed budget against the
/// release binary and etcd 3.5.1 side by side. Each fails on a crash, a hang, a lost
/// acknowledged write, a final key space that differs, or an answer etcd does not
/// give (known defects and accepted differences are listed in the fuzzers' output).
/// `make fuzz-api|fuzz-gateway|fuzz-counts|fuzz-h2|fuzz-abuse SEED=S N=…` run any other seed for longer.
@Suite struct APIFuzzTests {
    @Test(arguments: [11, 12, 13])
    func grpcRequests(seed: Int) throws {
        try fuzz("api_fuzz.py", ["--seed", String(seed), "--n", "1500"], clean: "fuzz-api: clean")
    }

    @Test func gatewayJSONBodies() throws {
        try fuzz("api_fuzz.py", ["--gateway", "--seed", "21", "--n", "800"], clean: "fuzz-api: clean")
    }

    /// Counts of large ranges and lists pinned to a revision, page by page with
    /// writes between pages: the store answers them from remembered counts.
    @Test func rangeCountsAndPinnedLists() throws {
        try fuzz("count_diff.py", ["--seed", "61", "--n", "1200"], clean: "fuzz-counts: clean")
    }

    @Test func http2HeadersAndFrames() throws {
        try fuzz("h2_fuzz.py", ["--seed", "31", "--n", "300"], clean: "fuzz-h2: clean")
    }

    /// Hostile connections (floods, bad frames, HPACK abuse, mutated bodies and
    /// gateway requests): the member stays up, answers and does not keep growing.
    @Test func hostileConnections() throws {
        try fuzz("abuse_fuzz.py", ["--seed", "41", "--n", "120", "--seconds", "90"], clean: "fuzz-abuse: clean")
    }

    /// A short fixed subset of the corrupt-data-dir fuzzer (`make fuzz-datadir` runs every
    /// file × mutation): the member serves every acknowledged write or exits naming the file.
    @Test func corruptDataDirs() throws {
        try fuzz("datadir_fuzz.py", ["--subset", "--seed", "1"], clean: "fuzz-datadir: clean")
    }

    /// Hostile input on the peer port of a three-member cluster while etcdctl
    /// writes (`make fuzz-peer` runs more rounds, a bigger flood and a trickled
    /// hello): no member exits, writes go on, none is lost, hashkv agrees.
    @Test func hostilePeerInput() throws {
        try fuzz("peer_fuzz.py", ["--quick", "--seed", "51"], clean: "fuzz-peer: clean")
    }

    private func fuzz(_ script: String, _ arguments: [String], clean: String) throws {
        let python = PackagePaths.root.appendingPathComponent(".venv/bin/python").path
        let path = PackagePaths.root.appendingPathComponent("scripts/fuzz/\(script)").path
        let result = try ProcessRunner.run(python, [path] + arguments,
                                           environment: ["SWIFT_ETCD_BINARY": try PackagePaths.serverBinary],
                                           timeoutSeconds: 400)
        #expect(result.exitCode == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains(clean), "\(result.stdout)")
    }
}
