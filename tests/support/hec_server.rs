//! A small scriptable HEC server for tests: std::net, one thread per connection, HTTP/1.1
//! keep-alive with Content-Length bodies, gzip bodies, `/event`, `/raw` and `/ack`.
//!
//! A handler decides the answer to each data request (`Action`); accepted events are recorded
//! (for `/event` the parsed JSON objects, for `/raw` one `{"event":line,...query}` object per
//! line). With acks on, each accepted request gets an `ackId` per channel and the ack policy
//! says whether an id is acknowledged when polled (an acknowledged id is then forgotten).
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// One request as the handler sees it.
#[derive(Debug, Clone)]
pub struct Request {
    /// Number of this data request, from 0, across all connections.
    pub n: usize,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    /// The body, gunzipped if it was compressed.
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Number of JSON objects (/event) or lines (/raw) in the body.
    pub fn events(&self) -> usize {
        if self.path.ends_with("/raw") {
            self.body
                .split(|&b| b == b'\n')
                .filter(|l| !l.is_empty())
                .count()
        } else {
            serde_json::Deserializer::from_slice(&self.body)
                .into_iter::<serde_json::Value>()
                .count()
        }
    }
}

/// What the server does with a data request.
#[derive(Debug, Clone)]
pub enum Action {
    /// 200 Success (with an ackId when acks are on); the events are recorded.
    Accept,
    /// This status and body; nothing is recorded.
    Reply(u16, String),
    /// Close the connection without answering; nothing is recorded.
    Reset,
    /// Wait, then do the inner action.
    Delay(Duration, Box<Action>),
}

pub type Handler = Arc<dyn Fn(&Request) -> Action + Send + Sync>;
/// `(ack id, time since the request was accepted) -> acknowledged?`
pub type AckPolicy = Arc<dyn Fn(u64, Duration) -> bool + Send + Sync>;

#[derive(Default)]
pub struct State {
    pub events: Mutex<Vec<serde_json::Value>>,
    pub requests: Mutex<Vec<Request>>,
    pub data_requests: AtomicUsize,
    pub ack_polls: AtomicUsize,
    /// channel -> (next id, pending ids with acceptance time)
    acks: Mutex<HashMap<String, ChannelAcks>>,
}

/// Next ack id of a channel and its pending ids with their acceptance time.
type ChannelAcks = (u64, Vec<(u64, Instant)>);

