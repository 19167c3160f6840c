//! TLS client settings of the HTTP outputs (HEC, splunkstream), with rustls (never OpenSSL).
//!
//! Verification is on by default against the Mozilla roots (webpki-roots) plus the certificates of
//! a CA file (`httpeventCaFile`, `splunkCaFile`). Turning it off (`httpeventVerifyTls = false`)
//! still checks the handshake signatures, only not who signed the certificate or whom it names.
//! A client certificate and key (PEM) answer servers that require mutual TLS.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

/// What one output trusts and presents. Built (and its files read and parsed) at plan time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    /// Verify the server's certificate chain and name.
    pub verify: bool,
    pub ca_file: Option<PathBuf>,
    /// PEM text of `ca_file`.
    pub ca_pem: Option<Vec<u8>>,
    pub identity: Option<ClientIdentity>,
}

impl Default for TlsSettings {
    fn default() -> Self {
        TlsSettings {
            verify: true,
            ca_file: None,
            ca_pem: None,
            identity: None,
        }
    }
}

/// A client certificate chain and its private key, both PEM. `Debug` names the files only.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientIdentity {
    pub cert_file: PathBuf,
    pub cert_pem: Vec<u8>,
    pub key_pem: Vec<u8>,
}

impl std::fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientIdentity")
            .field("cert_file", &self.cert_file)
            .finish_non_exhaustive()
    }
}

impl ClientIdentity {
    /// Checks that the certificate and key parse; the message never quotes the key.
    pub fn check(&self) -> Result<(), String> {
        parse_certs(&self.cert_pem).map_err(|e| format!("client certificate: {e}"))?;
        parse_key(&self.key_pem)?;
        Ok(())
    }
}

/// The certificates in a PEM file; an error if there is none or one is malformed.
pub fn parse_certs(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let mut certs = Vec::new();
    for c in CertificateDer::pem_slice_iter(pem) {
        certs.push(c.map_err(|e| format!("not a PEM certificate file ({e:?})"))?);
    }
    if certs.is_empty() {
        return Err("no PEM certificate (-----BEGIN CERTIFICATE-----) in the file".to_string());
    }
    Ok(certs)
}

/// The private key of a PEM file (PKCS#8, PKCS#1 or SEC1).
pub fn parse_key(pem: &[u8]) -> Result<PrivateKeyDer<'static>, String> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|_| {
        "client key: no PEM private key (-----BEGIN PRIVATE KEY----- or RSA/EC PRIVATE KEY) in the file"
            .to_string()
    })
}

/// The rustls client settings for all servers of one output.
pub fn client_config(settings: &TlsSettings) -> Result<ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?;
    let builder = if settings.verify {
        let mut roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        if let Some(pem) = &settings.ca_pem {
            for cert in parse_certs(pem)? {
                roots
                    .add(cert)
                    .map_err(|e| format!("CA certificate not usable: {e}"))?;
            }
        }
        builder.with_root_certificates(roots)
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
    };
    match &settings.identity {
        None => Ok(builder.with_no_client_auth()),
        Some(id) => {
            let certs =
                parse_certs(&id.cert_pem).map_err(|e| format!("client certificate: {e}"))?;
            let key = parse_key(&id.key_pem)?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(|e| format!("client certificate and key do not fit together: {e}"))
        }
    }
}

/// How a TLS failure ended, when the error was one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsFailure {
    /// We did not trust the server's certificate.
    ServerNotTrusted,
    /// The server refused us (no or a wrong client certificate).
    ClientRefused,
}

/// Classifies a rustls error.
pub fn failure_kind(e: &rustls::Error) -> Option<TlsFailure> {
    use rustls::AlertDescription as A;
    match e {
        rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented => {
            Some(TlsFailure::ServerNotTrusted)
        }
        rustls::Error::AlertReceived(
            A::CertificateRequired
            | A::BadCertificate
            | A::UnknownCA
            | A::CertificateUnknown
            | A::UnsupportedCertificate
            | A::CertificateRevoked
            | A::CertificateExpired
            | A::AccessDenied,
        ) => Some(TlsFailure::ClientRefused),
        _ => None,
    }
}

/// Accepts any certificate but still verifies the handshake signatures.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_build_both_ways() {
        assert!(client_config(&TlsSettings::default()).is_ok());
        let off = TlsSettings {
            verify: false,
            ..TlsSettings::default()
        };
        assert!(client_config(&off).is_ok());
    }

    #[test]
    fn bad_pem_is_refused() {
        assert!(
            parse_certs(b"hello")
                .unwrap_err()
                .contains("no PEM certificate")
        );
        let bad_ca = TlsSettings {
            ca_pem: Some(b"nothing here".to_vec()),
            ..TlsSettings::default()
        };
        assert!(client_config(&bad_ca).is_err());
        let id = ClientIdentity {
            cert_file: "c.pem".into(),
            cert_pem: b"x".to_vec(),
            key_pem: b"SECRET".to_vec(),
        };
        let e = id.check().unwrap_err();
        assert!(e.starts_with("client certificate:"), "{e}");
        assert!(!format!("{id:?}").contains("SECRET"));
    }

    #[test]
    fn failures_are_classified() {
        assert_eq!(
            failure_kind(&rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer
            )),
            Some(TlsFailure::ServerNotTrusted)
        );
        assert_eq!(
            failure_kind(&rustls::Error::AlertReceived(
                rustls::AlertDescription::CertificateRequired
            )),
            Some(TlsFailure::ClientRefused)
        );
        assert_eq!(
            failure_kind(&rustls::Error::AlertReceived(
                rustls::AlertDescription::HandshakeFailure
            )),
            None
        );
    }
}
