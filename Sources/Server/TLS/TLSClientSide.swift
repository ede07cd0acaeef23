import NIOCore
import NIOSSL

/// TLS for connections this member opens to `https://` peer URLs (Raft
/// stream, snapshot transfer, member discovery, probes): it presents
/// `--peer-client-cert-file` (else `--peer-cert-file`), trusts
/// `--peer-trusted-ca-file` (else the system roots; nothing is verified
/// with `--peer-auto-tls`, as etcd), checks the server certificate against
/// the URL's host, and applies `--peer-cert-allowed-cn` / `-hostname` to it
/// as etcd's peer transport does.
struct TLSClientSide: Sendable {
    let store: TLSCertificateStore
    let policy: RemoteCertificatePolicy

    /// Adds the client TLS handler first in `channel`'s pipeline.
    func initialize(_ channel: any Channel, host: String) -> EventLoopFuture<Void> {
        let policy = self.policy, verify = !store.selfSigned
        return store.contexts(on: channel.eventLoop).flatMapThrowing { contexts in
            // An IP literal is matched against the connected address; only names go in SNI.
            let serverName = IPAddressText.parse(host) == nil ? host : nil
            let handler: NIOSSLClientHandler
            if verify && (!policy.allowedCN.isEmpty || !policy.allowedHostname.isEmpty) {
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
        }
    }
}
