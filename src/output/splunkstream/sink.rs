//! The splunkstream sink. It runs on the reducer thread: a run of events with one metadata is
//! buffered until the metadata changes, the buffer reaches [`MAX_REQUEST`], or the reducer
//! flushes; then it is POSTed, and `write` blocks (back-pressure up to the generators) until a
//! server accepts it, the run's deadline passes, or the run is stopped. Nothing is dropped
//! silently: every event ends up sent, or counted as failed with a message.

use std::io;
use std::time::{Duration, Instant};

use super::config::{Auth, SplunkStreamConfig};
use crate::output::hec::Shutdown;
use crate::output::hec::log;
use crate::output::hec::request::{percent_encode, query_string};
use crate::output::hec::retry::backoff;
use crate::output::http::{self, Client, ClientOptions, Transport};
use crate::output::{Batch, BatchMeta, Sink};
use crate::rng::Rng;

/// Most bytes of events per request: large enough to be cheap per event, small enough that a
/// retry resends little. Eventgen sent whatever one flush held.
pub const MAX_REQUEST: usize = 1024 * 1024;
/// Longest a blocked write sleeps before looking at the clock and the stop flag again.
const TICK: Duration = Duration::from_millis(100);
/// Connecting gets at most this long, even with a long `splunkTimeout`.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const LOGIN_PATH: &str = "/services/auth/login";
const RECEIVER_PATH: &str = "/services/receivers/simple";

/// One server of the rotation.
struct Server {
    url: String,
    session_key: Option<String>,
    failures: u32,
    down_until: Option<Instant>,
    /// Refused our credentials or certificate: not used again in this run.
    dead: bool,
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
    rng: Rng,
    shutdown: Shutdown,
    sent: u64,
    requests: u64,
    failed: u64,
    retried: u64,
    logins: u64,
}

