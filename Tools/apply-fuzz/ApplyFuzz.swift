// libFuzzer target for the apply path: each input is split into committed entries
// (InternalRaftRequest bytes or garbage) and applied to one member's store; nothing
// may trap. See scripts/fuzz/README.md.
//
// Fuzz: `make fuzz-libfuzzer` (libFuzzer linked in, -DLIBFUZZER, -enable-testing for
// `@testable import Server`). Replay (a plain debug build): .build/debug/apply-fuzz crash-file...
// A seeded loop over the same entry point runs in `make test` (ApplyFuzzTests).
import FuzzSupport

/// The harness is reused across inputs (a fresh LMDB per input would dominate the
/// run); the store only grows, which is what a long-lived member sees too.
nonisolated(unsafe) private var shared: ApplyHarness?

/// Splits the input at 0xFE 0xFE markers into entries and applies them as one batch.
func applyFuzzOneInput(_ bytes: UnsafeRawBufferPointer) {
    if shared == nil { shared = try? ApplyHarness() }
    guard let harness = shared else { fatalError("apply-fuzz: cannot open a store") }
    var entries: [[UInt8]] = [[]]
    var i = 0
    while i < bytes.count {
        if i + 1 < bytes.count, bytes[i] == 0xFE, bytes[i + 1] == 0xFE {
            entries.append([])
            i += 2
            continue
        }
        entries[entries.count - 1].append(bytes[i])
        i += 1
    }
    harness.apply(batch: entries)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func applyFuzzEntry(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    applyFuzzOneInput(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size))
    return 0
}

@main
enum ApplyFuzzMain {
    static func main() { FuzzDriver.run { applyFuzzEntry($0, $1) } }
}
