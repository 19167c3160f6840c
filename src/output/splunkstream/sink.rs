//! The splunkstream sink. It runs on the reducer thread: a run of events with one metadata is
//! buffered until the metadata changes, the buffer reaches [`MAX_REQUEST`], or the reducer
//! flushes; then it is POSTed, and `write` blocks (back-pressure up to the generators) until a
//! server accepts it, refuses it, the run's deadline passes, or the run is stopped.
//!
//! Replies are classified by the network core ([`crate::output::netcore`]): a request refused
//! for its content (a 4xx other than 401/403) is dropped, its events counted as failed, and the
//! run goes on; `write` fails only when no server can ever take events again (credentials or
//! TLS trust refused everywhere) or the run is stopping. Every event is settled once in the
//! [`NetStats`], so `failed_events` is exact.

use std::collections::HashSet;
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::config::{Auth, SplunkStreamConfig};
use crate::output::http::{Client, ClientOptions, Failure};
use crate::output::netcore::{
    Credentials, Decision, Health, NetStats, Reply, Shutdown, advice, classify, describe, log,
    next_ready,
};
use crate::output::{Batch, BatchMeta, Sink};

/// Most bytes of events per request: large enough to be cheap per event, small enough that a
/// retry resends little. Eventgen sent whatever one flush held.
pub const MAX_REQUEST: usize = 1024 * 1024;
/// Longest a blocked write sleeps before looking at the clock and the stop flag again.
const TICK: Duration = Duration::from_millis(100);
/// Connecting gets at most this long, even with a long `splunkTimeout`.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const LOGIN_PATH: &str = "/services/auth/login";
const RECEIVER_PATH: &str = "/services/receivers/simple";
/// The keys splunkstream's transport advice points to.
const KEYS: advice::Keys = advice::Keys {
    ca_file: "splunkCaFile",
    verify: "splunkVerifyTls",
    client_cert: "splunkClientCert (and splunkClientKey)",
};

/// One server of the rotation.
struct Server {
    url: String,
    session_key: Option<String>,
    health: Health,
}

/// The `splunkstream` sink.
pub struct SplunkStreamSink {
    config: SplunkStreamConfig,
    client: Client,
    servers: Vec<Server>,
    /// Next server of the rotation.
    next: usize,
    body: Vec<u8>,
    events: u64,
    meta: Option<BatchMeta>,
    shutdown: Shutdown,
    stats: Arc<NetStats>,
    logins: u64,
    /// Kinds of refusals already logged (`HTTP 400`; each is logged once).
    logged: HashSet<String>,
}

/// How one attempt went, beyond what [`classify`] says.
enum Outcome {
    /// A decision with the reply in words and the server's `Retry-After`.
    Decided(Decision, String, Option<Duration>),
    /// There is no session key yet (or it expired): log in first.
    NeedLogin,
}

impl SplunkStreamSink {
    /// Sets up the client; fails only on TLS or proxy setup problems.
    pub fn new(config: SplunkStreamConfig) -> Result<SplunkStreamSink, String> {
        let client = Client::build(&ClientOptions {
            tls: config.https.then_some(&config.tls),
            proxy: &config.proxy,
            connect_timeout: config.timeout.min(MAX_CONNECT_TIMEOUT),
            max_connections: 1,
        })?;
        let session_key = match &config.auth {
            Auth::SessionKey(k) => Some(k.clone()),
            Auth::Login { .. } => None,
        };
        let servers = config
            .servers
            .iter()
            .map(|url| Server {
                url: url.clone(),
                session_key: session_key.clone(),
                health: Health::new(format!("splunkstream {url}")),
            })
            .collect();
        Ok(SplunkStreamSink {
            config,
            client,
            servers,
            next: 0,
            body: Vec::new(),
            events: 0,
            meta: None,
            shutdown: Shutdown::default(),
            stats: Arc::new(NetStats::default()),
            logins: 0,
            logged: HashSet::new(),
        })
    }

    /// A handle that makes a blocked write give up (on SIGTERM).
    pub fn shutdown_handle(&self) -> Shutdown {
        self.shutdown.clone()
    }

