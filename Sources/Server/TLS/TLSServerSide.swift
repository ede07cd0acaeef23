import GRPCWire
import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// The TLS layer of one listener: on each accepted connection it adds a
/// BoringSSL server handler (certificates from the side's
/// `TLSCertificateStore`) and a `TLSHandshakeGuard`, under whatever the
/// listener speaks (HTTP/2 and HTTP/1.1 via GRPCWire, or peer frames).
///
/// Beyond chain verification, `policy` applies etcd's checks on the
/// remote certificate during the handshake (`RemoteCertificatePolicy`); a
/// refused handshake closes only that connection.
struct TLSServerSide: Sendable {
    let store: TLSCertificateStore
    let kind: TLSListenerKind
    let policy: RemoteCertificatePolicy
    /// Announce the verified client certificate's CN to GRPCWire (`--client-cert-auth`).
    let announceCommonName: Bool
    let handshakeTimeout: TimeAmount
    let logger: Logger
    var resolver: RemoteCertificatePolicy.Resolver = .system

    /// The GRPCWire hook (`GRPCServerConfig.connectionInitializer`) and the peer listener's first step.
    func initialize(_ channel: any Channel) -> EventLoopFuture<Void> {
        store.contexts(on: channel.eventLoop).flatMapThrowing { contexts in
            guard let context = contexts.server[kind] else { throw TLSMaterial.LoadError(description: "no TLS context for \(kind)") }
            let guardHandler = TLSHandshakeGuard(timeout: handshakeTimeout, logger: logger)
            let crl = contexts.material.crl
            let tls: NIOSSLServerHandler
            if store.security.requiresClientCertificate, policy.refusesInHandshake, let roots = contexts.material.trustedRoots {
                let verifier = HandshakeVerifier(roots: roots, purpose: .clientAuth, policy: policy, crl: crl, resolver: resolver)
                tls = NIOSSLServerHandler(context: context,
                                          customVerificationCallback: inHandshake(verifier, channel: channel, guardHandler: guardHandler))
            } else if store.security.requiresClientCertificate && (announceCommonName || policy.hasChecks(crl: crl)) {
                let check = self.check(crl: crl, guardHandler: guardHandler)
                tls = NIOSSLServerHandler._makeSSLServerHandler(context: context, additionalPeerCertificateVerificationCallback: check)
            } else {
                tls = NIOSSLServerHandler(context: context)
            }
            try channel.pipeline.syncOperations.addHandler(tls)
            try channel.pipeline.syncOperations.addHandler(guardHandler)
        }.recover { error in
            logger.warning("closing connection: TLS not available", metadata: ["error": "\(error)"])
            channel.close(promise: nil)
        }
    }

    /// With `--*-cert-allowed-cn` / `-hostname` the whole verification runs
    /// inside the handshake (`HandshakeVerifier`), so a refused client gets
    /// an alert as from etcd; the reason and CN go to the guard.
    private func inHandshake(_ verifier: HandshakeVerifier, channel: any Channel, guardHandler: TLSHandshakeGuard)
        -> NIOSSLCustomVerificationCallback
    {
        let loop = channel.eventLoop
        let guardBox = NIOLoopBound(guardHandler, eventLoop: loop)
        let remoteIP = channel.remoteAddress?.ipAddress
        return { chain, promise in
            Task {
                let outcome = await verifier.verify(chain: chain, remoteIP: remoteIP)
                loop.execute {
                    guardBox.value.commonName = outcome.commonName
                    guardBox.value.refusal = outcome.refusal
                    promise.succeed(outcome.refusal == nil ? .certificateVerified : .failed)
                }
            }
        }
    }

    /// etcd's extra checks on a certificate BoringSSL verified; the CN is
    /// kept for the guard to announce once the handshake completes.
    private func check(crl: CertificateRevocationList?, guardHandler: TLSHandshakeGuard)
        -> _NIOAdditionalPeerCertificateVerificationCallback
    {
        let policy = self.policy, resolver = self.resolver, announce = announceCommonName
        return { certificate, channel in
            let loop = channel.eventLoop
            let facts: CertificateFacts
            do { facts = try CertificateFacts(der: certificate.toDERBytes()) } catch {
                return loop.makeFailedFuture(TLSRefusal(reason: "malformed certificate: \(error)"))
            }
            if announce { guardHandler.commonName = facts.commonName }
            let remoteIP = channel.remoteAddress?.ipAddress
            if let reason = policy.immediateError(facts, crl: crl, remoteIP: remoteIP) {
                return loop.makeFailedFuture(TLSRefusal(reason: reason))
            }
            guard let remoteIP, policy.needsLookup(facts, remoteIP: remoteIP) else { return loop.makeSucceededVoidFuture() }
            // DNS SANs: the lookups block, so they run on NIO's blocking pool.
            let promise = loop.makePromise(of: Void.self)
            NIOThreadPool.singleton.submit { _ in
                if let reason = policy.dnsSANError(facts, remoteIP: remoteIP, resolver: resolver) {
                    promise.fail(TLSRefusal(reason: reason))
                } else {
                    promise.succeed()
                }
            }
            return promise.futureResult
        }
    }
}

/// Why a remote certificate was refused (logged as etcd's "rejected connection").
struct TLSRefusal: Error, CustomStringConvertible {
    let reason: String
    var description: String { reason }
}
