// libFuzzer target for the readers of etcd's files: an input whose first
// byte is even is a bbolt file (every bucket walked, etcdutl's status and
// the etcd schema decoded: revision keys, mvccpb.KeyValue, leasepb.Lease,
// alarms); odd, the rest is one etcd WAL segment. Nothing may trap; every
// refusal is a BoltReadError or EtcdWALError. Seeded corruption of real
// files runs in `make test` (BoltCorruptionTests, EtcdCorruptionTests,
// EtcdWALTests); this goes further with coverage guidance.
//
// Fuzz: `make fuzz-libfuzzer`. Replay (a plain debug build): .build/debug/bolt-fuzz crash-file...
import Bolt
import FuzzSupport
@testable import MVCC
import WAL

func boltFuzzOneInput(_ input: UnsafeRawBufferPointer) {
    guard let mode = input.first else { return }
    let bytes = [UInt8](input.dropFirst())
    if mode % 2 == 1 {
        var decoder = EtcdWALDecoder(afterIndex: UInt64(mode / 2))
        do {
            try EtcdWALReader.decodeSegment(name: "fuzz.wal", sizeBytes: Int64(bytes.count), isLast: mode & 2 == 0,
                                            into: &decoder) { buffer, offset in
                bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[Int(offset)..<(Int(offset) + buffer.count)])) }
            }
        } catch is EtcdWALError {
        } catch {
            fatalError("bolt-fuzz: the WAL decoder threw \(error)")
        }
        return
    }
    do {
        let reader = try BoltReader(BoltBytes(bytes, name: "fuzz.db"))
        _ = try SnapshotFileStatus.etcdBackend(reader)
        for bucket in try reader.buckets() {
            try reader.forEach(bucket) { k, v, _, _ in
                switch bucket.name {
                case EtcdSchema.keyBucket:
                    _ = EtcdSchema.parseRevisionKey(k)
                    _ = try? EtcdProto.decodeKeyValue(v)
                case EtcdSchema.leaseBucket: _ = try? EtcdProto.decodeLease(v)
                case EtcdSchema.alarmBucket: _ = try? EtcdProto.decodeAlarm(k)
                default: break
                }
            }
        }
    } catch is BoltReadError {
    } catch {
        fatalError("bolt-fuzz: the bbolt reader threw \(error)")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func boltFuzzEntry(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    boltFuzzOneInput(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size))
    return 0
}

@main
enum BoltFuzzMain {
    static func main() { FuzzDriver.run { boltFuzzEntry($0, $1) } }
}