    /// The delivery counters, for `/metrics` and the progress line.
    pub fn stats(&self) -> Arc<NetStats> {
        self.stats.clone()
    }

    fn credentials(&self) -> Credentials {
        match self.config.auth {
            Auth::Login { .. } => Credentials::Renewable,
            Auth::SessionKey(_) => Credentials::Fixed,
        }
    }

    /// The message without any secret in it.
    fn scrub(&self, text: &str) -> String {
        let mut t = text.to_string();
        let mut secrets: Vec<&str> = self.config.auth.secrets();
        secrets.extend(self.servers.iter().filter_map(|s| s.session_key.as_deref()));
        for s in secrets.into_iter().filter(|s| s.len() >= 3) {
            t = t.replace(s, "***");
        }
        t
    }

    /// `index=..&source=..&sourcetype=..&host_regex=..&host=..`, empty values left out,
    /// form-encoded as Eventgen's `urllib.urlencode` did.
    fn query(&self, meta: &BatchMeta) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("index", meta.index.as_str()),
            ("source", &meta.source),
            ("sourcetype", &meta.sourcetype),
            (
                "host_regex",
                self.config.host_regex.as_deref().unwrap_or(""),
            ),
            ("host", &meta.host),
        ] {
            if !v.is_empty() {
                q.append_pair(k, v);
            }
        }
        q.finish()
    }

    fn timeout(&self, deadline: Option<Instant>) -> Duration {
        match deadline {
            Some(d) => self
                .config
                .timeout
                .min(d.saturating_duration_since(Instant::now())),
            None => self.config.timeout,
        }
    }

    /// Logs in at server `i` for a session key.
    fn login(&mut self, i: usize, deadline: Option<Instant>) -> Outcome {
        let Auth::Login { user, password } = &self.config.auth else {
            return Outcome::Decided(
                Decision::ServerFatal,
                "splunkd refused the session key it handed to the modular input (401)".to_string(),
                None,
            );
        };
        let form = form_urlencoded::Serializer::new(String::new())
            .append_pair("username", user)
            .append_pair("password", password)
            .finish();
        let url = format!("{}{LOGIN_PATH}", self.servers[i].url);
        let headers = [("Content-Type", "application/x-www-form-urlencoded")];
        let timeout = self.timeout(deadline);
        match self.client.post(&url, &headers, form.into_bytes(), timeout) {
            Ok(r) if r.status == 200 => match session_key(&r.body) {
                Some(key) => {
                    self.logins += 1;
                    self.servers[i].session_key = Some(key);
                    Outcome::Decided(Decision::Delivered, String::new(), None)
                }
                None => Outcome::Decided(
                    Decision::Retry,
                    "the login answer holds no <sessionKey>".to_string(),
                    None,
                ),
            },
            Ok(r) if matches!(r.status, 400 | 401 | 403) => Outcome::Decided(
                Decision::ServerFatal,
                format!(
                    "login refused, credentials are missing or wrong (check splunkUser and splunkPass): {}",
                    describe(r.status, &r.body)
                ),
                None,
            ),
            Ok(r) => Outcome::Decided(
                Decision::Retry,
                format!("login failed: {}", describe(r.status, &r.body)),
                r.retry_after,
            ),
            Err(f) => transport(&f),
        }
    }

    /// POSTs the buffered events to server `i`.
    fn post(&mut self, i: usize, query: &str, deadline: Option<Instant>) -> Outcome {
        let Some(key) = self.servers[i].session_key.clone() else {
            return Outcome::NeedLogin;
        };
        let auth = format!("Splunk {key}");
        let url = format!("{}{RECEIVER_PATH}?{query}", self.servers[i].url);
        let headers = [
            ("Authorization", auth.as_str()),
            ("Content-Type", "text/plain"),
        ];
        let timeout = self.timeout(deadline);
        match self.client.post(&url, &headers, self.body.clone(), timeout) {
            Ok(r) => {
                let reply = Reply::Http {
                    status: r.status,
                    body: &r.body,
                };
                let decision = classify(reply, self.credentials());
                let mut error = describe(r.status, &r.body);
                if r.status == 403 {
                    error = format!(
                        "the user may not send events (403; it needs the edit_tcp capability): {error}"
                    );
                } else if decision == Decision::ServerFatal && r.status == 401 {
                    error = format!(
                        "splunkd refused the session key it handed to the modular input: {error}"
                    );
                }
                Outcome::Decided(decision, error, r.retry_after)
            }
            Err(f) => transport(&f),
        }
    }

    /// Sends the buffer, retrying until a server takes it or refuses it, the deadline passes,
    /// the run stops, or no server is left.
    fn send(&mut self, deadline: Option<Instant>) -> io::Result<()> {
        let Some(meta) = self.meta.clone() else {
            return Ok(());
        };
        if self.events == 0 {
            return Ok(());
        }
        let query = self.query(&meta);
        let mut fresh_login = false;
        loop {
            let now = Instant::now();
            if self.shutdown.is_triggered() {
                return self.give_up("the run was stopped");
            }
            if deadline.is_some_and(|d| now >= d) {
                return self.give_up("the deadline passed");
            }
            let i = match next_ready(&self.servers, |s| &s.health, &mut self.next, now) {
                Ok(Some(i)) => i,
                Ok(None) => return self.give_up("no server left to send to"),
                Err(wait) => {
                    let mut wait = wait.min(TICK);
                    if let Some(d) = deadline {
                        wait = wait.min(d.saturating_duration_since(now));
                    }
                    std::thread::sleep(wait);
                    continue;
                }
            };
            let mut outcome = self.post(i, &query, deadline);
            if let Outcome::NeedLogin = outcome {
                fresh_login = true;
                outcome = match self.login(i, deadline) {
                    Outcome::Decided(Decision::Delivered, ..) => self.post(i, &query, deadline),
                    other => other,
                };
            }
            let (decision, error, retry_after) = match outcome {
                Outcome::Decided(d, e, r) => (d, self.scrub(&e), r),
                Outcome::NeedLogin => continue,
            };
            let n = self.events;
            match decision {
                Decision::Delivered => {
                    self.servers[i].health.succeeded();
                    self.stats.delivered(n, 1);
                    self.clear();
                    return Ok(());
                }
                Decision::Relogin => {
                    self.servers[i].session_key = None;
                    if fresh_login {
                        // A key refused right after login: wait before trying again.
                        NetStats::add(&self.stats.retried, n);
                        self.servers[i]
                            .health
                            .failed("a new session key was refused (401)", None);
                    }
                    fresh_login = false;
                }
                Decision::Retry => {
                    NetStats::add(&self.stats.retried, n);
                    self.servers[i].health.failed(&error, retry_after);
                }
                Decision::ServerFatal => {
                    self.servers[i].health.kill(&error);
                }
                Decision::Drop | Decision::Split | Decision::Uncompressed => {
                    // splunkstream neither compresses nor splits: the request is refused as it is.
                    let kind = error.split(':').next().unwrap_or_default().to_string();
                    if self.logged.insert(kind) {
                        log::error(format_args!(
                            "splunkstream {}: the server refused a request of {n} events: {error}; \
                             dropping such requests (logged once, counted as failed), the run goes on",
                            self.servers[i].url
                        ));
                    }
                    self.stats.fail(n);
                    self.clear();
                    return Ok(());
                }
            }
        }
    }

    /// Counts the buffered events as failed. An error for the reducer: the output cannot take
    /// events now (stopping, deadline) or ever again (no server left).
    fn give_up(&mut self, why: &str) -> io::Result<()> {
        let n = self.events;
        self.stats.fail(n);
        self.clear();
        Err(io::Error::other(format!(
            "splunkstream: {n} events not delivered: {why}"
        )))
    }

    fn clear(&mut self) {
        self.body.clear();
        self.events = 0;
    }

    fn dead(&self) -> bool {
        self.servers.iter().all(|s| s.health.is_dead())
    }

    fn summary(&self) -> String {
        let snap = self.stats.snapshot();
        let mut s = format!(
            "splunkstream: sent {} events in {} requests",
            snap.sent, snap.requests
        );
        if self.logins > 0 {
            s.push_str(&format!(", {} logins", self.logins));
        }
        if snap.retried > 0 {
            s.push_str(&format!(", retried {}", snap.retried));
        }
        if snap.failed > 0 {
            s.push_str(&format!(", failed {}", snap.failed));
        }
        s
    }
}

