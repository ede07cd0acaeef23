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
    /// A trim at least this often (nanoseconds of commits) while the file is
    /// worth trimming.
    var intervalNanos: UInt64 = 1_000_000_000
    /// Sooner when the process's file-backed resident memory grew by this
    /// much since the last trim: with random keys, a second of commits maps
    /// most of the file back (each fault maps its cached neighbours too).
    var residentGrowthBytes: Int = 32 << 20
    /// How often (nanoseconds of commits) that growth is looked at: one read
    /// of /proc/self/statm each.
    var checkNanos: UInt64 = 10_000_000

    /// True when a commit at `now` may look at the file again (the last look was at `lastLook`).
    func isDue(now: UInt64, lastLook: UInt64) -> Bool {
        now &- lastLook >= checkNanos
    }

    /// True when a commit at `now` should trim: the interval since the last
    /// trim has passed, or file-backed residency grew by `residentGrowthBytes`
    /// from `residentAfterTrim` (nil when the process's residency is unknown).
    func isTrimDue(now: UInt64, lastTrim: UInt64, resident: Int?, residentAfterTrim: Int?) -> Bool {
        if now &- lastTrim >= intervalNanos { return true }
        guard let resident, let residentAfterTrim else { return false }
        return resident - residentAfterTrim >= residentGrowthBytes
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
/// Trims are driven by commits (a read-only load never pays for re-faulting):
/// once per `MapTrimPolicy.intervalNanos`, or sooner when the process's
/// file-backed residency (/proc/self/statm, looked at every
/// `MapTrimPolicy.checkNanos`) grew by `MapTrimPolicy.residentGrowthBytes`
/// since the last trim. Writer thread only.
final class MapResidency {
    let policy: MapTrimPolicy
    private var lastLook: UInt64
    private var lastTrim: UInt64
    private var residentAfterTrim: Int?
    private let pageBytes = Int(sysconf(Int32(_SC_PAGESIZE)))
    /// /proc/self/statm, kept open and re-read with pread (-1: unavailable).
    private let statm: Int32

    init(policy: MapTrimPolicy = MapTrimPolicy()) {
        self.policy = policy
        lastLook = MonotonicClock.nanoseconds()
        lastTrim = lastLook
        statm = open("/proc/self/statm", O_RDONLY | O_CLOEXEC)
        residentAfterTrim = Self.residentFileBytes(statm, pageBytes: pageBytes)
    }

    deinit {
        if statm >= 0 { close(statm) }
    }

    /// Called by the writer after a commit on `env` (which must stay open during the call).
    func afterCommit(_ env: OpaquePointer) {
        let now = MonotonicClock.nanoseconds()
        guard policy.isDue(now: now, lastLook: lastLook) else { return }
        lastLook = now
        let resident = Self.residentFileBytes(statm, pageBytes: pageBytes)
        guard policy.isTrimDue(now: now, lastTrim: lastTrim, resident: resident,
                               residentAfterTrim: residentAfterTrim) else { return }
        lastTrim = now
        var info = MDB_envinfo()
        guard mdb_env_info(env, &info) == 0 else { return }
        let pages = info.me_last_pgno.addingReportingOverflow(1).partialValue
        let used = pages.multipliedReportingOverflow(by: pageBytes).partialValue
        guard policy.worthTrimming(usedBytes: used) else {
            residentAfterTrim = resident
            return
        }
        // Looked up each time rather than kept: a defragment or restore swaps
        // the environment, and a stale address could name other memory.
        guard let map = Self.mapping(of: env) else { return }
        _ = madvise(UnsafeMutableRawPointer(bitPattern: map.lowerBound), min(used, map.count), MADV_DONTNEED)
        residentAfterTrim = Self.residentFileBytes(statm, pageBytes: pageBytes)
    }

    /// The process's resident file-backed (and shared) memory in bytes:
    /// statm's third field, or nil if it cannot be read.
    static func residentFileBytes(_ fd: Int32, pageBytes: Int) -> Int? {
        guard fd >= 0 else { return nil }
        var buf = [UInt8](repeating: 0, count: 128)
        let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        return statmShared(buf[0..<n]).map { $0 * pageBytes }
    }

    /// The third field (shared pages) of a /proc/PID/statm line
    /// ("size resident shared text lib data dt").
    static func statmShared(_ line: ArraySlice<UInt8>) -> Int? {
        let fields = line.split(whereSeparator: { $0 == 0x20 || $0 == 0x0A })
        guard fields.count >= 3 else { return nil }
        var v = 0
        for c in fields[2] {
            guard c >= 0x30 && c <= 0x39 else { return nil }
            v = v &* 10 &+ Int(c - 0x30)
        }
        return v
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
