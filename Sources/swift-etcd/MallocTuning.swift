#if canImport(Glibc)
import Glibc
#endif

/// Keeps glibc from handing a thread arena's free top back to the kernel
/// after every large answer.
///
/// A Kubernetes-style list page (limit 500, 1 KiB values) is ~0.5 MB encoded,
/// and its output buffer another 0.5 MB. With glibc's defaults the mmap
/// threshold rises to the largest such buffer freed and the trim threshold to
/// twice that, so freeing one page's buffers left a ~1.5 MB free top in the
/// event loop's arena, which glibc returned with `madvise(MADV_DONTNEED)`;
/// the next page faulted all of it back in, zeroed: ~1,000 madvise calls and
/// 260,000 page faults in 15 s of the k8s benchmark, ~10 % of the server's CPU
/// in `clear_page`. Fixed thresholds instead: buffers up to `mmapThreshold`
/// come from the arenas, and a free top is returned once it exceeds
/// `trimThreshold`. A burst of large buffers is still given back by
/// `MemoryTrim` (GRPCWire) when its connection goes.
enum MallocTuning {
    static let mmapThreshold: Int32 = 1 << 20
    static let trimThreshold: Int32 = 4 << 20
    private typealias MalloptFunction = @convention(c) (Int32, Int32) -> Int32

    /// Looked up at run time, as `malloc_trim` is: Glibc's Swift module does not export it.
    static func apply() {
        #if canImport(Glibc)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: MalloptFunction.self)
        _ = mallopt(-1, trimThreshold)  // M_TRIM_THRESHOLD
        _ = mallopt(-3, mmapThreshold)  // M_MMAP_THRESHOLD
        #endif
    }
}