impl Sink for SplunkStreamSink {
    fn write(&mut self, batch: &Batch) -> io::Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        if self.dead() {
            self.stats.take(batch.len() as u64);
            self.stats.fail(batch.len() as u64);
            return Err(io::Error::other(
                "splunkstream: no server left to send to (every server refused our credentials or TLS)",
            ));
        }
        let mut result = Ok(());
        if self.meta.as_ref().is_some_and(|m| *m != batch.meta) {
            result = self.send(None);
        }
        if self.meta.as_ref() != Some(&batch.meta) {
            self.meta = Some(batch.meta.clone());
        }
        for ev in batch.events() {
            if self.body.len() + ev.len() > MAX_REQUEST
                && self.events > 0
                && let Err(e) = self.send(None)
            {
                result = Err(e);
            }
            self.stats.take(1);
            self.body.extend_from_slice(ev);
            self.events += 1;
        }
        if self.body.len() >= MAX_REQUEST
            && let Err(e) = self.send(None)
        {
            result = Err(e);
        }
        result
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send(None)
    }

    fn finish(&mut self, deadline: Instant) -> io::Result<Option<String>> {
        let sent = self.send(Some(deadline));
        let summary = self.summary();
        let failed = self.stats.failed_events();
        if failed > 0 {
            return Err(io::Error::other(format!(
                "{summary} ({failed} events not delivered)"
            )));
        }
        sent?;
        Ok(Some(summary))
    }

    fn failed_events(&self) -> Option<u64> {
        Some(self.stats.failed_events())
    }
}

