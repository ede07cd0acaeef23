// libFuzzer target for the decoder: every input is decoded as every message type;
// whatever decodes must re-encode and decode to the same bytes.
//
// Fuzz: `make fuzz-libfuzzer` (libFuzzer linked in, -DLIBFUZZER; FuzzDriver runs its driver).
// Replay (a plain build): .build/debug/proto-fuzz crash-file...
import FuzzSupport
import Proto

@_cdecl("LLVMFuzzerTestOneInput")
public func protoFuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    for type in ProtoMessageTypes.all {
        guard let message = try? type.init(serializedBytes: input) else { continue }
        let encoded = message.serializedBytes()
        guard let again = try? type.init(serializedBytes: encoded), again.serializedBytes() == encoded else {
            fatalError("\(type.protoMessageName): decode → encode → decode is not stable")
        }
    }
    return 0
}

@main
enum ProtoFuzzMain {
    static func main() { FuzzDriver.run { protoFuzzOneInput($0, $1) } }
}
