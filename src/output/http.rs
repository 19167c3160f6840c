//! The HTTP client of the network outputs (HEC and splunkstream): reqwest's blocking client over
//! rustls, with proxies, client certificates and pooled keep-alive connections.
//!
//! [`Client::build`] turns checked settings into a client (one per server: its pool holds as many
//! connections as the output has requests in flight). [`Client::post`] sends one request and
//! returns either the status, body and `Retry-After`, or a [`Failure`] whose [`Transport`] kind
//! feeds the outputs' retry decisions. Malformed responses (bad status lines, oversized chunks,
//! truncated bodies, huge heads) are failures of kind [`Transport::Broken`], never panics.
//! Secrets travel only in headers marked sensitive, and no message here quotes a header.

use std::io::Read;
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};

use super::tls::{self, TlsFailure, TlsSettings};

/// Longest response body kept; HEC and splunkd answers are small JSON or XML documents.
const MAX_BODY: usize = 4 * 1024 * 1024;

/// How a request ended before any HTTP status could be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Could not connect (refused, unreachable, DNS, proxy).
    Connect,
    /// No answer in time.
    Timeout,
    /// The connection broke, or the response was not valid HTTP.
    Broken,
    /// The server's TLS certificate was not trusted. Retrying will not help.
    TlsVerification,
    /// The server refused our TLS client certificate (or that we had none).
    TlsClientRefused,
}

/// Which proxy requests go through.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Proxy {
    /// `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` (either case), as curl reads them.
    #[default]
    Environment,
    /// Connect directly, whatever the environment says.
    Off,
    /// This proxy URL for every server (`http://host:port`, optionally with `user:pass@`).
    Url(String),
}

impl Proxy {
    /// Parses a proxy setting: empty or `environment`, `none`/`off`/`direct`, or a URL.
    pub fn parse(text: &str) -> Result<Proxy, String> {
        let t = text.trim();
        match t.to_ascii_lowercase().as_str() {
            "" | "env" | "environment" => Ok(Proxy::Environment),
            "none" | "off" | "direct" | "false" => Ok(Proxy::Off),
            _ => {
                let with_scheme = if t.contains("://") {
                    t.to_string()
                } else {
                    format!("http://{t}")
                };
                match reqwest::Url::parse(&with_scheme) {
                    Ok(u) if matches!(u.scheme(), "http" | "https" | "socks5" | "socks5h") => {
                        if u.host_str().is_none_or(str::is_empty) {
                            Err(format!("proxy URL {:?} has no host", redact_url(t)))
                        } else {
                            Ok(Proxy::Url(with_scheme))
                        }
                    }
                    Ok(u) => Err(format!(
                        "proxy scheme must be http or https, got {:?}",
                        u.scheme()
                    )),
                    Err(e) => Err(format!("not a proxy URL ({e}): {:?}", redact_url(t))),
                }
            }
        }
    }
}

/// A proxy URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***@{}", &url[..s], &url[at + 1..]),
        (None, Some(at)) => format!("***@{}", &url[at + 1..]),
        _ => url.to_string(),
    }
}

/// Settings of one client.
#[derive(Debug, Clone)]
pub struct ClientOptions<'a> {
    /// TLS settings; `None` for a plain-HTTP server.
    pub tls: Option<&'a TlsSettings>,
    pub proxy: &'a Proxy,
    /// Longest wait for connecting (TCP, proxy and TLS handshake).
    pub connect_timeout: Duration,
    /// Keep-alive connections kept per server.
    pub max_connections: usize,
}

/// A request that got no HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub kind: Transport,
    /// What went wrong, from the outermost to the innermost cause, without the URL.
    pub error: String,
}

/// One response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
    pub retry_after: Option<Duration>,
}

/// An HTTP client for the servers of one output.
#[derive(Debug, Clone)]
pub struct Client(reqwest::blocking::Client);