fn transport(f: &Failure) -> Outcome {
    let decision = classify(Reply::Transport(f.kind), Credentials::Fixed);
    let error = advice::transport(f, &KEYS);
    Outcome::Decided(decision, error, None)
}

/// The `<sessionKey>` of a login answer, unescaped.
pub fn session_key(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let start = text.find("<sessionKey>")? + "<sessionKey>".len();
    let end = start + text[start..].find("</sessionKey>")?;
    let key = quick_xml::escape::unescape(text[start..end].trim()).ok()?;
    (!key.is_empty()).then(|| key.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_key_from_login_answer() {
        let body = b"<response>\n  <sessionKey>ab^c&amp;d_1</sessionKey>\n</response>\n";
        assert_eq!(session_key(body).as_deref(), Some("ab^c&d_1"));
        assert_eq!(
            session_key(b"<response><sessionKey></sessionKey></response>"),
            None
        );
        assert_eq!(session_key(b"<response/>"), None);
        assert_eq!(session_key(b"\xff<sessionKey>"), None);
    }

    #[test]
    fn query_in_eventgen_order_without_empty_values() {
        let mut cfg = SplunkStreamConfig::with_servers(
            vec!["http://127.0.0.1:1".into()],
            Auth::SessionKey("k".into()),
        );
        cfg.host_regex = Some("host=(\\w+)".into());
        let sink = SplunkStreamSink::new(cfg).unwrap();
        let meta = BatchMeta {
            host: "web 01".into(),
            source: "/var/log/a.log".into(),
            sourcetype: "".into(),
            index: "main".into(),
        };
        assert_eq!(
            sink.query(&meta),
            "index=main&source=%2Fvar%2Flog%2Fa.log&host_regex=host%3D%28%5Cw%2B%29&host=web+01"
        );
    }

    #[test]
    fn secrets_are_scrubbed() {
        let cfg = SplunkStreamConfig::with_servers(
            vec!["http://127.0.0.1:1".into()],
            Auth::Login {
                user: "admin".into(),
                password: "hunter2".into(),
            },
        );
        let sink = SplunkStreamSink::new(cfg).unwrap();
        assert_eq!(sink.scrub("bad password hunter2!"), "bad password ***!");
    }
}
