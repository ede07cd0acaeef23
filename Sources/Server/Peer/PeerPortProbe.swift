#if canImport(Glibc)
import Glibc
#endif
import NIOCore

/// Checks that the peer port can be bound before the data dir is touched,
/// and words a bind failure as etcd does
/// (`listen tcp 127.0.0.1:2380: bind: address already in use`).
enum PeerPortProbe {
    /// Binds a socket (SO_REUSEADDR, as the listener) and closes it without
    /// listening: a listening probe could accept a peer's connection attempt,
    /// and the accepted socket would then hold the port against the listener.
    static func check(_ listener: ServerOptions.Listener, reusePort: Bool = false) throws {
        let address: SocketAddress
        do { address = try SocketAddress.makeAddressResolvingHost(listener.host, port: listener.port) } catch {
            throw describe(error, listener)
        }
        let fd = socket(Int32(address.protocol.rawValue), Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return }  // the real bind reports it
        defer { close(fd) }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if reusePort { _ = setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, socklen_t(MemoryLayout<Int32>.size)) }
        let rc = address.withSockAddr { bind(fd, $0, socklen_t($1)) }
        if rc != 0 { throw describe(IOError(errnoCode: errno, reason: "bind"), listener) }
    }

    /// Any listener's bind failure (peer, client, metrics) in etcd's words.
    static func describe(_ error: Error, _ listener: ServerOptions.Listener) -> StartupError {
        let address = "\(listener.host):\(listener.port)"
        if let io = error as? IOError, io.errnoCode == EADDRINUSE {
            return StartupError("listen tcp \(address): bind: address already in use")
        }
        if let io = error as? IOError, io.errnoCode == EADDRNOTAVAIL {
            return StartupError("listen tcp \(address): bind: cannot assign requested address")
        }
        return StartupError("listen tcp \(address): \(error)")
    }
}
