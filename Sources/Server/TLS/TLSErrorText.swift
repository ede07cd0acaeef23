import NIOSSL

/// TLS failures in the words etcd (Go's crypto/tls) logs them, for the
/// "rejected connection" and peer dial lines operators and etcd's own e2e
/// suite read.
enum TLSErrorText {
    /// Go's text for `error`; the error's own description when Go has none.
    ///
    /// An alert the other side sent because it refused our certificate
    /// reads "remote error: tls: bad certificate" whichever alert it was:
    /// Go (etcd) sends bad_certificate for every refused certificate, while
    /// BoringSSL (another swift-etcd member) sends certificate_unknown
    /// when a verification callback refuses, unknown_ca for an untrusted
    /// chain. Both sides mean the same refusal.
    static func describe(_ error: any Error) -> String {
        if let refusal = error as? TLSRefusal { return refusal.reason }
        let text = "\(error)"
        guard error is NIOSSLError || error is BoringSSLError else { return text }
        return goText(boringSSL: text) ?? text
    }

    /// Go's text for a BoringSSL error description; nil when Go has none.
    static func goText(boringSSL text: String) -> String? {
        for (code, go) in remoteAlerts where text.contains(code) { return "remote error: tls: \(go)" }
        if text.contains("EOF during handshake") { return "EOF" }  // the other side closed
        return nil
    }

    /// BoringSSL's names of received alerts and Go's texts for them.
    private static let remoteAlerts: [(String, String)] = [
        ("SSLV3_ALERT_BAD_CERTIFICATE", "bad certificate"),
        ("SSLV3_ALERT_CERTIFICATE_UNKNOWN", "bad certificate"),
        ("TLSV1_ALERT_UNKNOWN_CA", "bad certificate"),
        ("SSLV3_ALERT_CERTIFICATE_EXPIRED", "bad certificate"),
        ("SSLV3_ALERT_CERTIFICATE_REVOKED", "bad certificate"),
        ("SSLV3_ALERT_UNSUPPORTED_CERTIFICATE", "bad certificate"),
        ("TLSV1_ALERT_CERTIFICATE_REQUIRED", "bad certificate"),
        ("SSLV3_ALERT_HANDSHAKE_FAILURE", "handshake failure"),
        ("TLSV1_ALERT_PROTOCOL_VERSION", "protocol version not supported"),
        ("TLSV1_ALERT_DECRYPT_ERROR", "error decrypting message"),
        ("TLSV1_ALERT_INTERNAL_ERROR", "internal error"),
    ]
}
