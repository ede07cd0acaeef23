/// etcd's checks on the certificate a remote side presents, beyond chain
/// verification (which BoringSSL does against the trusted CA):
///
/// 1. `--peer-cert-allowed-cn` / `--*-cert-allowed-hostname`: during the
///    handshake, "client certificate authentication failed" otherwise.
/// 2. SAN against the remote address (peer and https metrics listeners,
///    unless `--experimental-peer-skip-client-san-verification`): an IP SAN
///    equal to the remote IP, or a DNS SAN resolving to it.
/// 3. The CRL: a revoked serial is refused.
///
/// Pure: the name lookups of step 2 are injected (they block, so callers run
/// them off the event loop; see `needsLookup`).
struct RemoteCertificatePolicy: Sendable, Equatable {
    var allowedCN = ""
    var allowedHostname = ""
    var checkSANAgainstAddress = false

    /// Forward (name → addresses) and reverse (address → names) lookups.
    struct Resolver: Sendable {
        var addresses: @Sendable (String) -> [String]
        var names: @Sendable (String) -> [String]
    }

    /// etcd refuses these within the handshake (Go's `VerifyPeerCertificate`);
    /// the SAN and CRL checks come after it.
    var refusesInHandshake: Bool { !allowedCN.isEmpty || !allowedHostname.isEmpty }

    /// Whether anything needs checking at all (no: skip parsing the certificate).
    func hasChecks(crl: CertificateRevocationList?) -> Bool {
        !allowedCN.isEmpty || !allowedHostname.isEmpty || checkSANAgainstAddress || crl != nil
    }

    /// Steps 1 and 3 and the IP part of 2. nil: accepted; else the reason.
    func immediateError(_ cert: CertificateFacts, crl: CertificateRevocationList?, remoteIP: String?) -> String? {
        if !allowedCN.isEmpty && cert.commonName != allowedCN { return "client certificate authentication failed" }
        if !allowedHostname.isEmpty && cert.hostnameError(allowedHostname) != nil {
            return "client certificate authentication failed"
        }
        if checkSANAgainstAddress, let remoteIP, !needsLookup(cert, remoteIP: remoteIP) {
            if let error = ipSANError(cert, remoteIP: remoteIP) { return error }
        }
        if let crl, crl.isRevoked(serial: cert.serial) {
            return CertificateRevocationList.revokedText(serial: cert.serial)
        }
        return nil
    }

    /// True when step 2 must resolve DNS SANs (no IP SAN matched).
    func needsLookup(_ cert: CertificateFacts, remoteIP: String) -> Bool {
        guard checkSANAgainstAddress, !cert.dnsNames.isEmpty else { return false }
        return cert.ipAddresses.isEmpty || cert.hostnameError(remoteIP) != nil
    }

    /// The IP part of step 2 (no lookups): nil when an IP SAN matches or no SAN applies.
    private func ipSANError(_ cert: CertificateFacts, remoteIP: String) -> String? {
        if cert.ipAddresses.isEmpty && cert.dnsNames.isEmpty { return nil }
        if cert.ipAddresses.isEmpty { return nil }  // DNS SANs: needsLookup handles them
        return cert.hostnameError(remoteIP)
    }

    /// Step 2 with DNS SANs (etcd's `isHostInDNS`): a reverse name of the
    /// remote IP matching a SAN (wildcards by suffix), or a SAN name
    /// resolving to it. Blocking.
    func dnsSANError(_ cert: CertificateFacts, remoteIP: String, resolver: Resolver) -> String? {
        let wildcards = cert.dnsNames.filter { $0.hasPrefix("*.") }.map { String($0.dropFirst()) }
        let names = cert.dnsNames.filter { !$0.hasPrefix("*.") }
        for var reverse in resolver.names(remoteIP) {
            if reverse.hasSuffix(".") { reverse.removeLast() }
            if wildcards.contains(where: { reverse.hasSuffix($0) }) || names.contains(reverse) { return nil }
        }
        let wanted = IPAddressText.parse(remoteIP)
        for name in names {
            for address in resolver.addresses(name) {
                if address == remoteIP { return nil }
                if let wanted, let got = IPAddressText.parse(address), IPAddressText.equal(wanted, got) { return nil }
            }
        }
        let quoted = cert.dnsNames.map { "\"\($0)\"" }.joined(separator: " ")
        return "tls: \"\(remoteIP)\" does not match any of DNSNames [\(quoted)]"
    }
}
