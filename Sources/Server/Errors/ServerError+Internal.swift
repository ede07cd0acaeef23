import GRPCWire

extension ServerError {
    /// A maintenance operation failed on this member (I/O, a bad copy).
    static func internalError(_ message: String) -> ServerError {
        ServerError(code: .internal, message: message)
    }
}