pub struct HecServer {
    pub port: u16,
    pub state: Arc<State>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl HecServer {
    pub fn start(handler: impl Fn(&Request) -> Action + Send + Sync + 'static) -> HecServer {
        HecServer::start_on(0, Arc::new(handler), None)
    }

    pub fn start_with_acks(
        handler: impl Fn(&Request) -> Action + Send + Sync + 'static,
        policy: impl Fn(u64, Duration) -> bool + Send + Sync + 'static,
    ) -> HecServer {
        HecServer::start_on(0, Arc::new(handler), Some(Arc::new(policy)))
    }

    /// Listens on 127.0.0.1:`port` (0 for any free port).
    pub fn start_on(port: u16, handler: Handler, acks: Option<AckPolicy>) -> HecServer {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind test HEC server");
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let state = Arc::new(State::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (state.clone(), stop.clone());
        let accept = thread::spawn(move || {
            let mut conns = Vec::new();
            while !sp.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((s, _)) => {
                        let (st, sp, h, a) =
                            (st.clone(), sp.clone(), handler.clone(), acks.clone());
                        conns.push(thread::spawn(move || serve(s, st, sp, h, a)));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
            for c in conns {
                let _ = c.join();
            }
        });
        HecServer {
            port,
            state,
            stop,
            accept: Some(accept),
        }
    }

    /// The recorded events.
    pub fn events(&self) -> Vec<serde_json::Value> {
        self.state.events.lock().unwrap().clone()
    }

    /// The `event` texts recorded, sorted.
    pub fn texts(&self) -> Vec<String> {
        let mut t: Vec<String> = self
            .events()
            .iter()
            .map(|e| e["event"].as_str().unwrap_or_default().to_string())
            .collect();
        t.sort();
        t
    }

    pub fn requests(&self) -> Vec<Request> {
        self.state.requests.lock().unwrap().clone()
    }

    /// `{"servers":[...]}` naming this server over http.
    pub fn servers_json(&self, token: &str) -> String {
        format!(
            r#"{{"servers":[{{"protocol":"http","address":"127.0.0.1","port":{},"key":"{token}"}}]}}"#,
            self.port
        )
    }
}

impl Drop for HecServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(a) = self.accept.take() {
            let _ = a.join();
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn serve(
    mut s: TcpStream,
    state: Arc<State>,
    stop: Arc<AtomicBool>,
    handler: Handler,
    acks: Option<AckPolicy>,
) {
    s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16384];
    loop {
        // Read one request head and body.
        let head_end = loop {
            if let Some(p) = find(&buf, b"\r\n\r\n") {
                break p + 4;
            }
            if stop.load(Ordering::SeqCst) {
                return;
            }
            match s.read(&mut chunk) {
                Ok(0) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => return,
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        let mut lines = head.split("\r\n");
        let target = lines
            .next()
            .unwrap_or("")
            .split(' ')
            .nth(1)
            .unwrap_or("")
            .to_string();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| {
                l.split_once(':')
                    .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            })
            .collect();
        let len: usize = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        while buf.len() < head_end + len {
            if stop.load(Ordering::SeqCst) {
                return;
            }
            match s.read(&mut chunk) {
                Ok(0) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => return,
            }
        }
        let mut body = buf[head_end..head_end + len].to_vec();
        buf.drain(..head_end + len);
        let gz = headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("content-encoding") && v == "gzip");
        if gz {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&body[..])
                .read_to_end(&mut out)
                .expect("gzip body");
            body = out;
        }
        let (path, query) = match target.split_once('?') {
            Some((p, q)) => (p.to_string(), q.to_string()),
            None => (target.clone(), String::new()),
        };
        let channel = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("x-splunk-request-channel"))
            .map(|(_, v)| v.clone())
            .unwrap_or_default();

        if path == "/services/collector/ack" {
            state.ack_polls.fetch_add(1, Ordering::SeqCst);
            let Some(policy) = &acks else {
                respond(&mut s, 400, r#"{"text":"ACK is disabled","code":14}"#);
                continue;
            };
            let asked: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            let mut answer = serde_json::Map::new();
            let mut table = state.acks.lock().unwrap();
            let entry = table.entry(channel.clone()).or_default();
            for id in asked["acks"].as_array().cloned().unwrap_or_default() {
                let id = id.as_u64().unwrap_or(u64::MAX);
                let pos = entry.1.iter().position(|(i, _)| *i == id);
                let done = pos.is_some_and(|p| policy(id, entry.1[p].1.elapsed()));
                if done {
                    entry.1.remove(pos.unwrap());
                }
                answer.insert(id.to_string(), serde_json::Value::Bool(done));
            }
            drop(table);
            respond(
                &mut s,
                200,
                &serde_json::json!({ "acks": answer }).to_string(),
            );
            continue;
        }

        let n = state.data_requests.fetch_add(1, Ordering::SeqCst);
        let req = Request {
            n,
            path: path.clone(),
            query: query.clone(),
            headers,
            body,
        };
        state.requests.lock().unwrap().push(req.clone());
        let mut action = handler(&req);
        while let Action::Delay(d, inner) = action {
            thread::sleep(d);
            action = *inner;
        }
        match action {
            Action::Reset => {
                let _ = s.shutdown(std::net::Shutdown::Both);
                return;
            }
            Action::Reply(status, body) => respond(&mut s, status, &body),
            Action::Delay(..) => unreachable!(),
            Action::Accept => {
                record(&state, &req);
                let reply = match &acks {
                    Some(_) => {
                        let mut table = state.acks.lock().unwrap();
                        let entry = table.entry(channel.clone()).or_default();
                        let id = entry.0;
                        entry.0 += 1;
                        entry.1.push((id, Instant::now()));
                        format!(r#"{{"text":"Success","code":0,"ackId":{id}}}"#)
                    }
                    None => r#"{"text":"Success","code":0}"#.to_string(),
                };
                respond(&mut s, 200, &reply);
            }
        }
    }
}

fn record(state: &State, req: &Request) {
    let mut events = state.events.lock().unwrap();
    if req.path.ends_with("/raw") {
        let mut meta = serde_json::Map::new();
        for pair in req.query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            meta.insert(k.to_string(), serde_json::Value::String(percent_decode(v)));
        }
        for line in req.body.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let mut e = meta.clone();
            e.insert(
                "event".into(),
                serde_json::Value::String(String::from_utf8_lossy(line).into()),
            );
            events.push(serde_json::Value::Object(e));
        }
    } else {
        for v in serde_json::Deserializer::from_slice(&req.body).into_iter::<serde_json::Value>() {
            events.push(v.expect("valid JSON object in /event body"));
        }
    }
}

fn percent_decode(v: &str) -> String {
    let b = v.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(x) = u8::from_str_radix(&v[i + 1..i + 3], 16)
        {
            out.push(x);
            i += 3;
            continue;
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into()
}

fn respond(s: &mut TcpStream, status: u16, body: &str) {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let msg = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = s.write_all(msg.as_bytes());
}
