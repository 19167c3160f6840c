//! `outputMode = s2s`: Splunk-to-Splunk, the cooked stream forwarders send to indexers
//! (`splunktcp`, port 9997). [`wire`] has the bytes, [`sink`] the connections; this module
//! the checked settings.
//!
//! Differences from Eventgen 7.2.1's plugin, on purpose (docs/compatibility.md): protocol v3
//! with the capabilities exchange by default (`s2sProtocol = 2` for Eventgen's), a port of
//! 9997 when `splunkPort` is left at the management default, lengths computed on bytes (the
//! plugin crashed on any length byte of 0x80 or more under Python 3), persistent connections
//! with reconnection, several connections and hosts, TLS, and `_time` in whole seconds
//! (replay sent Python float text, which receivers reject).
//!
//! Delivery without acknowledgements: the events of one write count as delivered once a later
//! write on the same connection succeeded, or the receiver closed the connection in order at
//! the end of the run (it read everything). The window: a receiver that stops after its
//! kernel took bytes but before it read them loses them, and nothing tells the sender; the
//! next write on that connection fails, and the events of the write before it are reported as
//! not delivered, whether or not they were read.

pub mod sink;
pub mod wire;

use std::time::Duration;

use crate::conf::{Setting, Settings};
use crate::output::hec::config::{TlsKeys, tls_settings};
use crate::output::splunkstream::config::parse_hosts;
use crate::output::tls::TlsSettings;
use crate::problem::Problem;

pub use sink::S2sSink;

/// Every key this output reads, with a one-line description (for the key registry and spec).
pub const KEYS: &[(&str, &str)] = &[
    (
        "s2sProtocol",
        "s2s: 3 (default: signature, capabilities exchange, then events) or 2 (Eventgen's)",
    ),
    (
        "s2sConnections",
        "s2s: connections to open (default 1, at most 256), each with its own server name, as that many forwarders",
    ),
    (
        "s2sTls",
        "s2s: connect with TLS (default false), checked with the splunkVerifyTls, splunkCaFile, splunkClientCert and splunkClientKey keys",
    ),
];

/// The port when `splunkPort` is not set for this output (or only by the management default).
pub const DEFAULT_PORT: u16 = 9997;
/// Most connections one output opens.
pub const MAX_CONNECTIONS: usize = 256;
/// Wait for a connection, a TLS handshake or the v3 capabilities reply.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

const TLS_KEYS: TlsKeys = TlsKeys {
    verify: "splunkVerifyTls",
    ca_file: "splunkCaFile",
    client_cert: "splunkClientCert",
    client_key: "splunkClientKey",
};

/// Checked `s2s` settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S2sConfig {
    /// Receivers, used round robin: connection `i` starts at host `i % len` and moves to the
    /// next one each time it reconnects.
    pub hosts: Vec<String>,
    pub port: u16,
    /// 2 or 3.
    pub protocol: u8,
    pub connections: usize,
    /// `Some` with TLS.
    pub tls: Option<TlsSettings>,
    pub timeout: Duration,
}

impl S2sConfig {
    /// A plain v3 config for one host, every other setting at its default.
    pub fn new(host: &str, port: u16) -> S2sConfig {
        S2sConfig {
            hosts: vec![host.to_string()],
            port,
            protocol: 3,
            connections: 1,
            tls: None,
            timeout: CONNECT_TIMEOUT,
        }
    }

    /// `host:port` of every receiver, for messages.
    pub fn names(&self) -> Vec<String> {
        self.hosts
            .iter()
            .map(|h| {
                if h.contains(':') {
                    format!("[{h}]:{}", self.port)
                } else {
                    format!("{h}:{}", self.port)
                }
            })
            .collect()
    }

