//! The `httpevent*` settings of one sample, checked: text in, a ready [`HecConfig`] or every
//! problem found, each located at the setting that caused it. No I/O happens here except reading
//! the CA and client certificate files (so a missing file is a config error, not a run-time
//! surprise). [`tls_settings`] and [`proxy_setting`] serve splunkstream's keys too.

use std::path::PathBuf;
use std::time::Duration;

use crate::conf::{Setting, Settings, reference};
use crate::output::http::Proxy;
use crate::output::netcore::address;
use crate::output::tls::{ClientIdentity, TlsSettings, parse_certs};
use crate::problem::Problem;

/// Every key this output reads, with a one-line description (for the key registry and spec).
pub const KEYS: &[(&str, &str)] = &[
    (
        "httpeventServers",
        "JSON {\"servers\":[{\"protocol\":\"https\",\"address\":\"host\",\"port\":8088,\"key\":\"<token>\"}]}",
    ),
    (
        "httpeventOutputMode",
        "roundrobin (each request to one healthy server) or mirror (every request to every server)",
    ),
    (
        "httpeventMaxPayloadSize",
        "most bytes of uncompressed body per request (default 10000); a larger event goes alone",
    ),
    (
        "httpeventWaitResponse",
        "accepted for Eventgen compatibility; responses are always read (retries need them)",
    ),
    (
        "httpeventEndpoint",
        "event (JSON envelopes to /services/collector/event) or raw (text to /services/collector/raw)",
    ),
    ("httpeventGzip", "gzip request bodies (default false)"),
    (
        "httpeventVerifyTls",
        "verify the server's TLS certificate and name (default true)",
    ),
    (
        "httpeventCaFile",
        "PEM file of extra CA certificates to trust, e.g. $SPLUNK_HOME/etc/auth/cacert.pem",
    ),
    (
        "httpeventClientCert",
        "PEM file with the client certificate (chain) for servers that require mutual TLS",
    ),
    (
        "httpeventClientKey",
        "PEM file with the private key of httpeventClientCert (default: the key inside that file)",
    ),
    (
        "httpeventProxy",
        "proxy URL (http://host:port) for every server, or none to connect directly; default: HTTPS_PROXY/HTTP_PROXY/NO_PROXY from the environment",
    ),
    (
        "httpeventAck",
        "use indexer acknowledgement: poll /services/collector/ack, resend what is not acknowledged (default false)",
    ),
    (
        "httpeventAckTimeout",
        "seconds to wait for an acknowledgement before resending the request (default 60)",
    ),
    (
        "httpeventMaxInFlight",
        "requests in flight per server, at most one pooled keep-alive connection each (default 4)",
    ),
    (
        "httpeventTimeout",
        "seconds to wait for connecting, sending or a response (default 30)",
    ),
];

pub const DEFAULT_MAX_PAYLOAD: usize = 10_000;
pub const DEFAULT_MAX_IN_FLIGHT: usize = 4;
/// Long enough for a busy indexer, short enough that a dead one is noticed in a run.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Splunk acknowledges within seconds when healthy; a minute covers a busy cluster.
pub const DEFAULT_ACK_TIMEOUT: Duration = Duration::from_secs(60);
/// More connections per server than this would only hurt the indexer.
const MAX_IN_FLIGHT_LIMIT: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputMode {
    RoundRobin,
    Mirror,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Event,
    Raw,
}

impl Endpoint {
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::Event => "/services/collector/event",
            Endpoint::Raw => "/services/collector/raw",
        }
    }
}

/// One HEC server. `Debug` leaves the token out so it can never reach a log.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerConfig {
    pub tls: bool,
    pub address: String,
    pub port: u16,
    pub token: String,
}

