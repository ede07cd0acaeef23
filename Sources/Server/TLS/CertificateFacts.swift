import Foundation
import X509

/// What etcd's checks read from a certificate, parsed with swift-certificates.
struct CertificateFacts: Sendable, Equatable {
    /// Subject CN (the last one, as Go's `pkix.Name` keeps it); "" when absent.
    var commonName: String
    var dnsNames: [String]
    /// IP SANs, 4 or 16 bytes each.
    var ipAddresses: [[UInt8]]
    /// Serial number magnitude (no leading zero bytes).
    var serial: [UInt8]

    init(commonName: String = "", dnsNames: [String] = [], ipAddresses: [[UInt8]] = [], serial: [UInt8] = []) {
        self.commonName = commonName
        self.dnsNames = dnsNames
        self.ipAddresses = ipAddresses
        self.serial = serial
    }

    init(der: [UInt8]) throws {
        try self.init(Certificate(derEncoded: der))
    }

    init(_ certificate: Certificate) throws {
        var cn = ""
        for rdn in certificate.subject {
            for attribute in rdn where attribute.type == .RDNAttributeType.commonName {
                cn = String(attribute.value) ?? cn
            }
        }
        var dns: [String] = []
        var ips: [[UInt8]] = []
        for name in try certificate.extensions.subjectAlternativeNames ?? SubjectAlternativeNames() {
            switch name {
            case .dnsName(let d): dns.append(d)
            case .ipAddress(let octets): ips.append(Array(octets.bytes))
            default: break
            }
        }
        self.init(commonName: cn, dnsNames: dns, ipAddresses: ips,
                  serial: CertificateRevocationList.magnitude(certificate.serialNumber.bytes))
    }

    /// Go's `x509.Certificate.VerifyHostname` (SANs only; no CN fallback):
    /// an IP literal matches an IP SAN, a name a DNS SAN (`*.` matches one
    /// leftmost label). nil when valid, else Go's reason.
    func hostnameError(_ host: String) -> String? {
        var h = host
        if h.hasPrefix("[") && h.hasSuffix("]") { h = String(h.dropFirst().dropLast()) }
        if let ip = IPAddressText.parse(h) {
            if ipAddresses.contains(where: { IPAddressText.equal($0, ip) }) { return nil }
            if ipAddresses.isEmpty { return "x509: cannot validate certificate for \(h) because it doesn't contain any IP SANs" }
            let valid = ipAddresses.map(IPAddressText.format).joined(separator: ", ")
            return "x509: certificate is valid for \(valid), not \(h)"
        }
        let wanted = Self.normalize(h)
        for name in dnsNames where Self.matches(pattern: Self.normalize(name), host: wanted) { return nil }
        if dnsNames.isEmpty { return "x509: certificate is not valid for any names, but wanted to match \(h)" }
        if dnsNames.count == 1 { return "x509: certificate is valid for \(dnsNames[0]), not \(h)" }
        return "x509: certificate is valid for \(dnsNames.joined(separator: ", ")), not \(h)"
    }

    private static func normalize(_ s: String) -> String {
        var out = s.lowercased()
        if out.hasSuffix(".") { out.removeLast() }
        return out
    }

    private static func matches(pattern: String, host: String) -> Bool {
        if pattern == host { return true }
        guard pattern.hasPrefix("*.") else { return false }
        let suffix = pattern.dropFirst(1)  // ".example.com"
        guard host.hasSuffix(suffix) else { return false }
        let label = host.dropLast(suffix.count)
        return !label.isEmpty && !label.contains(".")
    }
}

/// IPv4/IPv6 text ⇄ bytes, for SAN matching.
enum IPAddressText {
    static func parse(_ s: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, s, &v4) == 1 { return withUnsafeBytes(of: v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, s, &v6) == 1 { return withUnsafeBytes(of: v6) { Array($0) } }
        return nil
    }

    /// Equal as addresses: an IPv4 address equals its IPv4-mapped IPv6 form (Go's `net.IP.Equal`).
    static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        v4Mapped(a) == v4Mapped(b)
    }

    private static func v4Mapped(_ a: [UInt8]) -> [UInt8] {
        a.count == 4 ? [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff] + a : a
    }

    static func format(_ bytes: [UInt8]) -> String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        var addr = in6_addr()
        guard bytes.count == 16 else { return bytes.map { String($0, radix: 16) }.joined(separator: ":") }
        withUnsafeMutableBytes(of: &addr) { $0.copyBytes(from: bytes) }
        guard inet_ntop(AF_INET6, &addr, &buffer, socklen_t(buffer.count)) != nil else { return "?" }
        return String(cString: buffer)
    }
}
