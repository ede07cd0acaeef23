import NIOCore
import NIOPosix

/// Checks that the peer port can be bound before the data dir is touched,
/// and words a bind failure as etcd does
/// (`listen tcp 127.0.0.1:2380: bind: address already in use`).
enum PeerPortProbe {
    /// Binds and closes at once (start-up only; blocks the calling thread).
    static func check(_ listener: ServerOptions.Listener, group: EventLoopGroup) throws {
        do {
            let channel = try ServerBootstrap(group: group).bind(host: listener.host, port: listener.port).wait()
            try channel.close().wait()
        } catch {
            throw describe(error, listener)
        }
    }

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