    /// Checks the settings of `stanza` (merged with `[global]`); every problem is located.
    pub fn build(settings: &Settings, stanza: &str) -> Result<S2sConfig, Vec<Problem>> {
        let mut problems = Vec::new();
        let mut bad = |key: &str, s: Option<&Setting>, msg: String| {
            let mut p = Problem::error(msg).stanza(stanza).key(key);
            if let Some(s) = s {
                p = p.located(&s.location);
            }
            problems.push(p);
        };
        let mut cfg = S2sConfig::new("", DEFAULT_PORT);
        match settings.get("splunkHost") {
            Some(s) if !s.value.trim().is_empty() => match parse_hosts(&s.value) {
                Ok(h) => cfg.hosts = h,
                Err(msg) => bad(
                    "splunkHost",
                    Some(s),
                    msg.replace(" and the scheme in splunkMethod", ""),
                ),
            },
            s => bad(
                "splunkHost",
                s,
                "splunkHost is required for outputMode s2s: the indexer (or a JSON list of them) that listens for forwarders, usually on port 9997".into(),
            ),
        }
        if let Some(s) = settings
            .get("splunkPort")
            .filter(|s| !management_default(s))
        {
            match s.value.trim().parse::<u16>() {
                Ok(p) if p > 0 => cfg.port = p,
                _ => bad(
                    "splunkPort",
                    Some(s),
                    format!(
                        "expected a port from 1 to 65535 (receivers listen on 9997), got {:?}",
                        s.value
                    ),
                ),
            }
        }
        if let Some(s) = settings.get("s2sProtocol") {
            match s.value.trim() {
                "" | "3" => cfg.protocol = 3,
                "2" => cfg.protocol = 2,
                v => bad(
                    "s2sProtocol",
                    Some(s),
                    format!("expected 3 or 2 (the cooked-mode version), got {v:?}"),
                ),
            }
        }
        if let Some(s) = settings.get("s2sConnections") {
            match s.value.trim().parse::<usize>() {
                Ok(n) if (1..=MAX_CONNECTIONS).contains(&n) => cfg.connections = n,
                _ => bad(
                    "s2sConnections",
                    Some(s),
                    format!(
                        "expected a number of connections from 1 to {MAX_CONNECTIONS}, got {:?}",
                        s.value
                    ),
                ),
            }
        }
        let tls_on = match settings.get("s2sTls") {
            None => false,
            Some(s) => match crate::plan::keys::parse_bool(&s.value) {
                Ok(b) => b,
                Err(_) => {
                    bad(
                        "s2sTls",
                        Some(s),
                        format!("expected true or false, got {:?}", s.value),
                    );
                    false
                }
            },
        };
        if tls_on {
            match tls_settings(settings, stanza, &TLS_KEYS) {
                Ok(t) => cfg.tls = Some(t),
                Err(p) => problems.extend(p),
            }
        }
        if let Some(s) = settings
            .get("splunkTimeout")
            .filter(|s| !s.location.file.as_os_str().is_empty())
        {
            match s.value.trim().parse::<f64>() {
                Ok(secs) if secs > 0.0 && secs <= 86_400.0 => {
                    cfg.timeout = Duration::from_secs_f64(secs)
                }
                _ => problems.push(
                    Problem::error(format!(
                        "expected seconds (0 < n <= 86400), got {:?}",
                        s.value
                    ))
                    .located(&s.location)
                    .stanza(stanza)
                    .key("splunkTimeout"),
                ),
            }
        }
        if problems.is_empty() {
            Ok(cfg)
        } else {
            Err(problems)
        }
    }
}

/// `true` for a `splunkPort` that only the defaults set: the built-in table, or the
/// `[global]` of SA-Eventgen's own `default/eventgen.conf` (both say 8089, splunkd's
/// management port, which is never an S2S receiver).
fn management_default(s: &Setting) -> bool {
    let file = &s.location.file;
    if file.as_os_str().is_empty() {
        return true;
    }
    let parts: Vec<_> = file.components().map(|c| c.as_os_str()).collect();
    s.value.trim() == "8089"
        && parts.ends_with(&["default".as_ref(), "eventgen.conf".as_ref()])
        && parts.iter().any(|p| *p == "SA-Eventgen")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problem::Location;

    fn settings(pairs: &[(&str, &str)]) -> Settings {
        Settings::from_pairs("eventgen.conf", pairs)
    }

    #[test]
    fn defaults_and_lists() {
        let c = S2sConfig::build(&settings(&[("splunkHost", "idx1")]), "s").unwrap();
        assert_eq!(c, S2sConfig::new("idx1", 9997));
        let mut s = settings(&[
            ("splunkHost", r#"["idx1", "::1"]"#),
            ("s2sProtocol", "2"),
            ("s2sConnections", "4"),
        ]);
        // The management port of the built-in defaults is not an S2S port.
        s.insert(
            "splunkPort",
            Setting {
                value: "8089".into(),
                location: Location::default(),
            },
        );
        let c = S2sConfig::build(&s, "s").unwrap();
        assert_eq!((c.port, c.protocol, c.connections), (9997, 2, 4));
        assert_eq!(c.names(), ["idx1:9997", "[::1]:9997"]);
        s.insert(
            "splunkPort",
            Setting {
                value: "8089".into(),
                location: Location::new("apps/SA-Eventgen/default/eventgen.conf", 26),
            },
        );
        assert_eq!(S2sConfig::build(&s, "s").unwrap().port, 9997);
        s.insert(
            "splunkPort",
            Setting {
                value: "19997".into(),
                location: Location::new("local/eventgen.conf", 3),
            },
        );
        assert_eq!(S2sConfig::build(&s, "s").unwrap().port, 19997);
    }

    #[test]
    fn every_problem_is_located() {
        let errs = S2sConfig::build(
            &settings(&[
                ("splunkPort", "99999"),
                ("s2sProtocol", "4"),
                ("s2sConnections", "0"),
                ("s2sTls", "maybe"),
                ("splunkHost", "https://idx:9997"),
            ]),
            "web",
        )
        .unwrap_err();
        let text: Vec<String> = errs.iter().map(|p| p.to_string()).collect();
        assert_eq!(text.len(), 5, "{text:#?}");
        for (line, key) in [
            (1, "splunkPort"),
            (2, "s2sProtocol"),
            (3, "s2sConnections"),
            (4, "s2sTls"),
            (5, "splunkHost"),
        ] {
            let want = format!("eventgen.conf:{line}: [web] {key}:");
            assert!(
                text.iter().any(|t| t.starts_with(&want)),
                "{want} in {text:#?}"
            );
        }
        let missing = S2sConfig::build(&settings(&[]), "web").unwrap_err();
        assert!(missing[0].to_string().contains("splunkHost is required"));
    }
}
