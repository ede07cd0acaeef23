import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import SwiftASN1
import X509

/// Verifies the remote certificate chain inside the TLS handshake, as Go
/// does for etcd's `--peer-cert-allowed-cn` / `--*-cert-allowed-hostname`
/// (`tls.Config.VerifyPeerCertificate`): a refused certificate fails the
/// handshake with an alert, so the other side sees a TLS error rather
/// than a connection closed after a completed handshake.
///
/// It stands in for BoringSSL's own chain verification (NIOSSL's custom
/// verification callback replaces it): swift-certificates' `Verifier`
/// checks signatures, validity and CA constraints against the trusted CAs,
/// the leaf's extended key usage is checked as Go checks it, then
/// `RemoteCertificatePolicy` applies etcd's own checks. No cryptography here.
struct HandshakeVerifier: Sendable {
    /// The extended key usage the leaf must allow (a listener verifies
    /// client certificates, a dialer server certificates).
    enum Purpose: Sendable {
        case clientAuth, serverAuth
    }

    let roots: [Certificate]
    let purpose: Purpose
    let policy: RemoteCertificatePolicy
    let crl: CertificateRevocationList?
    var resolver: RemoteCertificatePolicy.Resolver = .system

    /// What the check found: the leaf's CN (announced to gRPC) and the
    /// refusal reason in etcd's words (nil: accepted).
    struct Outcome: Sendable {
        var commonName: String?
        var refusal: String?
    }

    /// The chain as presented (leaf first). `remoteIP` enables the SAN
    /// check of peer listeners; DNS SAN lookups run on NIO's blocking pool.
    func verify(chain: [NIOSSLCertificate], remoteIP: String?, now: Date = Date()) async -> Outcome {
        let certificates: [Certificate]
        do { certificates = try chain.map { try Certificate(derEncoded: $0.toDERBytes()) } } catch {
            return Outcome(refusal: "x509: malformed certificate")
        }
        guard let leaf = certificates.first else { return Outcome(refusal: "tls: no certificate presented") }
        let facts: CertificateFacts
        do { facts = try CertificateFacts(leaf) } catch { return Outcome(refusal: "x509: malformed certificate") }
        if let error = await chainError(leaf: leaf, intermediates: Array(certificates.dropFirst()), now: now) {
            return Outcome(commonName: facts.commonName, refusal: error)
        }
        if let crl, let revoked = certificates.first(where: { crl.isRevoked(serial: $0.serialNumber.bytes) }) {
            let serial = CertificateRevocationList.magnitude(revoked.serialNumber.bytes)
            return Outcome(commonName: facts.commonName, refusal: CertificateRevocationList.revokedText(serial: serial))
        }
        if let reason = policy.immediateError(facts, crl: nil, remoteIP: remoteIP) {
            return Outcome(commonName: facts.commonName, refusal: reason)
        }
        if let remoteIP, policy.needsLookup(facts, remoteIP: remoteIP) {
            let policy = self.policy, resolver = self.resolver
            let reason = try? await NIOThreadPool.singleton.runIfActive {
                policy.dnsSANError(facts, remoteIP: remoteIP, resolver: resolver)
            }
            if let reason { return Outcome(commonName: facts.commonName, refusal: reason) }
        }
        return Outcome(commonName: facts.commonName, refusal: nil)
    }

    /// Go's texts for a chain that does not verify.
    private func chainError(leaf: Certificate, intermediates: [Certificate], now: Date) async -> String? {
        var verifier = Verifier(rootCertificates: CertificateStore(roots)) {
            RFC5280Policy(validationTime: now)
            ExtendedKeyUsagePolicy(purpose: purpose)
        }
        let result = await verifier.validate(leafCertificate: leaf, intermediates: CertificateStore(intermediates))
        guard case .couldNotValidate = result else { return nil }
        if now < leaf.notValidBefore || now > leaf.notValidAfter {
            return "x509: certificate has expired or is not yet valid"
        }
        if !ExtendedKeyUsagePolicy.allows(leaf, purpose: purpose) {
            return "x509: certificate specifies an incompatible key usage"
        }
        return "x509: certificate signed by unknown authority"
    }
}

/// Go's leaf check (`x509.VerifyOptions.KeyUsages`): a leaf with an
/// extended key usage extension must list the purpose or "any"; one
/// without the extension is good for anything. It also claims the
/// critical extensions the chain check does not act on (SAN, EKU).
struct ExtendedKeyUsagePolicy: VerifierPolicy {
    let purpose: HandshakeVerifier.Purpose

    let verifyingCriticalExtensions: [ASN1ObjectIdentifier] = [
        .X509ExtensionID.extendedKeyUsage, .X509ExtensionID.subjectAlternativeName,
    ]

    func chainMeetsPolicyRequirements(chain: UnverifiedCertificateChain) async -> PolicyEvaluationResult {
        Self.allows(chain.leaf, purpose: purpose)
            ? .meetsPolicy : .failsToMeetPolicy(reason: "leaf certificate's extended key usage does not allow \(purpose)")
    }

    static func allows(_ certificate: Certificate, purpose: HandshakeVerifier.Purpose) -> Bool {
        guard let usages = try? certificate.extensions.extendedKeyUsage else {
            // No extension allows every use; one that does not parse allows none.
            return certificate.extensions[oid: .X509ExtensionID.extendedKeyUsage] == nil
        }
        let wanted: ExtendedKeyUsage.Usage = purpose == .clientAuth ? .clientAuth : .serverAuth
        return usages.contains(wanted) || usages.contains(.any)
    }
}
