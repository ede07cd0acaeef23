import NIOCore
import NIOSSL

/// TLS for connections this member opens to `https://` peer URLs (Raft
/// stream, snapshot transfer, member discovery, probes): it presents
/// `--peer-client-cert-file` (else `--peer-cert-file`), trusts
/// `--peer-trusted-ca-file` (else the system roots; nothing is verified
/// with `--peer-auto-tls`, as etcd), checks the server certificate against
/// the URL's host, and applies `--peer-cert-allowed-cn` / `-hostname` to it
/// within the handshake as etcd's peer transport does (the listener then
/// sees a TLS alert, "remote error: tls: bad certificate" in etcd's log).
/// As in etcd 3.5, `--peer-crl-file` is not applied to the servers dialed.
struct TLSClientSide: Sendable {
    let store: TLSCertificateStore
    let policy: RemoteCertificatePolicy

    /// Adds the client TLS handler first in `channel`'s pipeline and, after
    /// it, the handler that reports its failures in etcd's words.
    func initialize(_ channel: any Channel, host: String) -> EventLoopFuture<Void> {
        let policy = self.policy, verify = !store.selfSigned
        return store.contexts(on: channel.eventLoop).flatMapThrowing { contexts in
            // An IP literal is matched against the connected address; only names go in SNI.
            let serverName = IPAddressText.parse(host) == nil ? host : nil
            let errors = TLSDialErrors()
            let handler: NIOSSLClientHandler
            if verify, policy.refusesInHandshake, let roots = contexts.material.trustedRoots {
                let verifier = HandshakeVerifier(roots: roots, purpose: .serverAuth, policy: policy, crl: nil)
                let loop = channel.eventLoop
                let box = NIOLoopBound(errors, eventLoop: loop)
                handler = try NIOSSLClientHandler(context: contexts.client, serverHostname: serverName,
                                                  customVerificationCallback: { chain, promise in
                    Task {
                        let outcome = await verifier.verify(chain: chain, remoteIP: nil)
                        loop.execute {
                            box.value.refusal = outcome.refusal
                            promise.succeed(outcome.refusal == nil ? .certificateVerified : .failed)
                        }
                    }
                })
            } else if verify && policy.refusesInHandshake {
                // System roots (no --peer-trusted-ca-file): BoringSSL verifies
                // the chain; etcd's check follows the handshake.
                handler = try NIOSSLClientHandler._makeSSLClientHandler(
                    context: contexts.client, serverHostname: serverName,
                    additionalPeerCertificateVerificationCallback: { certificate, channel in
                        let facts: CertificateFacts
                        do { facts = try CertificateFacts(der: certificate.toDERBytes()) } catch {
                            return channel.eventLoop.makeFailedFuture(TLSRefusal(reason: "malformed certificate: \(error)"))
                        }
                        if let reason = policy.immediateError(facts, crl: nil, remoteIP: nil) {
                            return channel.eventLoop.makeFailedFuture(TLSRefusal(reason: reason))
                        }
                        return channel.eventLoop.makeSucceededVoidFuture()
                    })
            } else {
                handler = try NIOSSLClientHandler(context: contexts.client, serverHostname: serverName)
            }
            try channel.pipeline.syncOperations.addHandler(handler, position: .first)
            try channel.pipeline.syncOperations.addHandler(errors, position: .after(handler))
        }
    }
}

/// Right after a dialer's TLS handler: passes its errors on as
/// `TLSRefusal`s in etcd's words (our own refusal's reason, or Go's text
/// for the alert the server sent).
final class TLSDialErrors: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    /// Set by the in-handshake check when it refused the server's certificate.
    var refusal: String?

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if error is TLSRefusal { context.fireErrorCaught(error); return }
        if error is NIOSSLError || error is BoringSSLError {
            context.fireErrorCaught(TLSRefusal(reason: refusal ?? TLSErrorText.describe(error)))
            return
        }
        context.fireErrorCaught(error)
    }
}
