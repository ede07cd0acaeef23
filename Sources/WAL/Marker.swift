/// A snapshot's position in the log, as recorded in the WAL. Opening the WAL
/// "from" a marker returns the state written after it.
public struct WALSnapshotMarker: Sendable, Hashable, CustomStringConvertible {
    public var index: UInt64
    public var term: UInt64

    public init(index: UInt64, term: UInt64) {
        self.index = index
        self.term = term
    }

    /// The start of the log (no snapshot).
    public static let zero = WALSnapshotMarker(index: 0, term: 0)

    public var description: String { "(term \(term), index \(index))" }
}