impl ServerConfig {
    /// `https://host:8088`: how messages name the server (never with the token).
    pub fn name(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        if self.address.contains(':') {
            format!("{scheme}://[{}]:{}", self.address, self.port)
        } else {
            format!("{scheme}://{}:{}", self.address, self.port)
        }
    }
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("server", &self.name())
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HecConfig {
    pub servers: Vec<ServerConfig>,
    pub mode: OutputMode,
    pub max_payload: usize,
    pub wait_response: bool,
    pub endpoint: Endpoint,
    pub gzip: bool,
    /// Trust and client certificate for `https` servers.
    pub tls: TlsSettings,
    pub proxy: Proxy,
    pub ack: bool,
    pub ack_timeout: Duration,
    pub max_in_flight: usize,
    pub timeout: Duration,
}

impl HecConfig {
    /// A config for these servers with every other setting at its default (tests, benches).
    pub fn with_servers(servers: Vec<ServerConfig>) -> HecConfig {
        HecConfig {
            servers,
            mode: OutputMode::RoundRobin,
            max_payload: DEFAULT_MAX_PAYLOAD,
            wait_response: true,
            endpoint: Endpoint::Event,
            gzip: false,
            tls: TlsSettings::default(),
            proxy: Proxy::Environment,
            ack: false,
            ack_timeout: DEFAULT_ACK_TIMEOUT,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Checks the `httpevent*` settings of `stanza` (already merged with `[global]`).
    pub fn build(settings: &Settings, stanza: &str) -> Result<HecConfig, Vec<Problem>> {
        let mut cfg = HecConfig::with_servers(Vec::new());
        let problems = std::cell::RefCell::new(Vec::new());
        let bad = |key: &str, setting: &Setting, msg: String| {
            problems.borrow_mut().push(
                Problem::error(msg)
                    .located(&setting.location)
                    .stanza(stanza)
                    .key(key),
            );
        };
        let bad_unlocated = |key: &str, msg: String| {
            problems
                .borrow_mut()
                .push(Problem::error(msg).stanza(stanza).key(key));
        };

        match settings.get("httpeventServers") {
            None => bad_unlocated(
                "httpeventServers",
                "httpeventServers is required for outputMode httpevent".to_string(),
            ),
            Some(s) => match reference::hec_servers(s).and_then(|text| parse_servers(&text)) {
                Ok(servers) => cfg.servers = servers,
                Err(msgs) => {
                    for m in msgs {
                        bad("httpeventServers", s, m);
                    }
                }
            },
        }
        if let Some(s) = settings.get("httpeventOutputMode") {
            match s.value.trim() {
                "roundrobin" => cfg.mode = OutputMode::RoundRobin,
                "mirror" => cfg.mode = OutputMode::Mirror,
                v => bad(
                    "httpeventOutputMode",
                    s,
                    format!("expected roundrobin or mirror, got {v:?}"),
                ),
            }
        }
        if let Some(s) = settings.get("httpeventMaxPayloadSize") {
            match s.value.trim().parse::<usize>() {
                Ok(n) if n > 0 => cfg.max_payload = n,
                _ => bad(
                    "httpeventMaxPayloadSize",
                    s,
                    format!("expected a positive number of bytes, got {:?}", s.value),
                ),
            }
        }
        if let Some(s) = settings.get("httpeventWaitResponse") {
            cfg.wait_response = eventgen_bool(&s.value);
        }
        if let Some(s) = settings.get("httpeventEndpoint") {
            match s.value.trim() {
                "event" => cfg.endpoint = Endpoint::Event,
                "raw" => cfg.endpoint = Endpoint::Raw,
                v => bad(
                    "httpeventEndpoint",
                    s,
                    format!("expected event or raw, got {v:?}"),
                ),
            }
        }
        for (key, slot) in [
            ("httpeventGzip", &mut cfg.gzip),
            ("httpeventAck", &mut cfg.ack),
        ] {
            if let Some(s) = settings.get(key) {
                match strict_bool(&s.value) {
                    Some(b) => *slot = b,
                    None => bad(key, s, format!("expected true or false, got {:?}", s.value)),
                }
            }
        }
        for (key, slot) in [
            ("httpeventTimeout", &mut cfg.timeout),
            ("httpeventAckTimeout", &mut cfg.ack_timeout),
        ] {
            if let Some(s) = settings.get(key) {
                match s.value.trim().parse::<f64>() {
                    Ok(secs) if secs > 0.0 && secs <= 86_400.0 => {
                        *slot = Duration::from_secs_f64(secs)
                    }
                    _ => bad(
                        key,
                        s,
                        format!("expected seconds (0 < n <= 86400), got {:?}", s.value),
                    ),
                }
            }
        }
        if let Some(s) = settings.get("httpeventMaxInFlight") {
            match s.value.trim().parse::<usize>() {
                Ok(n) if (1..=MAX_IN_FLIGHT_LIMIT).contains(&n) => cfg.max_in_flight = n,
                _ => bad(
                    "httpeventMaxInFlight",
                    s,
                    format!("expected 1 to {MAX_IN_FLIGHT_LIMIT}, got {:?}", s.value),
                ),
            }
        }
        let mut problems = problems.into_inner();
        match tls_settings(settings, stanza, &HEC_TLS_KEYS) {
            Ok(t) => cfg.tls = t,
            Err(p) => problems.extend(p),
        }
        match proxy_setting(settings, stanza, "httpeventProxy") {
            Ok(p) => cfg.proxy = p,
            Err(p) => problems.push(p),
        }
        if problems.is_empty() {
            Ok(cfg)
        } else {
            Err(problems)
        }
    }
}

impl HecConfig {
    /// [`HecConfig::build`] for `metric_httpevent`, which only works with the `/event` endpoint.
    pub fn build_metric(settings: &Settings, stanza: &str) -> Result<HecConfig, Vec<Problem>> {
        let cfg = HecConfig::build(settings, stanza)?;
        if cfg.endpoint == Endpoint::Raw {
            let mut p =
                Problem::error("metric_httpevent sends JSON and needs httpeventEndpoint = event")
                    .stanza(stanza)
                    .key("httpeventEndpoint");
            if let Some(s) = settings.get("httpeventEndpoint") {
                p = p.located(&s.location);
            }
            return Err(vec![p]);
        }
        Ok(cfg)
    }
}

/// The names of one output's TLS keys.
pub struct TlsKeys {
    pub verify: &'static str,
    pub ca_file: &'static str,
    pub client_cert: &'static str,
    pub client_key: &'static str,
}

const HEC_TLS_KEYS: TlsKeys = TlsKeys {
    verify: "httpeventVerifyTls",
    ca_file: "httpeventCaFile",
    client_cert: "httpeventClientCert",
    client_key: "httpeventClientKey",
};

/// Reads and checks an output's TLS keys: verification, CA file, client certificate and key.
/// The files are read here; every problem is located at its key, and none quotes a key file.
pub fn tls_settings(
    settings: &Settings,
    stanza: &str,
    keys: &TlsKeys,
) -> Result<TlsSettings, Vec<Problem>> {
    let mut tls = TlsSettings::default();
    let mut problems = Vec::new();
    let mut bad = |key: &str, s: &Setting, msg: String| {
        problems.push(
            Problem::error(msg)
                .located(&s.location)
                .stanza(stanza)
                .key(key),
        );
    };
    if let Some(s) = settings.get(keys.verify) {
        match strict_bool(&s.value) {
            Some(b) => tls.verify = b,
            None => bad(
                keys.verify,
                s,
                format!("expected true or false, got {:?}", s.value),
            ),
        }
    }
    let read = |s: &Setting| {
        let path = PathBuf::from(s.value.trim());
        std::fs::read(&path)
            .map(|pem| (path.clone(), pem))
            .map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    if let Some(s) = settings.get(keys.ca_file) {
        match read(s) {
            Ok((path, pem)) => {
                if let Err(msg) = parse_certs(&pem) {
                    bad(keys.ca_file, s, format!("{}: {msg}", path.display()));
                }
                tls.ca_pem = Some(pem);
                tls.ca_file = Some(path);
            }
            Err(msg) => bad(keys.ca_file, s, msg),
        }
    }
    match (
        settings.get(keys.client_cert),
        settings.get(keys.client_key),
    ) {
        (None, None) => {}
        (None, Some(k)) => bad(
            keys.client_key,
            k,
            format!(
                "{} needs {} (the certificate of this key)",
                keys.client_key, keys.client_cert
            ),
        ),
        (Some(c), key) => {
            let cert = read(c).map_err(|m| bad(keys.client_cert, c, m)).ok();
            let key_pem = match key {
                Some(k) => read(k)
                    .map_err(|m| bad(keys.client_key, k, m))
                    .ok()
                    .map(|(_, p)| p),
                None => cert.as_ref().map(|(_, p)| p.clone()),
            };
            if let (Some((cert_file, cert_pem)), Some(key_pem)) = (cert, key_pem) {
                let id = ClientIdentity {
                    cert_file,
                    cert_pem,
                    key_pem,
                };
                match id.check() {
                    Ok(()) => tls.identity = Some(id),
                    Err(msg) => {
                        let (k, s) = match key {
                            Some(k) if msg.starts_with("client key") => (keys.client_key, k),
                            _ => (keys.client_cert, c),
                        };
                        bad(k, s, msg);
                    }
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(tls)
    } else {
        Err(problems)
    }
}

/// Reads a proxy key (`httpeventProxy`): a URL, `none`, or unset for the environment's.
pub fn proxy_setting(settings: &Settings, stanza: &str, key: &str) -> Result<Proxy, Problem> {
    match settings.get(key) {
        None => Ok(Proxy::Environment),
        Some(s) => Proxy::parse(&s.value).map_err(|msg| {
            Problem::error(msg)
                .located(&s.location)
                .stanza(stanza)
                .key(key)
        }),
    }
}

/// Eventgen's truthiness: only `0`, `false`, `False` and the empty string are false.
fn eventgen_bool(v: &str) -> bool {
    !matches!(v.trim(), "" | "0" | "false" | "False")
}

/// New keys are strict, so a typo is reported instead of silently meaning `true`.
fn strict_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// Parses Eventgen's server list JSON. Every problem is reported, without the token.
pub fn parse_servers(text: &str) -> Result<Vec<ServerConfig>, Vec<String>> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        vec![format!(
            "not valid JSON ({e}); expected {{\"servers\":[{{\"protocol\":\"https\",\"address\":\"host\",\"port\":8088,\"key\":\"<token>\"}}]}}"
        )]
    })?;
    let Some(list) = value.get("servers").and_then(|s| s.as_array()) else {
        return Err(vec![
            "expected an object with a \"servers\" list".to_string(),
        ]);
    };
    if list.is_empty() {
        return Err(vec!["the \"servers\" list is empty".to_string()]);
    }
    let mut servers = Vec::new();
    let mut errors = Vec::new();
    for (i, s) in list.iter().enumerate() {
        let n = i + 1;
        let text_of = |k: &str| match s.get(k) {
            Some(serde_json::Value::String(v)) => Some(v.trim().to_string()),
            Some(serde_json::Value::Number(v)) => Some(v.to_string()),
            _ => None,
        };
        let tls = match text_of("protocol").as_deref() {
            Some("https") => Some(true),
            Some("http") => Some(false),
            Some(p) => {
                errors.push(format!(
                    "server {n}: protocol must be http or https, got {p:?}"
                ));
                None
            }
            None => {
                errors.push(format!(
                    "server {n}: \"protocol\" (http or https) is missing"
                ));
                None
            }
        };
        let address = match text_of("address") {
            None => {
                errors.push(format!("server {n}: \"address\" is missing"));
                None
            }
            Some(a) => match address::host(
                &a,
                "give the scheme in \"protocol\" and the port in \"port\"",
            ) {
                Ok(host) => Some(host),
                Err(e) => {
                    errors.push(format!("server {n}: \"address\": {e}"));
                    None
                }
            },
        };
        let port = match text_of("port") {
            Some(p) => match p.parse::<u16>() {
                Ok(p) if p > 0 => Some(p),
                _ => {
                    errors.push(format!("server {n}: port must be 1 to 65535, got {p:?}"));
                    None
                }
            },
            None => {
                errors.push(format!("server {n}: \"port\" is missing"));
                None
            }
        };
        let token = text_of("key").filter(|k| !k.is_empty());
        if token.is_none() {
            errors.push(format!(
                "server {n}: \"key\" (the HEC token) is missing or empty"
            ));
        } else if token
            .as_deref()
            .is_some_and(|k| k.bytes().any(|b| b.is_ascii_control()))
        {
            errors.push(format!("server {n}: \"key\" contains control characters"));
        }
        if let (Some(tls), Some(address), Some(port), Some(token)) = (tls, address, port, token) {
            servers.push(ServerConfig {
                tls,
                address,
                port,
                token,
            });
        }
    }
    if errors.is_empty() {
        Ok(servers)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Settings {
        Settings::from_pairs("eventgen.conf", pairs)
    }

    const ONE: &str = r#"{"servers":[{"protocol":"https","address":"127.0.0.1","port":"8088","key":"00000000-0000-0000-0000-000000000000"}]}"#;

    #[test]
    fn defaults_and_string_port() {
        let cfg = HecConfig::build(&settings(&[("httpeventServers", ONE)]), "s").unwrap();
        assert_eq!(cfg.servers.len(), 1);
        assert_eq!(cfg.servers[0].port, 8088);
        assert!(cfg.servers[0].tls);
        assert_eq!(cfg.mode, OutputMode::RoundRobin);
        assert_eq!(cfg.max_payload, 10_000);
        assert_eq!(cfg.endpoint, Endpoint::Event);
        assert!(cfg.tls.verify && !cfg.gzip && !cfg.ack);
        assert_eq!(cfg.proxy, Proxy::Environment);
        assert_eq!(cfg.max_in_flight, 4);
    }

    #[test]
    fn all_keys_parse() {
        let cfg = HecConfig::build(
            &settings(&[
                ("httpeventServers", r#"{"servers":[{"protocol":"http","address":"a","port":1,"key":"k"},{"protocol":"https","address":"b","port":2,"key":"k2"}]}"#),
                ("httpeventOutputMode", "mirror"),
                ("httpeventMaxPayloadSize", "500"),
                ("httpeventWaitResponse", "False"),
                ("httpeventEndpoint", "raw"),
                ("httpeventGzip", "true"),
                ("httpeventVerifyTls", "0"),
                ("httpeventAck", "yes"),
                ("httpeventAckTimeout", "2.5"),
                ("httpeventMaxInFlight", "8"),
                ("httpeventTimeout", "3"),
                ("httpeventProxy", "none"),
            ]),
            "s",
        )
        .unwrap();
        assert_eq!(cfg.servers.len(), 2);
        assert_eq!(cfg.mode, OutputMode::Mirror);
        assert_eq!(cfg.max_payload, 500);
        assert!(!cfg.wait_response);
        assert_eq!(cfg.endpoint, Endpoint::Raw);
        assert!(cfg.gzip && !cfg.tls.verify && cfg.ack);
        assert_eq!(cfg.ack_timeout, Duration::from_millis(2500));
        assert_eq!(cfg.max_in_flight, 8);
        assert_eq!(cfg.timeout, Duration::from_secs(3));
        assert_eq!(cfg.proxy, Proxy::Off);
    }

    #[test]
    fn every_problem_is_reported_with_location_and_no_token() {
        let errs = HecConfig::build(
            &settings(&[
                ("httpeventServers", r#"{"servers":[{"protocol":"ftp","address":"","port":"99999","key":"SECRET"}]}"#),
                ("httpeventOutputMode", "random"),
                ("httpeventGzip", "maybe"),
                ("httpeventMaxInFlight", "0"),
                ("httpeventCaFile", "/nonexistent/ca.pem"),
            ]),
            "web",
        )
        .unwrap_err();
        let text: Vec<String> = errs.iter().map(|p| p.to_string()).collect();
        assert_eq!(text.len(), 7, "{text:#?}");
        assert!(
            text[0].starts_with("eventgen.conf:1: [web] httpeventServers: server 1: protocol"),
            "{}",
            text[0]
        );
        assert!(
            text.iter()
                .any(|t| t.starts_with("eventgen.conf:2: [web] httpeventOutputMode:"))
        );
        assert!(
            text.iter()
                .any(|t| t.contains("eventgen.conf:5: [web] httpeventCaFile: cannot read"))
        );
        assert!(text.iter().all(|t| !t.contains("SECRET")));
    }

    #[test]
    fn missing_servers_is_an_error() {
        let errs = HecConfig::build(&settings(&[]), "s").unwrap_err();
        assert!(errs[0].to_string().contains("httpeventServers is required"));
        assert!(parse_servers("{}").is_err());
        assert!(parse_servers(r#"{"servers":[]}"#).is_err());
        assert!(parse_servers("nope").unwrap_err()[0].contains("not valid JSON"));
    }

    #[test]
    fn debug_hides_the_token() {
        let s = parse_servers(ONE).unwrap();
        let dbg = format!("{:?}", s[0]);
        assert!(
            dbg.contains("https://127.0.0.1:8088") && !dbg.contains("0000-0000"),
            "{dbg}"
        );
    }

    #[test]
    fn keys_are_documented() {
        assert!(
            KEYS.iter()
                .all(|(k, d)| k.starts_with("httpevent") && !d.is_empty())
        );
    }
}