impl Client {
    /// Builds the client; fails only on TLS or proxy setup problems.
    pub fn build(opts: &ClientOptions<'_>) -> Result<Client, String> {
        let mut b = reqwest::blocking::Client::builder()
            .http1_only()
            .tcp_nodelay(true)
            .connect_timeout(opts.connect_timeout)
            .pool_max_idle_per_host(opts.max_connections)
            .user_agent(concat!("eventgen/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            // Timeouts are per request (they shrink near the end of a run).
            .timeout(None::<Duration>);
        // Always our own rustls settings (ring, never a process-wide default provider); for a
        // plain-HTTP server they only matter for an https proxy.
        let defaults = TlsSettings::default();
        b = b.tls_backend_preconfigured(tls::client_config(opts.tls.unwrap_or(&defaults))?);
        b = match opts.proxy {
            Proxy::Environment => b,
            Proxy::Off => b.no_proxy(),
            Proxy::Url(url) => b.proxy(
                reqwest::Proxy::all(url.as_str())
                    .map_err(|e| format!("proxy {}: {e}", redact_url(url)))?,
            ),
        };
        b.build()
            .map(Client)
            .map_err(|e| format!("cannot set up the HTTP client: {}", chain(&e)))
    }

    /// POSTs `body` to `url` with `headers` (the `Authorization` header is marked sensitive)
    /// and reads the answer, all within `timeout`.
    pub fn post(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<Response, Failure> {
        self.send(reqwest::Method::POST, url, headers, body, timeout)
    }

    /// [`post`](Self::post) with `PUT` (S3 objects).
    pub fn put(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<Response, Failure> {
        self.send(reqwest::Method::PUT, url, headers, body, timeout)
    }

    fn send(
        &self,
        method: reqwest::Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<Response, Failure> {
        let mut map = HeaderMap::with_capacity(headers.len());
        for (k, v) in headers {
            let name = HeaderName::from_bytes(k.as_bytes()).map_err(|e| invalid(&e))?;
            let mut value = HeaderValue::from_str(v).map_err(|e| invalid(&e))?;
            if name == reqwest::header::AUTHORIZATION {
                value.set_sensitive(true);
            }
            map.insert(name, value);
        }
        let resp = self
            .0
            .request(method, url)
            .headers(map)
            .body(body)
            .timeout(timeout)
            .send()
            .map_err(|e| failure(&e))?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now()));
        let mut body = Vec::new();
        resp.take(MAX_BODY as u64 + 1)
            .read_to_end(&mut body)
            .map_err(|e| Failure {
                kind: io_kind(&e),
                error: format!("reading the response: {}", chain(&e)),
            })?;
        if body.len() > MAX_BODY {
            return Err(Failure {
                kind: Transport::Broken,
                error: format!("response body larger than {MAX_BODY} bytes"),
            });
        }
        Ok(Response {
            status,
            body,
            retry_after,
        })
    }
}

fn invalid(e: &dyn std::error::Error) -> Failure {
    Failure {
        kind: Transport::Broken,
        error: format!("invalid request header: {e}"),
    }
}

/// `Retry-After`: delay seconds, or an HTTP date (a past date means now).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let date = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(date.timestamp()).ok()?);
    Some(at.duration_since(now).unwrap_or_default())
}

/// The kind of a failed request.
fn failure(e: &reqwest::Error) -> Failure {
    let kind = match tls_failure(e) {
        Some(TlsFailure::ServerNotTrusted) => Transport::TlsVerification,
        Some(TlsFailure::ClientRefused) => Transport::TlsClientRefused,
        None if e.is_timeout() => Transport::Timeout,
        None if e.is_connect() => Transport::Connect,
        None => Transport::Broken,
    };
    Failure {
        kind,
        error: chain(e),
    }
}

fn io_kind(e: &std::io::Error) -> Transport {
    match tls_failure(e) {
        Some(TlsFailure::ServerNotTrusted) => Transport::TlsVerification,
        Some(TlsFailure::ClientRefused) => Transport::TlsClientRefused,
        None if e.kind() == std::io::ErrorKind::TimedOut => Transport::Timeout,
        None => Transport::Broken,
    }
}

/// Every cause of `e`, outermost first, also those wrapped inside `io::Error`s.
fn causes<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> Vec<&'a (dyn std::error::Error + 'static)> {
    let mut out = Vec::new();
    let mut next = Some(e);
    while let Some(err) = next {
        out.push(err);
        next = match err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => err.source(),
        };
        if out.len() > 16 {
            break;
        }
    }
    out
}

fn tls_failure(e: &(dyn std::error::Error + 'static)) -> Option<TlsFailure> {
    causes(e)
        .into_iter()
        .filter_map(|c| c.downcast_ref::<rustls::Error>())
        .find_map(tls::failure_kind)
}

/// `error sending request: client error (Connect): tcp connect error: Connection refused`:
/// each cause once, without reqwest's URL.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    for c in causes(e) {
        let mut text = c.to_string();
        if let Some(at) = text.find(" for url (") {
            text.truncate(at);
        }
        if parts.last().is_some_and(|p| p.contains(&text)) {
            continue;
        }
        parts.push(text);
    }
    parts.join(": ")
}

