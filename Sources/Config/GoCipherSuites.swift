/// The TLS cipher suite names etcd accepts in `--cipher-suites` (Go's
/// `crypto/tls` names, secure and insecure, plus the two legacy ChaCha20
/// spellings), with their IANA IDs.
public enum GoCipherSuites {
    public static let byName: [String: UInt16] = [
        // tls.CipherSuites()
        "TLS_RSA_WITH_AES_128_CBC_SHA": 0x002F,
        "TLS_RSA_WITH_AES_256_CBC_SHA": 0x0035,
        "TLS_RSA_WITH_AES_128_GCM_SHA256": 0x009C,
        "TLS_RSA_WITH_AES_256_GCM_SHA384": 0x009D,
        "TLS_AES_128_GCM_SHA256": 0x1301,
        "TLS_AES_256_GCM_SHA384": 0x1302,
        "TLS_CHACHA20_POLY1305_SHA256": 0x1303,
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": 0xC009,
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": 0xC00A,
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": 0xC013,
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": 0xC014,
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": 0xC02B,
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": 0xC02C,
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": 0xC02F,
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": 0xC030,
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": 0xCCA8,
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": 0xCCA9,
        // tls.InsecureCipherSuites()
        "TLS_RSA_WITH_RC4_128_SHA": 0x0005,
        "TLS_RSA_WITH_3DES_EDE_CBC_SHA": 0x000A,
        "TLS_RSA_WITH_AES_128_CBC_SHA256": 0x003C,
        "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA": 0xC007,
        "TLS_ECDHE_RSA_WITH_RC4_128_SHA": 0xC011,
        "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA": 0xC012,
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256": 0xC023,
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256": 0xC027,
        // etcd's legacy spellings
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305": 0xCCA8,
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305": 0xCCA9,
    ]

    /// etcd's `tlsutil.GetCipherSuites`: every name must be known.
    public static func ids(_ names: [String]) throws(FlagValueError) -> [UInt16] {
        var out: [UInt16] = []
        for name in names {
            guard let id = byName[name] else { throw FlagValueError("unexpected TLS cipher suite \"\(name)\"") }
            out.append(id)
        }
        return out
    }

    /// TLS 1.3 suites: Go accepts their names but they are not configurable.
    public static func isTLS13(_ id: UInt16) -> Bool { id >> 8 == 0x13 }
}
