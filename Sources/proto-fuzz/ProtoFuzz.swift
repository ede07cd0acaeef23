// libFuzzer target for the decoder: every input is decoded as every message type;
// whatever decodes must re-encode and decode to the same bytes.
//
// Fuzz (libFuzzer linked in; main runs its driver; `make fuzz-libfuzzer` does both targets):
//   swift build -c release --product proto-fuzz -Xswiftc -sanitize=fuzzer -Xswiftc -DPROTO_LIBFUZZER
//   mkdir -p /tmp/proto-corpus && .build/release/proto-fuzz /tmp/proto-corpus -max_total_time=60
// Replay (a plain build): .build/debug/proto-fuzz crash-file...
import Proto

#if canImport(Glibc)
import Glibc
#endif

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

#if PROTO_LIBFUZZER
/// libFuzzer's driver entry (LLVM ≥ 11). SwiftPM links executables to call the
/// target's own main, so that main hands control to libFuzzer.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

@main
enum ProtoFuzzMain {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { protoFuzzOneInput($0, $1) })
    }
}
#else
/// Plain builds: replays the files named on the command line (e.g. libFuzzer crash files).
@main
enum ProtoFuzzReplay {
    static func main() {
        for path in CommandLine.arguments.dropFirst() {
            guard let file = fopen(path, "rb") else {
                print("cannot open \(path)")
                exit(1)
            }
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = fread(&chunk, 1, chunk.count, file)
                if count <= 0 { break }
                bytes += chunk[0..<count]
            }
            fclose(file)
            _ = bytes.withUnsafeBufferPointer { protoFuzzOneInput($0.baseAddress, $0.count) }
            print("\(path): ok")
        }
    }
}
#endif
