import CLMDB
import Support
#if canImport(Glibc)
import Glibc
#endif

/// When the writer drops this process's mappings of data.mdb (pure logic, see `MapResidency`).
struct MapTrimPolicy: Sendable, Equatable {
    /// Smallest used part of the file worth trimming: below it the whole file
    /// is a small, fixed cost and trimming would only add page faults.
    var minimumUsedBytes: Int = 64 << 20
    /// At most one trim per this many nanoseconds of commits.
    var intervalNanos: UInt64 = 1_000_000_000

    /// True when a commit at `now` may look at the file again (the last look was at `lastLook`).
    func isDue(now: UInt64, lastLook: UInt64) -> Bool {
        now &- lastLook >= intervalNanos
    }

    /// True when `usedBytes` of the file in use are worth trimming.
    func worthTrimming(usedBytes: Int) -> Bool {
        usedBytes >= minimumUsedBytes
    }
}

/// Keeps the resident part of LMDB's read-only map near what reads and
/// writes actually use.
///
/// Why: on every page fault in a file mapping Linux also maps the up to 15
/// neighbouring pages that are in the page cache ("fault-around"), whatever
/// `madvise(MADV_RANDOM)` says. Each commit writes its pages with `pwrite`
/// (so the page cache holds the whole file) and the next one reads the
/// touched B-tree pages through the map, so while keys are written the map
/// ends up mapping nearly all of data.mdb: at 1,000,000 keys 420 of our
/// 513 MB of RSS were data.mdb pages no request needed.
/// `MADV_DONTNEED` on a shared file mapping only unmaps: the data stays in
/// the page cache (dirty pages stay dirty) and the next read maps it back
/// with a minor fault, so it is safe with concurrent readers.
///
/// Trims are driven by commits (a read-only load never pays for re-faulting)
/// and at most once per `MapTrimPolicy.intervalNanos`. Writer thread only.
final class MapResidency {
    let policy: MapTrimPolicy
    private var lastLook: UInt64
    private let pageBytes = Int(sysconf(Int32(_SC_PAGESIZE)))

    init(policy: MapTrimPolicy = MapTrimPolicy()) {
        self.policy = policy
        lastLook = MonotonicClock.nanoseconds()
    }

    /// Called by the writer after a commit on `env` (which must stay open during the call).
    func afterCommit(_ env: OpaquePointer) {
        let now = MonotonicClock.nanoseconds()
        guard policy.isDue(now: now, lastLook: lastLook) else { return }
        lastLook = now
        var info = MDB_envinfo()
        guard mdb_env_info(env, &info) == 0 else { return }
        let pages = info.me_last_pgno.addingReportingOverflow(1).partialValue
        let used = pages.multipliedReportingOverflow(by: pageBytes).partialValue
        guard policy.worthTrimming(usedBytes: used) else { return }
        // Looked up each time rather than kept: a defragment or restore swaps
        // the environment, and a stale address could name other memory.
        guard let map = Self.mapping(of: env) else { return }
        _ = madvise(UnsafeMutableRawPointer(bitPattern: map.lowerBound), min(used, map.count), MADV_DONTNEED)
    }

    /// The addresses of the mapping of `env`'s data file, from /proc/self/maps
    /// (matched by inode and file name; LMDB reports its map address only for
    /// MDB_FIXEDMAP), or nil when it cannot be found.
    static func mapping(of env: OpaquePointer) -> Range<UInt>? {
        var fd: mdb_filehandle_t = -1
        var st = stat()
        guard mdb_env_get_fd(env, &fd) == 0, fstat(fd, &st) == 0 else { return nil }
        guard let maps = fopen("/proc/self/maps", "r") else { return nil }
        defer { fclose(maps) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, maps) > 0, let line {
            if let range = mappingRange(String(cString: line), inode: UInt64(st.st_ino)) { return range }
        }
        return nil
    }

    /// The addresses of a /proc/self/maps line ("start-end perms offset
    /// dev inode path") mapping data.mdb with `inode` from offset 0, else nil.
    static func mappingRange(_ line: String, inode: UInt64) -> Range<UInt>? {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        let path = line.hasSuffix("\n") ? line.dropLast() : Substring(line)
        guard fields.count >= 6, UInt64(fields[4]) == inode, UInt64(fields[2], radix: 16) == 0,
              path.hasSuffix("/data.mdb"),
              let dash = fields[0].firstIndex(of: "-"),
              let start = UInt(fields[0][..<dash], radix: 16),
              let end = UInt(fields[0][fields[0].index(after: dash)...], radix: 16), start < end else { return nil }
        return start..<end
    }
}