/// `http://host:port` or `https://[::1]:port` for a server address.
pub fn base_url(tls: bool, address: &str, port: u16) -> String {
    let scheme = if tls { "https" } else { "http" };
    if address.contains(':') {
        format!("{scheme}://[{address}]:{port}")
    } else {
        format!("{scheme}://{address}:{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::TcpListener;
    use std::thread;

    fn client() -> Client {
        Client::build(&ClientOptions {
            tls: None,
            proxy: &Proxy::Off,
            connect_timeout: Duration::from_secs(2),
            max_connections: 1,
        })
        .unwrap()
    }

    /// A server that reads one request head and answers `reply` on each connection, `n` times.
    fn answer(replies: Vec<&'static [u8]>) -> u16 {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        thread::spawn(move || {
            for r in replies {
                let Ok((mut s, _)) = l.accept() else { return };
                s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                let mut got = Vec::new();
                let mut b = [0u8; 4096];
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut b) {
                        Ok(n) if n > 0 => got.extend_from_slice(&b[..n]),
                        _ => break,
                    }
                }
                let _ = s.write_all(r);
            }
        });
        port
    }

    #[test]
    fn status_body_and_retry_after() {
        let port = answer(vec![
            b"HTTP/1.1 503 Busy\r\nTransfer-Encoding: chunked\r\nRetry-After: 7\r\nConnection: close\r\n\r\n4\r\nbusy\r\n3\r\n!!!\r\n0\r\n\r\n",
        ]);
        let r = client()
            .post(
                &format!("http://127.0.0.1:{port}/x"),
                &[("Authorization", "Splunk t")],
                b"{}".to_vec(),
                Duration::from_secs(5),
            )
            .unwrap();
        assert_eq!(
            (r.status, r.body.as_slice(), r.retry_after),
            (503, &b"busy!!!"[..], Some(Duration::from_secs(7)))
        );
    }

    #[test]
    fn malformed_responses_are_broken_not_panics() {
        let replies: Vec<&'static [u8]> = vec![
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffffff\r\nx\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort",
            b"garbage status line\r\n\r\n",
            b"HTTP/1.1 abc OK\r\n\r\n",
        ];
        let n = replies.len();
        let port = answer(replies);
        for i in 0..n {
            let f = client()
                .post(
                    &format!("http://127.0.0.1:{port}/x"),
                    &[],
                    Vec::new(),
                    Duration::from_secs(5),
                )
                .unwrap_err();
            assert_eq!(f.kind, Transport::Broken, "reply {i}: {}", f.error);
        }
    }

    #[test]
    fn refused_connection_is_a_connect_failure() {
        let port = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let f = client()
            .post(
                &format!("http://127.0.0.1:{port}/"),
                &[],
                Vec::new(),
                Duration::from_secs(2),
            )
            .unwrap_err();
        assert_eq!(f.kind, Transport::Connect, "{}", f.error);
        assert!(!f.error.contains("127.0.0.1"), "{}", f.error);
    }

    #[test]
    fn slow_server_times_out() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let h = thread::spawn(move || {
            let (s, _) = l.accept().unwrap();
            thread::sleep(Duration::from_millis(800));
            drop(s);
        });
        let f = client()
            .post(
                &format!("http://127.0.0.1:{port}/"),
                &[],
                Vec::new(),
                Duration::from_millis(200),
            )
            .unwrap_err();
        assert_eq!(f.kind, Transport::Timeout, "{}", f.error);
        h.join().unwrap();
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        // Sun, 06 Nov 1994 08:49:37 GMT is 784111777.
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:50:37 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn proxy_settings() {
        assert_eq!(Proxy::parse("").unwrap(), Proxy::Environment);
        assert_eq!(Proxy::parse("None").unwrap(), Proxy::Off);
        assert_eq!(
            Proxy::parse("proxy.corp:3128").unwrap(),
            Proxy::Url("http://proxy.corp:3128".into())
        );
        let e = Proxy::parse("ftp://u:pw@x").unwrap_err();
        assert!(e.contains("http or https") && !e.contains("pw"), "{e}");
        assert_eq!(redact_url("http://u:pw@h:1"), "http://***@h:1");
    }

    #[test]
    fn urls_bracket_ipv6() {
        assert_eq!(base_url(true, "::1", 8088), "https://[::1]:8088");
        assert_eq!(
            base_url(false, "splunk.example", 80),
            "http://splunk.example:80"
        );
    }
}
