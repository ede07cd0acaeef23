
/// Fills the stack below the caller with words that look like a live object
/// header (metadata 0x400000003, strong count 3), so a stack object the
/// optimiser never initialised fails the runtime's retain-count check.
@inline(never) func poisonStack() {
    withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 4096) { buf in
        for i in buf.indices { buf[i] = 0x4_0000_0003 }
        blackHole(buf.baseAddress!)
    }
}
@inline(never) func blackHole(_ p: UnsafeMutablePointer<UInt64>) { if p[0] == 1 { print("") } }
let fs: any WALFileSystem = PosixFileSystem()
let path = CommandLine.arguments[1]
poisonStack()
let bytes = try fs.readFile(path)
print("read \(bytes.count) bytes")
