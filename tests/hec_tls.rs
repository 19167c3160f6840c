//! HEC over TLS end to end, with certificates made in the test (rcgen): a verified server, a
//! wrong CA (the clear error), verification off, and a server that requires a client
//! certificate (mutual TLS) accepting ours and refusing a run without one. Also an IPv6
//! literal address.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use eventgen::output::hec::{HecConfig, ServerConfig};
use eventgen::output::tls::{ClientIdentity, TlsSettings};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig as TlsServerConfig, ServerConnection, StreamOwned};

use super::{TOKEN, run, texts};

/// A CA, a server certificate for localhost, 127.0.0.1 and ::1, and a client certificate.
struct Pki {
    ca_pem: String,
    server_cert_pem: String,
    server_key_pem: String,
    client_cert_pem: String,
    client_key_pem: String,
}

fn ca(name: &str) -> (String, Issuer<'static, KeyPair>) {
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, name);
    let cert = p.self_signed(&key).unwrap();
    (cert.pem(), Issuer::new(p, key))
}

fn pki() -> Pki {
    let (ca_pem, issuer) = ca("eventgen test CA");
    let sk = KeyPair::generate().unwrap();
    let sc = CertificateParams::new(vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ])
    .unwrap()
    .signed_by(&sk, &issuer)
    .unwrap();
    let ck = KeyPair::generate().unwrap();
    let cc = CertificateParams::new(vec!["eventgen-client".to_string()])
        .unwrap()
        .signed_by(&ck, &issuer)
        .unwrap();
    Pki {
        ca_pem,
        server_cert_pem: sc.pem(),
        server_key_pem: sk.serialize_pem(),
        client_cert_pem: cc.pem(),
        client_key_pem: ck.serialize_pem(),
    }
}

/// A TLS HEC server on `addr` that answers every request with success and counts events.
struct TlsHec {
    port: u16,
    events: Arc<AtomicUsize>,
}

fn tls_hec(pki: &Pki, require_client_cert: bool, addr: &str) -> TlsHec {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = TlsServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = if require_client_cert {
        let mut roots = RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(pki.ca_pem.as_bytes()).unwrap())
            .unwrap();
        let v = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .unwrap();
        builder.with_client_cert_verifier(v)
    } else {
        builder.with_no_client_auth()
    };
    let config = Arc::new(
        builder
            .with_single_cert(
                vec![CertificateDer::from_pem_slice(pki.server_cert_pem.as_bytes()).unwrap()],
                PrivateKeyDer::from_pem_slice(pki.server_key_pem.as_bytes()).unwrap(),
            )
            .unwrap(),
    );
    let l = TcpListener::bind((addr, 0)).unwrap();
    let port = l.local_addr().unwrap().port();
    let events = Arc::new(AtomicUsize::new(0));
    let ev = events.clone();
    thread::spawn(move || {
        for c in l.incoming() {
            let Ok(c) = c else { return };
            let (config, ev) = (config.clone(), ev.clone());
            thread::spawn(move || serve(c, config, &ev));
        }
    });
    TlsHec { port, events }
}

