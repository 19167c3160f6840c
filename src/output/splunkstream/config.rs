//! The `splunk*` settings of one `splunkstream` sample, checked: the servers (one host or a JSON
//! list), port, scheme, credentials, and the same TLS and proxy options as HEC. Inside Splunk
//! (modular input with `keepOutputMode = true`) the server and session key come from splunkd's
//! input document instead, as in Eventgen.

use std::time::Duration;

use crate::conf::{Setting, Settings, reference};
use crate::output::hec::config::{TlsKeys, proxy_setting, tls_settings};
use crate::output::http::{Proxy, base_url};
use crate::output::netcore::address;
use crate::output::tls::TlsSettings;
use crate::problem::Problem;

/// Every key this output reads, with a one-line description (for the key registry and spec).
pub const KEYS: &[(&str, &str)] = &[
    (
        "splunkHost",
        "splunkstream: Splunk server name or address, or a JSON list of them ([\"idx1\",\"idx2\"]; requests rotate over them)",
    ),
    ("splunkPort", "splunkstream: management port (default 8089)"),
    ("splunkMethod", "splunkstream: https (default) or http"),
    (
        "splunkUser",
        "splunkstream: user that logs in at /services/auth/login for a session key",
    ),
    (
        "splunkPass",
        "splunkstream: password of splunkUser (never logged)",
    ),
    (
        "splunkVerifyTls",
        "splunkstream: verify the server's TLS certificate and name (default true; Eventgen never verified)",
    ),
    (
        "splunkCaFile",
        "splunkstream: PEM file of extra CA certificates to trust, e.g. $SPLUNK_HOME/etc/auth/cacert.pem",
    ),
    (
        "splunkClientCert",
        "splunkstream: PEM file with a client certificate for servers that require mutual TLS",
    ),
    (
        "splunkClientKey",
        "splunkstream: PEM file with the private key of splunkClientCert (default: the key inside that file)",
    ),
    (
        "splunkProxy",
        "splunkstream: proxy URL, or none to connect directly; default: HTTPS_PROXY/HTTP_PROXY/NO_PROXY from the environment",
    ),
    (
        "splunkTimeout",
        "splunkstream: seconds to wait for connecting, sending or a response (default 30)",
    ),
];

/// Eventgen's default management port.
pub const DEFAULT_PORT: u16 = 8089;
/// Long enough for a busy splunkd, short enough that a dead one is noticed in a run.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

const TLS_KEYS: TlsKeys = TlsKeys {
    verify: "splunkVerifyTls",
    ca_file: "splunkCaFile",
    client_cert: "splunkClientCert",
    client_key: "splunkClientKey",
};

/// splunkd's own address and session key, from the modular input's `<input>` document.
#[derive(Clone, PartialEq, Eq)]
pub struct Splunkd {
    /// `https://127.0.0.1:8089`
    pub uri: String,
    pub session_key: String,
}

impl Splunkd {
    /// splunkd's usual address, before the input document says otherwise (validation).
    pub fn local_default() -> Splunkd {
        Splunkd {
            uri: format!("https://127.0.0.1:{DEFAULT_PORT}"),
            session_key: String::new(),
        }
    }
}

impl std::fmt::Debug for Splunkd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Splunkd")
            .field("uri", &self.uri)
            .finish_non_exhaustive()
    }
}

/// How the output authenticates.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    /// Log in with these and re-login when the session expires.
    Login { user: String, password: String },
    /// A session key handed over by splunkd (no password to log in again with).
    SessionKey(String),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::Login { user, .. } => write!(f, "Login({user:?})"),
            Auth::SessionKey(_) => f.write_str("SessionKey"),
        }
    }
}