/// How a request went.
enum Outcome {
    Delivered,
    /// Try again later (this server cools down).
    Retry(String, Option<Duration>),
    /// The session key expired: log in again, then resend at once.
    Relogin,
    /// This server can take nothing from us.
    ServerFatal(String),
    /// The events were refused; they would be refused again.
    Drop(String),
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
                failures: 0,
                down_until: None,
                dead: false,
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
            rng: Rng::from_entropy(),
            shutdown: Shutdown::default(),
            sent: 0,
            requests: 0,
            failed: 0,
            retried: 0,
            logins: 0,
        })
    }

    /// A handle that makes a blocked write give up (on SIGTERM).
    pub fn shutdown_handle(&self) -> Shutdown {
        self.shutdown.clone()
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

    /// `index=..&source=..&sourcetype=..&host_regex=..&host=..`, empty values left out.
    fn query(&self, meta: &BatchMeta) -> String {
        query_string(&[
            ("index", &meta.index),
            ("source", &meta.source),
            ("sourcetype", &meta.sourcetype),
            (
                "host_regex",
                self.config.host_regex.as_deref().unwrap_or(""),
            ),
            ("host", &meta.host),
        ])
    }

    /// Picks the next live server that is not cooling down; `Err(wait)` if all are cooling,
    /// `Ok(None)` if none is left.
    fn pick(&mut self, now: Instant) -> Result<Option<usize>, Duration> {
        let n = self.servers.len();
        let mut soonest: Option<Duration> = None;
        for k in 0..n {
            let i = (self.next + k) % n;
            let s = &self.servers[i];
            if s.dead {
                continue;
            }
            match s.down_until.and_then(|t| t.checked_duration_since(now)) {
                Some(wait) if !wait.is_zero() => {
                    soonest = Some(soonest.map_or(wait, |w| w.min(wait)));
                }
                _ => {
                    self.next = (i + 1) % n;
                    return Ok(Some(i));
                }
            }
        }
        match soonest {
            Some(w) => Err(w),
            None => Ok(None),
        }
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

    fn failed_attempt(&mut self, i: usize, error: &str, retry_after: Option<Duration>) {
        let error = self.scrub(error);
        let s = &mut self.servers[i];
        s.failures += 1;
        let wait = backoff(s.failures, retry_after, &mut self.rng);
        s.down_until = Some(Instant::now() + wait);
        if s.failures == 1 || s.failures.is_power_of_two() {
            log::warn(format_args!(
                "splunkstream {}: {error}; retrying in {:.1}s (failure {} in a row)",
                s.url,
                wait.as_secs_f64(),
                s.failures
            ));
        }
    }

    fn kill(&mut self, i: usize, why: &str) {
        let why = self.scrub(why);
        let s = &mut self.servers[i];
        s.dead = true;
        log::error(format_args!(
            "splunkstream {}: {why}; no more events go to this server",
            s.url
        ));
    }

    /// Logs in at server `i` for a session key.
    fn login(&mut self, i: usize, deadline: Option<Instant>) -> Outcome {
        let Auth::Login { user, password } = &self.config.auth else {
            return Outcome::ServerFatal(
                "splunkd refused the session key it handed to the modular input (401)".to_string(),
            );
        };
        let mut form = String::from("username=");
        percent_encode(user, &mut form);
        form.push_str("&password=");
        percent_encode(password, &mut form);
        let url = format!("{}{LOGIN_PATH}", self.servers[i].url);
        let headers = [("Content-Type", "application/x-www-form-urlencoded")];
        self.requests += 1;
        let timeout = self.timeout(deadline);
        match self.client.post(&url, &headers, form.into_bytes(), timeout) {
            Ok(r) if r.status == 200 => match session_key(&r.body) {
                Some(key) => {
                    self.logins += 1;
                    self.servers[i].session_key = Some(key);
                    Outcome::Delivered
                }
                None => Outcome::Retry("the login answer holds no <sessionKey>".to_string(), None),
            },
            Ok(r) if matches!(r.status, 400 | 401 | 403) => Outcome::ServerFatal(format!(
                "login refused, credentials are missing or wrong (check splunkUser and splunkPass): {}",
                describe(r.status, &r.body)
            )),
            Ok(r) => Outcome::Retry(
                format!("login failed: {}", describe(r.status, &r.body)),
                r.retry_after,
            ),
            Err(f) => transport(f),
        }
    }

    /// POSTs the buffered events to server `i`.
    fn post(&mut self, i: usize, query: &str, deadline: Option<Instant>) -> Outcome {
        let Some(key) = self.servers[i].session_key.clone() else {
            return Outcome::Relogin;
        };
        let auth = format!("Splunk {key}");
        let url = format!("{}{RECEIVER_PATH}?{query}", self.servers[i].url);
        let headers = [
            ("Authorization", auth.as_str()),
            ("Content-Type", "text/plain"),
        ];
        self.requests += 1;
        let timeout = self.timeout(deadline);
        match self.client.post(&url, &headers, self.body.clone(), timeout) {
            Ok(r) => match r.status {
                200..=299 => Outcome::Delivered,
                401 => Outcome::Relogin,
                403 => Outcome::ServerFatal(format!(
                    "the user may not send events (403; it needs the edit_tcp capability): {}",
                    describe(r.status, &r.body)
                )),
                408 | 429 | 500..=599 => Outcome::Retry(describe(r.status, &r.body), r.retry_after),
                _ => Outcome::Drop(describe(r.status, &r.body)),
            },
            Err(f) => transport(f),
        }
    }

    /// Sends the buffer, retrying until a server takes it, the deadline passes or the run stops.
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
            let i = match self.pick(now) {
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
            let outcome = if self.servers[i].session_key.is_none() {
                fresh_login = true;
                match self.login(i, deadline) {
                    Outcome::Delivered => self.post(i, &query, deadline),
                    other => other,
                }
            } else {
                self.post(i, &query, deadline)
            };
            match outcome {
                Outcome::Delivered => {
                    let s = &mut self.servers[i];
                    if s.failures > 0 {
                        log::info(format_args!(
                            "splunkstream {}: sending again after {} failed attempts",
                            s.url, s.failures
                        ));
                    }
                    s.failures = 0;
                    s.down_until = None;
                    self.sent += self.events;
                    self.clear();
                    return Ok(());
                }
                Outcome::Relogin => {
                    let just_logged_in = fresh_login;
                    self.servers[i].session_key = None;
                    if !matches!(self.config.auth, Auth::Login { .. }) {
                        self.kill(
                            i,
                            "splunkd refused the session key it handed to the modular input (401)",
                        );
                    } else if just_logged_in {
                        // A key refused right after login: wait before trying again.
                        self.retried += self.events;
                        self.failed_attempt(i, "a new session key was refused (401)", None);
                    }
                    fresh_login = false;
                }
                Outcome::Retry(error, retry_after) => {
                    self.retried += self.events;
                    self.failed_attempt(i, &error, retry_after);
                }
                Outcome::ServerFatal(why) => self.kill(i, &why),
                Outcome::Drop(why) => {
                    let why = self.scrub(&why);
                    log::error(format_args!(
                        "splunkstream {}: the server refused {} events: {why}",
                        self.servers[i].url, self.events
                    ));
                    self.failed += self.events;
                    self.clear();
                    return Err(io::Error::other(format!(
                        "splunkstream: events refused: {why}"
                    )));
                }
            }
        }
    }

    fn give_up(&mut self, why: &str) -> io::Result<()> {
        let n = self.events;
        self.failed += n;
        self.clear();
        Err(io::Error::other(format!(
            "splunkstream: {n} events not delivered: {why}"
        )))
    }

    fn clear(&mut self) {
        self.body.clear();
        self.events = 0;
    }

    fn summary(&self) -> String {
        let mut s = format!(
            "splunkstream: sent {} events in {} requests",
            self.sent, self.requests
        );
        if self.logins > 0 {
            s.push_str(&format!(", {} logins", self.logins));
        }
        if self.retried > 0 {
            s.push_str(&format!(", retried {}", self.retried));
        }
        if self.failed > 0 {
            s.push_str(&format!(", failed {}", self.failed));
        }
        s
    }
}

