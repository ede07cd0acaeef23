import MVCC
import NIOCore
import Support

/// The leader's side of a transfer's checksums: each chunk carries the
/// SHA-256 of every byte sent so far (a copy of the running hasher is
/// finalized), the end frame the digest of the whole file. Pure.
struct SnapshotChunkSigner {
    private var hasher = SHA256()
    /// Bytes signed so far: the next chunk's offset.
    private(set) var offset: UInt64 = 0

    mutating func chunk(_ bytes: ByteBuffer) -> SnapshotFrame {
        bytes.withUnsafeReadableBytes { hasher.update($0) }
        var prefix = hasher
        let frame = SnapshotFrame.chunk(offset: offset, digest: prefix.finalize(), bytes: bytes)
        offset += UInt64(bytes.readableBytes)
        return frame
    }

    func end() -> SnapshotFrame {
        var whole = hasher
        return .end(totalBytes: offset, digest: whole.finalize())
    }
}

/// The follower's side of a transfer, without I/O: checks that chunks come
/// in order, that each running digest matches, and that the end frame
/// covers exactly the announced size with the matching digest. The caller
/// writes a chunk to the file only on `.accept`, and installs the file only
/// on `.complete`.
///
/// States: `awaitingBegin` → `receiving` (bytes counted and hashed) →
/// `complete`; any mismatch → `failed` (terminal: every later frame fails).
struct SnapshotReceiveState {
    enum Phase: Equatable { case awaitingBegin, receiving, complete, failed }

    enum Action: Equatable {
        case accept
        case fail(String)
        case complete
    }

    /// Larger announced databases are refused before anything is written.
    static let maxTotalBytes: UInt64 = 1 << 40

    private(set) var phase = Phase.awaitingBegin
    private(set) var totalBytes: UInt64 = 0
    private(set) var receivedBytes: UInt64 = 0
    private var hasher = SHA256()

    mutating func begin(totalBytes: UInt64) -> Action {
        guard phase == .awaitingBegin else { return fail("snapshot begin frame out of order") }
        guard totalBytes > 0, totalBytes <= Self.maxTotalBytes else { return fail("snapshot of \(totalBytes) bytes refused") }
        self.totalBytes = totalBytes
        phase = .receiving
        return .accept
    }

    mutating func chunk(offset: UInt64, digest: [UInt8], bytes: UnsafeRawBufferPointer) -> Action {
        guard phase == .receiving else { return fail("snapshot chunk out of order") }
        guard offset == receivedBytes else { return fail("snapshot chunk at offset \(offset), expected \(receivedBytes)") }
        guard UInt64(bytes.count) <= totalBytes - receivedBytes else {
            return fail("snapshot chunk runs past the announced \(totalBytes) bytes")
        }
        hasher.update(bytes)
        var prefix = hasher
        guard prefix.finalize() == digest else { return fail("snapshot chunk at offset \(offset): checksum mismatch") }
        receivedBytes += UInt64(bytes.count)
        return .accept
    }

    mutating func end(totalBytes: UInt64, digest: [UInt8]) -> Action {
        guard phase == .receiving else { return fail("snapshot end frame out of order") }
        guard totalBytes == self.totalBytes, receivedBytes == totalBytes else {
            return fail("snapshot ended after \(receivedBytes) of \(self.totalBytes) bytes")
        }
        var whole = hasher
        guard whole.finalize() == digest else { return fail("snapshot checksum mismatch") }
        phase = .complete
        return .complete
    }

    private mutating func fail(_ reason: String) -> Action {
        phase = .failed
        return .fail(reason)
    }
}