impl Auth {
    /// The secrets to keep out of every message.
    pub fn secrets(&self) -> Vec<&str> {
        match self {
            Auth::Login { password, .. } => vec![password.as_str()],
            Auth::SessionKey(k) => vec![k.as_str()],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplunkStreamConfig {
    /// Base URLs (`https://host:8089`), used in turn.
    pub servers: Vec<String>,
    pub auth: Auth,
    /// `hostRegex` of the sample, sent as `host_regex`.
    pub host_regex: Option<String>,
    /// Whether the servers speak https.
    pub https: bool,
    pub tls: TlsSettings,
    pub proxy: Proxy,
    pub timeout: Duration,
}

impl SplunkStreamConfig {
    /// A config for these base URLs and credentials, every other setting at its default.
    pub fn with_servers(servers: Vec<String>, auth: Auth) -> SplunkStreamConfig {
        let https = servers.iter().any(|s| s.starts_with("https:"));
        SplunkStreamConfig {
            servers,
            auth,
            host_regex: None,
            https,
            tls: TlsSettings::default(),
            proxy: Proxy::Environment,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Checks the settings of `stanza` (merged with `[global]`). With `splunkd` (inside Splunk)
    /// the server and session key come from there and the `splunk*` address keys are ignored.
    /// Warnings (missing credentials) come with the config.
    pub fn build(
        settings: &Settings,
        stanza: &str,
        splunkd: Option<&Splunkd>,
    ) -> Result<(SplunkStreamConfig, Vec<Problem>), Vec<Problem>> {
        let mut problems = Vec::new();
        let mut warnings = Vec::new();
        let bad = |problems: &mut Vec<Problem>, key: &str, s: Option<&Setting>, msg: String| {
            let mut p = Problem::error(msg).stanza(stanza).key(key);
            if let Some(s) = s {
                p = p.located(&s.location);
            }
            problems.push(p);
        };
        let text = |key: &str| settings.get(key).map(|s| s.value.trim().to_string());
        let (servers, auth, https) = if let Some(d) = splunkd {
            let https = d.uri.starts_with("https:");
            (
                vec![d.uri.trim_end_matches('/').to_string()],
                Auth::SessionKey(d.session_key.clone()),
                https,
            )
        } else {
            let https = match text("splunkMethod").as_deref() {
                None | Some("") | Some("https") => true,
                Some("http") => false,
                Some(m) => {
                    bad(
                        &mut problems,
                        "splunkMethod",
                        settings.get("splunkMethod"),
                        format!("expected http or https, got {m:?}"),
                    );
                    true
                }
            };
            let port = match text("splunkPort").as_deref() {
                None | Some("") => DEFAULT_PORT,
                Some(p) => match p.parse::<u16>() {
                    Ok(p) if p > 0 => p,
                    _ => {
                        bad(
                            &mut problems,
                            "splunkPort",
                            settings.get("splunkPort"),
                            format!("expected a port from 1 to 65535, got {p:?}"),
                        );
                        DEFAULT_PORT
                    }
                },
            };
            let hosts = match settings.get("splunkHost") {
                Some(s) if !s.value.trim().is_empty() => match parse_hosts(&s.value) {
                    Ok(h) => h,
                    Err(msg) => {
                        bad(&mut problems, "splunkHost", Some(s), msg);
                        Vec::new()
                    }
                },
                s => {
                    bad(
                        &mut problems,
                        "splunkHost",
                        s,
                        "splunkHost is required for outputMode splunkstream".to_string(),
                    );
                    Vec::new()
                }
            };
            // Either may be a ${env:…}/${file:…} reference.
            let mut credential = |key: &str| match settings.get(key) {
                None => String::new(),
                Some(s) => reference::secret(s).unwrap_or_else(|msg| {
                    bad(&mut problems, key, Some(s), msg);
                    String::new()
                }),
            };
            let user = credential("splunkUser").trim().to_string();
            let password = credential("splunkPass");
            // Eventgen accepts this and fails at the first login; only inside Splunk (with
            // keepOutputMode) it needs no credentials.
            for (key, empty) in [
                ("splunkUser", user.is_empty()),
                ("splunkPass", password.is_empty()),
            ] {
                if empty {
                    let mut p = Problem::warning(format!(
                        "{key} is not set: logging in at /services/auth/login will fail (only inside Splunk, with keepOutputMode = true, does splunkstream need no credentials)"
                    ))
                    .stanza(stanza)
                    .key(key);
                    if let Some(s) = settings.get(key) {
                        p = p.located(&s.location);
                    }
                    warnings.push(p);
                }
            }
            let servers = hosts.iter().map(|h| base_url(https, h, port)).collect();
            (servers, Auth::Login { user, password }, https)
        };
        let mut cfg = SplunkStreamConfig::with_servers(servers, auth);
        cfg.https = https;
        cfg.host_regex = text("hostRegex").filter(|r| !r.is_empty());
        match tls_settings(settings, stanza, &TLS_KEYS) {
            Ok(t) => cfg.tls = t,
            Err(p) => problems.extend(p),
        }
        match proxy_setting(settings, stanza, "splunkProxy") {
            Ok(p) => cfg.proxy = p,
            Err(p) => problems.push(p),
        }
        if let Some(s) = settings.get("splunkTimeout") {
            match s.value.trim().parse::<f64>() {
                Ok(secs) if secs > 0.0 && secs <= 86_400.0 => {
                    cfg.timeout = Duration::from_secs_f64(secs)
                }
                _ => bad(
                    &mut problems,
                    "splunkTimeout",
                    Some(s),
                    format!("expected seconds (0 < n <= 86400), got {:?}", s.value),
                ),
            }
        }
        if problems.is_empty() {
            Ok((cfg, warnings))
        } else {
            problems.extend(warnings);
            Err(problems)
        }
    }
}

/// `splunk.example.com`, `10.0.0.1`, `[::1]`/`::1`, or a JSON list of those.
pub fn parse_hosts(text: &str) -> Result<Vec<String>, String> {
    let t = text.trim();
    let list: Vec<String> = if t.starts_with('[') && !t.starts_with("[:") && !is_ipv6_literal(t) {
        let v: Vec<serde_json::Value> = serde_json::from_str(t).map_err(|e| {
            format!("not a valid JSON list of hosts ({e}); expected [\"host1\", \"host2\"]")
        })?;
        let mut hosts = Vec::new();
        for (i, h) in v.iter().enumerate() {
            match h.as_str().map(str::trim) {
                Some(h) if !h.is_empty() => hosts.push(h.to_string()),
                _ => {
                    return Err(format!(
                        "host {} of the list is not a non-empty string",
                        i + 1
                    ));
                }
            }
        }
        if hosts.is_empty() {
            return Err("the list of hosts is empty".to_string());
        }
        hosts
    } else {
        vec![t.to_string()]
    };
    list.iter()
        .map(|h| {
            address::host(
                h,
                "give the port in splunkPort and the scheme in splunkMethod",
            )
        })
        .collect()
}

fn is_ipv6_literal(t: &str) -> bool {
    t.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<std::net::Ipv6Addr>()
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Settings {
        Settings::from_pairs("eventgen.conf", pairs)
    }

    #[test]
    fn defaults_like_eventgen() {
        let cfg = SplunkStreamConfig::build(
            &settings(&[
                ("splunkHost", "localhost"),
                ("splunkUser", "admin"),
                ("splunkPass", "changeme"),
            ]),
            "s",
            None,
        )
        .unwrap()
        .0;
        assert_eq!(cfg.servers, ["https://localhost:8089"]);
        assert!(cfg.https && cfg.tls.verify);
        assert_eq!(format!("{:?}", cfg.auth), "Login(\"admin\")");
        assert!(!format!("{cfg:?}").contains("changeme"));
    }

    #[test]
    fn host_lists_and_ipv6() {
        assert_eq!(
            parse_hosts(r#"["a", "b.example"]"#).unwrap(),
            ["a", "b.example"]
        );
        assert_eq!(parse_hosts("[::1]").unwrap(), ["::1"]);
        assert_eq!(parse_hosts("::1").unwrap(), ["::1"]);
        assert!(parse_hosts("[]").is_err());
        assert!(parse_hosts("https://x:8089").is_err());
        assert!(parse_hosts("x:8089").is_err());
        let cfg = SplunkStreamConfig::build(
            &settings(&[
                ("splunkHost", r#"["::1","127.0.0.1"]"#),
                ("splunkPort", "18089"),
                ("splunkMethod", "http"),
                ("splunkUser", "u"),
                ("splunkPass", "p"),
                ("hostRegex", "host=(\\w+)"),
            ]),
            "s",
            None,
        )
        .unwrap()
        .0;
        assert_eq!(
            cfg.servers,
            ["http://[::1]:18089", "http://127.0.0.1:18089"]
        );
        assert_eq!(cfg.host_regex.as_deref(), Some("host=(\\w+)"));
    }

    #[test]
    fn every_problem_located_without_the_password() {
        let errs = SplunkStreamConfig::build(
            &settings(&[
                ("splunkMethod", "ftp"),
                ("splunkPort", "http"),
                ("splunkPass", "SECRET"),
                ("splunkVerifyTls", "perhaps"),
            ]),
            "web",
            None,
        )
        .unwrap_err();
        let text: Vec<String> = errs.iter().map(|p| p.to_string()).collect();
        assert_eq!(text.len(), 5, "{text:#?}");
        assert!(
            text[0].starts_with("eventgen.conf:1: [web] splunkMethod:"),
            "{}",
            text[0]
        );
        assert!(text.iter().any(|t| t.contains("splunkHost is required")));
        assert!(text.iter().any(|t| t.contains("splunkUser is not set")));
        assert!(
            !errs.last().unwrap().is_error(),
            "the missing user is a warning"
        );
        assert!(
            text.iter()
                .any(|t| t.starts_with("eventgen.conf:4: [web] splunkVerifyTls:"))
        );
        assert!(text.iter().all(|t| !t.contains("SECRET")));
    }

    #[test]
    fn inside_splunk_the_input_document_decides() {
        let d = Splunkd {
            uri: "https://127.0.0.1:8089".into(),
            session_key: "KEY".into(),
        };
        let (cfg, warnings) = SplunkStreamConfig::build(&settings(&[]), "s", Some(&d)).unwrap();
        assert!(warnings.is_empty());
        assert_eq!(cfg.servers, ["https://127.0.0.1:8089"]);
        assert_eq!(cfg.auth, Auth::SessionKey("KEY".into()));
        assert!(!format!("{d:?} {cfg:?}").contains("KEY"));
    }
}
