import SwiftASN1

/// The serial numbers an X.509 CRL revokes (`--client-crl-file`,
/// `--peer-crl-file`). As etcd does, only the serials are read: the CRL's
/// signature and dates are not checked, and a listed serial is refused
/// whichever CA issued it.
struct CertificateRevocationList: Sendable, Equatable {
    /// Serials as unsigned big-endian magnitudes (no leading zero bytes).
    let revokedSerials: Set<[UInt8]>

    struct ParseError: Error, CustomStringConvertible {
        let description: String
    }

    /// Parses a PEM (`-----BEGIN X509 CRL-----`) or DER CRL, as Go's `x509.ParseCRL`.
    init(bytes: [UInt8]) throws {
        var der = bytes
        if bytes.starts(with: Array("-----BEGIN X509 CRL".utf8)) {
            guard let document = PEMBlocks.parse(bytes).first(where: { $0.discriminator == "X509 CRL" })
            else { throw ParseError(description: "x509: failed to parse CRL: malformed PEM") }
            der = document.derBytes
        }
        do { revokedSerials = try Self.serials(der: der) } catch let error as ParseError { throw error } catch {
            throw ParseError(description: "x509: malformed crl: \(error)")
        }
    }

    init(revokedSerials: Set<[UInt8]>) { self.revokedSerials = revokedSerials }

    func isRevoked(serial: some Collection<UInt8>) -> Bool {
        revokedSerials.contains(Self.magnitude(serial))
    }

    /// etcd's refusal text (`%x` of the serial's magnitude).
    static func revokedText(serial: some Collection<UInt8>) -> String {
        let digits = Array("0123456789abcdef")
        let hex = magnitude(serial).flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xf)]] }
        return "transport: certificate serial \(String(hex)) revoked"
    }

    /// CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signature }
    /// TBSCertList ::= SEQUENCE { version INTEGER OPTIONAL, signature AlgorithmIdentifier,
    ///   issuer Name, thisUpdate Time, nextUpdate Time OPTIONAL,
    ///   revokedCertificates SEQUENCE OF SEQUENCE { userCertificate INTEGER, … } OPTIONAL,
    ///   crlExtensions [0] OPTIONAL }
    private static func serials(der: [UInt8]) throws -> Set<[UInt8]> {
        let root = try DER.parse(der)
        guard let top = children(root), let tbsNode = top.first, var fields = children(tbsNode).map(ArraySlice.init) else {
            throw ParseError(description: "x509: malformed crl")
        }
        if fields.first?.identifier == .integer { fields = fields.dropFirst() }  // version
        // signature AlgorithmIdentifier and issuer Name
        guard fields.count >= 3, fields[fields.startIndex].identifier == .sequence,
              fields[fields.startIndex + 1].identifier == .sequence else { throw ParseError(description: "x509: malformed crl") }
        fields = fields.dropFirst(2)
        func isTime(_ n: ASN1Node) -> Bool { n.identifier == .utcTime || n.identifier == .generalizedTime }
        guard let thisUpdate = fields.first, isTime(thisUpdate) else { throw ParseError(description: "x509: malformed crl") }
        fields = fields.dropFirst()
        if let next = fields.first, isTime(next) { fields = fields.dropFirst() }
        var out = Set<[UInt8]>()
        guard let list = fields.first, list.identifier == .sequence, let entries = children(list) else { return out }
        for entry in entries {
            guard let parts = children(entry), let serial = parts.first, serial.identifier == .integer,
                  case .primitive(let bytes) = serial.content else { throw ParseError(description: "x509: malformed crl entry") }
            out.insert(magnitude(bytes))
        }
        return out
    }

    private static func children(_ node: ASN1Node) -> [ASN1Node]? {
        guard case .constructed(let nodes) = node.content else { return nil }
        return Array(nodes)
    }

    /// Go compares `SerialNumber.Bytes()`: the magnitude without leading zeros.
    static func magnitude(_ bytes: some Collection<UInt8>) -> [UInt8] {
        Array(bytes.drop(while: { $0 == 0 }))
    }
}
