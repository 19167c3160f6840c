//! What a person should do about a failed request: the transport failure in words, with the
//! output's own configuration keys named (`httpeventCaFile`, `splunkCaFile`, …).

use crate::output::http::{Failure, Transport};

/// The keys of one output that a message may point to.
#[derive(Debug, Clone, Copy)]
pub struct Keys {
    /// The CA bundle that verifies the server (`httpeventCaFile`).
    pub ca_file: &'static str,
    /// Turns verification off (`httpeventVerifyTls`).
    pub verify: &'static str,
    /// Our client certificate and key (`httpeventClientCert (and httpeventClientKey)`).
    pub client_cert: &'static str,
}

/// The failure with advice: TLS trust (both ways out), a refused client certificate, nothing
/// listening, a name that does not resolve. Other failures are returned as they are.
pub fn transport(f: &Failure, keys: &Keys) -> String {
    let error = &f.error;
    match f.kind {
        Transport::TlsVerification => format!(
            "TLS certificate not trusted ({error}). To trust Splunk's default self-signed \
             certificate set {} = $SPLUNK_HOME/etc/auth/cacert.pem (the certificate must also \
             name this host), or turn verification off for this output with {} = false",
            keys.ca_file, keys.verify
        ),
        Transport::TlsClientRefused => format!(
            "the server refused our TLS client certificate ({error}); set {} to a certificate \
             the server trusts",
            keys.client_cert
        ),
        Transport::Connect => {
            let lower = error.to_ascii_lowercase();
            if lower.contains("connection refused") {
                format!(
                    "{error} (nothing listens on that port: is the server up, is the port right?)"
                )
            } else if lower.contains("dns error")
                || lower.contains("failed to lookup")
                || lower.contains("name or service not known")
            {
                format!("{error} (the host name does not resolve)")
            } else {
                error.clone()
            }
        }
        Transport::Timeout | Transport::Broken => error.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: Keys = Keys {
        ca_file: "httpeventCaFile",
        verify: "httpeventVerifyTls",
        client_cert: "httpeventClientCert (and httpeventClientKey)",
    };

    fn advice(kind: Transport, error: &str) -> String {
        transport(
            &Failure {
                kind,
                error: error.to_string(),
            },
            &KEYS,
        )
    }

    #[test]
    fn tls_advice_names_both_ways_out() {
        let a = advice(Transport::TlsVerification, "UnknownIssuer");
        assert!(a.contains("httpeventCaFile = $SPLUNK_HOME/etc/auth/cacert.pem"));
        assert!(a.contains("httpeventVerifyTls = false"));
        let a = advice(Transport::TlsClientRefused, "CertificateRequired");
        assert!(
            a.contains("set httpeventClientCert (and httpeventClientKey)"),
            "{a}"
        );
    }

    #[test]
    fn connection_failures_say_which() {
        let a = advice(
            Transport::Connect,
            "tcp connect error: Connection refused (os error 111)",
        );
        assert!(a.contains("nothing listens"), "{a}");
        let a = advice(
            Transport::Connect,
            "client error (Connect): dns error: failed to lookup address information",
        );
        assert!(a.contains("does not resolve"), "{a}");
        assert_eq!(advice(Transport::Timeout, "timed out"), "timed out");
    }
}
