// Codec micro-benchmark: ns per encode / decode of hot-path etcd messages.
// Run: swift build -c release --product proto-bench && .build/release/proto-bench [iterations]
// `proto-bench fuzz [rounds]` instead decodes random and corrupted inputs as every
// message type (no timing): a driver for valgrind/heaptrack, which cannot run the
// swift-testing harness. `proto-bench dump` prints the bench messages as hex.
import Proto

#if canImport(Glibc)
import Glibc
#endif

func nowNs() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)  // CPU time: steadier than wall time on a shared machine
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

@inline(never) func consume<T>(_ value: T) { withExtendedLifetime(value) {} }

func bench(_ name: String, iterations: Int, _ body: () throws -> Void) rethrows {
    for _ in 0..<(iterations / 10) { try body() }
    let start = nowNs()
    for _ in 0..<iterations { try body() }
    let ns = Double(nowNs() - start) / Double(iterations)
    let padded = name + String(repeating: " ", count: max(0, 44 - name.count))
    print("\(padded) \(Int(ns.rounded())) ns/op")
}

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

var put = Etcdserverpb.PutRequest()
put.key = bytes("/registry/pods/default/nginx-1234")
put.value = [UInt8](repeating: 0x61, count: 256)
put.lease = 7
let putBytes = put.serializedBytes()

var header = Etcdserverpb.ResponseHeader()
header.clusterID = 0xcdef_0123_4567_89ab
header.memberID = 0x8e9e_05c5_2164_694d
header.revision = 123_456
header.raftTerm = 5
var putResponse = Etcdserverpb.PutResponse()
putResponse.header = header

func range(kvs count: Int, valueBytes: Int) -> Etcdserverpb.RangeResponse {
    var response = Etcdserverpb.RangeResponse()
    response.header = header
    response.kvs = (0..<count).map { index in
        var kv = Mvccpb.KeyValue()
        kv.key = bytes("/registry/pods/default/pod-\(index)")
        kv.value = [UInt8](repeating: UInt8(index & 0xff), count: valueBytes)
        kv.createRevision = Int64(index + 1)
        kv.modRevision = Int64(index + 100)
        kv.version = 3
        return kv
    }
    response.count = Int64(count)
    return response
}
let range10 = range(kvs: 10, valueBytes: 256)
let range10Bytes = range10.serializedBytes()
let range1000 = range(kvs: 1000, valueBytes: 1024)
let range1000Bytes = range1000.serializedBytes()

var rangeRequest = Etcdserverpb.RangeRequest()
rangeRequest.key = bytes("/registry/pods/")
rangeRequest.rangeEnd = bytes("/registry/pods0")
rangeRequest.limit = 500
let rangeRequestBytes = rangeRequest.serializedBytes()

var compare = Etcdserverpb.Compare()
compare.key = put.key
compare.target = .mod
compare.targetUnion = .modRevision(123)
var txn = Etcdserverpb.TxnRequest()
txn.compare = [compare]
var op = Etcdserverpb.RequestOp()
op.request = .requestPut(put)
txn.success = [op]
var getOp = Etcdserverpb.RequestOp()
getOp.request = .requestRange(rangeRequest)
txn.failure = [getOp]
let txnBytes = txn.serializedBytes()

/// Random bytes and single-byte corruptions of valid encodings, decoded as every type.
func fuzz(rounds: Int) {
    var state: UInt64 = 0x5eed
    func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return state >> 11
    }
    let seeds = [putBytes, range10Bytes, rangeRequestBytes, txnBytes, putResponse.serializedBytes()]
    var accepted = 0
    for _ in 0..<rounds {
        var input = seeds[Int(next() % UInt64(seeds.count))]
        if next() % 4 == 0 {
            input = (0..<Int(next() % 40)).map { _ in UInt8(truncatingIfNeeded: next()) }
        } else {
            for _ in 0..<(1 + next() % 3) { input[Int(next() % UInt64(input.count))] = UInt8(truncatingIfNeeded: next()) }
            input.removeLast(Int(next() % 3))
        }
        for type in ProtoMessageTypes.all {
            if let message = try? type.init(serializedBytes: input) {
                accepted += 1
                consume(message.serializedBytes())
            }
        }
    }
    print("fuzz: \(rounds) inputs × \(ProtoMessageTypes.all.count) types, \(accepted) decodes accepted")
}

if CommandLine.arguments.dropFirst().first == "dump" {
    // "<proto name> <hex>" per bench message, for scripts/proto-go-compat.sh.
    let messages: [any ProtoMessage] = [put, putResponse, rangeRequest, range10, txn]
    for message in messages {
        let hex = message.serializedBytes().map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        print(type(of: message).protoMessageName, hex)
    }
    exit(0)
}

if CommandLine.arguments.dropFirst().first == "fuzz" {
    fuzz(rounds: Int(CommandLine.arguments.dropFirst(2).first ?? "") ?? 2000)
    exit(0)
}

let n = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 200_000
print("proto-bench: \(n) iterations (sizes: put \(putBytes.count) B, range10 \(range10Bytes.count) B, range1000 \(range1000Bytes.count) B)")
bench("encode PutRequest (256 B value)", iterations: n) { consume(put.serializedBytes()) }
try bench("decode PutRequest (256 B value)", iterations: n) { consume(try Etcdserverpb.PutRequest(serializedBytes: putBytes)) }
bench("encode PutResponse", iterations: n) { consume(putResponse.serializedBytes(headroom: 5)) }
bench("encode RangeRequest", iterations: n) { consume(rangeRequest.serializedBytes()) }
try bench("decode RangeRequest", iterations: n) { consume(try Etcdserverpb.RangeRequest(serializedBytes: rangeRequestBytes)) }
bench("encode RangeResponse (10 kvs × 256 B)", iterations: n / 4) { consume(range10.serializedBytes()) }
try bench("decode RangeResponse (10 kvs × 256 B)", iterations: n / 4) { consume(try Etcdserverpb.RangeResponse(serializedBytes: range10Bytes)) }
bench("encode TxnRequest (cmp, put | get)", iterations: n / 2) { consume(txn.serializedBytes()) }
try bench("decode TxnRequest (cmp, put | get)", iterations: n / 2) { consume(try Etcdserverpb.TxnRequest(serializedBytes: txnBytes)) }
bench("encode RangeResponse (1000 kvs × 1 KiB)", iterations: max(1, n / 1000)) { consume(range1000.serializedBytes()) }
try bench("decode RangeResponse (1000 kvs × 1 KiB)", iterations: max(1, n / 1000)) { consume(try Etcdserverpb.RangeResponse(serializedBytes: range1000Bytes)) }
