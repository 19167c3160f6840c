//! A small scriptable splunkd for the `splunkstream` tests: std::net, a thread per connection,
//! HTTP/1.1 keep-alive with Content-Length bodies. `POST /services/auth/login` checks the form
//! and hands out `key-1`, `key-2`, ...; `POST /services/receivers/simple` checks the
//! `Authorization: Splunk <key>` header and records the query and body. A script can answer
//! the first data requests with 503, or expire every session key (one 401) after some requests.
//! Also accepts absolute-form targets (forward proxies).
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// What the server does.
#[derive(Debug, Clone, Default)]
pub struct Script {
    pub user: String,
    pub password: String,
    /// Data requests answered 503 before any is accepted.
    pub busy_first: usize,
    /// Every session key expires (one 401) after this many accepted data requests.
    pub expire_after: Option<usize>,
    /// Data requests answered 400 (refused for their content) after the busy ones.
    pub refuse_first: usize,
}

/// One accepted data request.
#[derive(Debug, Clone)]
pub struct Received {
    pub query: Vec<(String, String)>,
    pub authorization: String,
    pub body: String,
}

impl Received {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
pub struct State {
    pub logins: Mutex<Vec<Vec<(String, String)>>>,
    pub received: Mutex<Vec<Received>>,
    /// Every data request's status, in order.
    pub statuses: Mutex<Vec<u16>>,
    /// Session keys handed out and still valid (splunkd allows many sessions at once).
    keys: Mutex<Vec<String>>,
    keys_issued: AtomicUsize,
    accepted: AtomicUsize,
    data_requests: AtomicUsize,
    expired: AtomicBool,
}

pub struct SplunkdServer {
    pub port: u16,
    pub state: Arc<State>,
    stop: Arc<AtomicBool>,
}

impl SplunkdServer {
    pub fn start(script: Script) -> SplunkdServer {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        SplunkdServer::serve(l, script)
    }

    /// Serves on an already bound listener (to start late on a known port).
    pub fn serve(l: TcpListener, script: Script) -> SplunkdServer {
        let port = l.local_addr().unwrap().port();
        l.set_nonblocking(true).unwrap();
        let state = Arc::new(State::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (state.clone(), stop.clone());
        let script = Arc::new(script);
        thread::spawn(move || {
            while !sp.load(Ordering::SeqCst) {
                match l.accept() {
                    Ok((c, _)) => {
                        let (st, sc) = (st.clone(), script.clone());
                        thread::spawn(move || connection(c, &st, &sc));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        SplunkdServer { port, state, stop }
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }

    pub fn logins(&self) -> Vec<Vec<(String, String)>> {
        self.state.logins.lock().unwrap().clone()
    }

    pub fn statuses(&self) -> Vec<u16> {
        self.state.statuses.lock().unwrap().clone()
    }

    /// Every event line received, sorted.
    pub fn lines(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .received()
            .iter()
            .flat_map(|r| r.body.lines().map(str::to_string).collect::<Vec<_>>())
            .collect();
        v.sort();
        v
    }
}

impl Drop for SplunkdServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..(i + 3).min(b.len())]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn parse_form(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn connection(mut c: TcpStream, st: &State, script: &Script) {
    c.set_nonblocking(false).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 65536];
    loop {
        let head_end = loop {
            if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break p + 4;
            }
            match c.read(&mut chunk) {
                Ok(n) if n > 0 => buf.extend_from_slice(&chunk[..n]),
                _ => return,
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let mut first = lines.next().unwrap_or("").split(' ');
        let method = first.next().unwrap_or("").to_string();
        let mut target = first.next().unwrap_or("").to_string();
        if let Some(rest) = target.strip_prefix("http://") {
            target = rest[rest.find('/').unwrap_or(rest.len())..].to_string();
        }
        let mut headers: HashMap<String, String> = HashMap::new();
        for l in lines {
            if let Some((k, v)) = l.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        let len: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        while buf.len() < head_end + len {
            match c.read(&mut chunk) {
                Ok(n) if n > 0 => buf.extend_from_slice(&chunk[..n]),
                _ => return,
            }
        }
        let body = String::from_utf8_lossy(&buf[head_end..head_end + len]).into_owned();
        buf.drain(..head_end + len);
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let (status, reply) = answer(st, script, &method, path, query, &headers, body);
        let resp = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{reply}",
            reply.len()
        );
        if c.write_all(resp.as_bytes()).is_err() {
            return;
        }
    }
}

fn answer(
    st: &State,
    script: &Script,
    method: &str,
    path: &str,
    query: &str,
    headers: &HashMap<String, String>,
    body: String,
) -> (u16, String) {
    if method != "POST" {
        return (405, "<msg>POST only</msg>".into());
    }
    match path {
        "/services/auth/login" => {
            let form = parse_form(&body);
            st.logins.lock().unwrap().push(form.clone());
            let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
            if get("username").as_deref() != Some(script.user.as_str())
                || get("password").as_deref() != Some(script.password.as_str())
            {
                return (
                    401,
                    "<response><messages><msg type=\"WARN\">Login failed</msg></messages></response>"
                        .into(),
                );
            }
            let n = st.keys_issued.fetch_add(1, Ordering::SeqCst) + 1;
            let key = format!("key-{n}");
            st.keys.lock().unwrap().push(key.clone());
            (
                200,
                format!("<response>\n  <sessionKey>{key}</sessionKey>\n</response>\n"),
            )
        }
        "/services/receivers/simple" => {
            let n = st.data_requests.fetch_add(1, Ordering::SeqCst);
            let auth = headers.get("authorization").cloned().unwrap_or_default();
            let (status, reply) = if n < script.busy_first {
                (503, "<msg>busy</msg>".to_string())
            } else if n < script.busy_first + script.refuse_first {
                (
                    400,
                    "<response><messages><msg type=\"ERROR\">bad request</msg></messages></response>"
                        .to_string(),
                )
            } else if !st
                .keys
                .lock()
                .unwrap()
                .iter()
                .any(|k| auth == format!("Splunk {k}"))
            {
                (
                    401,
                    "<msg>call not properly authenticated</msg>".to_string(),
                )
            } else if script
                .expire_after
                .is_some_and(|e| st.accepted.load(Ordering::SeqCst) >= e)
                && !st.expired.swap(true, Ordering::SeqCst)
            {
                st.keys.lock().unwrap().clear();
                (401, "<msg>session expired</msg>".to_string())
            } else {
                st.accepted.fetch_add(1, Ordering::SeqCst);
                st.received.lock().unwrap().push(Received {
                    query: parse_form(query),
                    authorization: auth,
                    body,
                });
                (
                    200,
                    "<response><results><result><_raw/></result></results></response>".to_string(),
                )
            };
            st.statuses.lock().unwrap().push(status);
            (status, reply)
        }
        _ => (404, "<msg>not found</msg>".into()),
    }
}