fn serve(c: TcpStream, config: Arc<TlsServerConfig>, events: &AtomicUsize) {
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut s = StreamOwned::new(ServerConnection::new(config).unwrap(), c);
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16384];
    loop {
        let head_end = loop {
            if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break p + 4;
            }
            match s.read(&mut chunk) {
                Ok(n) if n > 0 => buf.extend_from_slice(&chunk[..n]),
                _ => return,
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        while buf.len() < head_end + len {
            match s.read(&mut chunk) {
                Ok(n) if n > 0 => buf.extend_from_slice(&chunk[..n]),
                _ => return,
            }
        }
        let n = serde_json::Deserializer::from_slice(&buf[head_end..head_end + len])
            .into_iter::<serde_json::Value>()
            .count();
        events.fetch_add(n, Ordering::SeqCst);
        buf.drain(..head_end + len);
        let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 27\r\n\r\n{\"text\":\"Success\",\"code\":0}";
        if s.write_all(ok).and_then(|()| s.flush()).is_err() {
            return;
        }
    }
}

fn tls_config(address: &str, port: u16, tls: TlsSettings) -> HecConfig {
    let mut c = HecConfig::with_servers(vec![ServerConfig {
        tls: true,
        address: address.into(),
        port,
        token: TOKEN.into(),
    }]);
    c.timeout = Duration::from_secs(5);
    c.tls = tls;
    c
}

fn trusting(pki: &Pki) -> TlsSettings {
    TlsSettings {
        ca_pem: Some(pki.ca_pem.clone().into_bytes()),
        ..TlsSettings::default()
    }
}

fn identity(pki: &Pki) -> ClientIdentity {
    ClientIdentity {
        cert_file: "client.pem".into(),
        cert_pem: pki.client_cert_pem.clone().into_bytes(),
        key_pem: pki.client_key_pem.clone().into_bytes(),
    }
}

#[test]
fn verified_tls_by_name_and_by_address() {
    let pki = pki();
    let srv = tls_hec(&pki, false, "127.0.0.1");
    for address in ["localhost", "127.0.0.1"] {
        let before = srv.events.load(Ordering::SeqCst);
        let (r, stats) = run(
            tls_config(address, srv.port, trusting(&pki)),
            &texts(300),
            50,
        );
        r.unwrap();
        assert_eq!(stats.sent, 300, "{address}");
        assert_eq!(srv.events.load(Ordering::SeqCst) - before, 300, "{address}");
    }
}

#[test]
fn ipv6_literal_address() {
    if TcpListener::bind("[::1]:0").is_err() {
        eprintln!("note: no IPv6 loopback on this machine, skipping the [::1] test");
        return;
    }
    let pki = pki();
    let srv = tls_hec(&pki, false, "::1");
    let (r, stats) = run(tls_config("::1", srv.port, trusting(&pki)), &texts(100), 50);
    r.unwrap();
    assert_eq!((stats.sent, srv.events.load(Ordering::SeqCst)), (100, 100));
}

#[test]
fn unknown_ca_is_a_clear_fatal_error_and_verify_off_works() {
    let pki = pki();
    let srv = tls_hec(&pki, false, "127.0.0.1");
    let (other_ca, _) = ca("some other CA");
    let wrong = TlsSettings {
        ca_pem: Some(other_ca.into_bytes()),
        ..TlsSettings::default()
    };
    let (r, stats) = run(tls_config("127.0.0.1", srv.port, wrong), &texts(50), 50);
    let err = r.unwrap_err().to_string();
    assert!(
        err.contains("refused the token or TLS certificate"),
        "{err}"
    );
    assert!(stats.fatal);
    assert_eq!(srv.events.load(Ordering::SeqCst), 0);
    let off = TlsSettings {
        verify: false,
        ..TlsSettings::default()
    };
    let (r, stats) = run(tls_config("127.0.0.1", srv.port, off), &texts(50), 50);
    r.unwrap();
    assert_eq!(stats.sent, 50);
}

#[test]
fn mutual_tls_accepts_our_certificate_and_refuses_a_run_without() {
    let pki = pki();
    let srv = tls_hec(&pki, true, "127.0.0.1");
    let with = TlsSettings {
        identity: Some(identity(&pki)),
        ..trusting(&pki)
    };
    let (r, stats) = run(tls_config("127.0.0.1", srv.port, with), &texts(200), 50);
    r.unwrap();
    assert_eq!((stats.sent, srv.events.load(Ordering::SeqCst)), (200, 200));
    let (r, stats) = run(
        tls_config("127.0.0.1", srv.port, trusting(&pki)),
        &texts(50),
        50,
    );
    assert!(r.is_err());
    assert!(stats.fatal, "a refused client certificate stops the server");
    assert_eq!(srv.events.load(Ordering::SeqCst), 200);
}

#[test]
fn tls_through_a_connect_proxy() {
    let pki = pki();
    let srv = tls_hec(&pki, false, "127.0.0.1");
    let proxy = crate::proxy::Proxy::start();
    let mut cfg = tls_config("localhost", srv.port, trusting(&pki));
    cfg.proxy = eventgen::output::http::Proxy::Url(proxy.url());
    let (r, stats) = run(cfg, &texts(200), 50);
    r.unwrap();
    assert_eq!((stats.sent, srv.events.load(Ordering::SeqCst)), (200, 200));
    assert!(proxy.count() >= 1, "the tunnel went through the proxy");
}
