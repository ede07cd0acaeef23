// The entry point shared by the libFuzzer targets (proto-fuzz, apply-fuzz).
//
// Built with `-Xswiftc -sanitize=fuzzer -Xswiftc -DLIBFUZZER` (`make fuzz-libfuzzer`),
// `run` hands control to libFuzzer's driver; in a plain build it replays the files
// named on the command line (libFuzzer's crash files) through the same callback.
import Foundation

#if canImport(Glibc)
import Glibc
#endif

public typealias FuzzCallback = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

#if LIBFUZZER
/// libFuzzer's driver entry (LLVM ≥ 11). SwiftPM links executables to call the
/// target's own main, so that main hands control to libFuzzer.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: FuzzCallback
) -> CInt
#endif

public enum FuzzDriver {
    public static func run(_ callback: FuzzCallback) -> Never {
        #if LIBFUZZER
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, callback))
        #else
        for path in CommandLine.arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                print("cannot open \(path)")
                exit(1)
            }
            _ = [UInt8](data).withUnsafeBufferPointer { callback($0.baseAddress, $0.count) }
            print("\(path): ok")
        }
        exit(0)
        #endif
    }
}