impl Sink for SplunkStreamSink {
    fn write(&mut self, batch: &Batch) -> io::Result<()> {
        if batch.is_empty() {
            return Ok(());
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
            self.body.extend_from_slice(ev);
            self.events += 1;
        }
        if self.body.len() >= MAX_REQUEST {
            self.send(None)?;
        }
        result
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send(None)
    }

    fn finish(&mut self, deadline: Instant) -> io::Result<Option<String>> {
        let sent = self.send(Some(deadline));
        let summary = self.summary();
        if self.failed > 0 {
            return Err(io::Error::other(format!(
                "{summary} ({} events not delivered)",
                self.failed
            )));
        }
        sent?;
        Ok(Some(summary))
    }
}

fn transport(f: http::Failure) -> Outcome {
    match f.kind {
        Transport::TlsVerification => Outcome::ServerFatal(format!(
            "TLS certificate not trusted ({}). To trust Splunk's default certificate set \
             splunkCaFile = $SPLUNK_HOME/etc/auth/cacert.pem (the certificate must also name \
             this host), or turn verification off with splunkVerifyTls = false",
            f.error
        )),
        Transport::TlsClientRefused => Outcome::ServerFatal(format!(
            "the server refused our TLS client certificate ({}); set splunkClientCert",
            f.error
        )),
        Transport::Connect | Transport::Timeout | Transport::Broken => {
            Outcome::Retry(f.error, None)
        }
    }
}

/// The `<sessionKey>` of a login answer, unescaped.
pub fn session_key(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let start = text.find("<sessionKey>")? + "<sessionKey>".len();
    let end = start + text[start..].find("</sessionKey>")?;
    let key = quick_xml::escape::unescape(text[start..end].trim()).ok()?;
    (!key.is_empty()).then(|| key.into_owned())
}

/// `HTTP 503: busy` with the body shortened to one line.
fn describe(status: u16, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect();
    line = line.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.is_empty() {
        line.push_str("(empty body)");
    }
    format!("HTTP {status}: {line}")
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
            "index=main&source=/var/log/a.log&host_regex=host%3D(%5Cw%2B)&host=web%2001"
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
