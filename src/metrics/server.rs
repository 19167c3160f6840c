//! `--metrics ADDR`: a minimal HTTP/1.1 server that answers `GET /metrics` (and `GET /`) with
//! [`Metrics::prometheus`].
//!
//! The accept loop runs on its own thread and looks at the end of the run at least every
//! [`POLL`]; each connection gets a thread of its own, so a slow client never holds another
//! scrape. A connection has [`REQUEST_DEADLINE`] for its whole request and answer (a client
//! that trickles bytes is dropped when it runs out), at most [`MAX_CONNECTIONS`] are served at
//! once (more are closed at once), and connection threads are never joined: the end of a run
//! or a SIGTERM waits for no client. `:PORT` binds loopback only; another interface must be
//! named (`0.0.0.0:9108`).

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::Metrics;
use crate::signal::Done;

/// How long a client has for its whole request and for reading the answer.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(2);
/// Connections served at once; a scraper needs one.
pub const MAX_CONNECTIONS: usize = 16;
/// How often the accept loop looks for connections (it wakes at once at the end of the run).
const POLL: Duration = Duration::from_millis(20);
/// Longest request head read.
const MAX_REQUEST: usize = 8192;

/// A bound listener, ready to serve.
pub struct MetricsServer {
    listener: TcpListener,
}

impl MetricsServer {
    /// Binds `addr` (`host:port`, `[::1]:port`, or `:port` for loopback).
    pub fn bind(addr: &str) -> io::Result<MetricsServer> {
        let spec = if addr.starts_with(':') {
            format!("127.0.0.1{addr}")
        } else {
            addr.to_string()
        };
        let addrs: Vec<SocketAddr> = spec.to_socket_addrs()?.collect();
        let listener = TcpListener::bind(&addrs[..])?;
        listener.set_nonblocking(true)?;
        Ok(MetricsServer { listener })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `done` is raised; the returned thread ends within [`POLL`] of that.
    pub fn spawn(self, metrics: Arc<Metrics>, done: Arc<Done>) -> io::Result<JoinHandle<()>> {
        let open = Arc::new(AtomicUsize::new(0));
        std::thread::Builder::new()
            .name("metrics".into())
            .spawn(move || {
                while !done.is_raised() {
                    match self.listener.accept() {
                        Ok((stream, _)) => serve(stream, &metrics, &open),
                        Err(_) => {
                            done.wait(POLL);
                        }
                    }
                }
            })
    }
}

/// Answers `stream` on a thread of its own, or closes it when [`MAX_CONNECTIONS`] are open.
fn serve(stream: TcpStream, metrics: &Arc<Metrics>, open: &Arc<AtomicUsize>) {
    if open.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
        open.fetch_sub(1, Ordering::SeqCst);
        return;
    }
    let (metrics, guard) = (metrics.clone(), Slot(open.clone()));
    let spawned = std::thread::Builder::new()
        .name("metrics-conn".into())
        .spawn(move || {
            let _guard = guard;
            let _ = answer(stream, &metrics, Instant::now() + REQUEST_DEADLINE);
        });
    // On failure the closure, and with it the slot, is dropped.
    drop(spawned);
}

/// One open connection; frees its slot when dropped.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Time left until `deadline`, or a timeout error.
fn left(deadline: Instant) -> io::Result<Duration> {
    let d = deadline.saturating_duration_since(Instant::now());
    if d.is_zero() {
        return Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "request deadline passed",
        ));
    }
    Ok(d)
}

fn answer(mut stream: TcpStream, metrics: &Metrics, deadline: Instant) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && !head.ends_with(b"\n\n") {
        stream.set_read_timeout(Some(left(deadline)?))?;
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
        if head.len() > MAX_REQUEST {
            return respond(
                &mut stream,
                "431 Request Header Fields Too Large",
                "",
                deadline,
            );
        }
    }
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = path.split('?').next().unwrap_or("");
    match (method, path) {
        ("GET", "/metrics" | "/") => {
            respond(&mut stream, "200 OK", &metrics.prometheus(), deadline)
        }
        ("GET", _) => respond(
            &mut stream,
            "404 Not Found",
            "not found; try /metrics\n",
            deadline,
        ),
        _ => respond(
            &mut stream,
            "405 Method Not Allowed",
            "only GET\n",
            deadline,
        ),
    }
}

fn respond(stream: &mut TcpStream, status: &str, body: &str, deadline: Instant) -> io::Result<()> {
    stream.set_write_timeout(Some(left(deadline)?))?;
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let mut all = head.into_bytes();
    all.extend_from_slice(body.as_bytes());
    stream.write_all(&all)?;
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(addr: SocketAddr) -> io::Result<String> {
        let mut s = TcpStream::connect(addr)?;
        s.set_read_timeout(Some(Duration::from_secs(5)))?;
        s.write_all(b"GET /metrics HTTP/1.1\r\n\r\n")?;
        let mut text = String::new();
        s.read_to_string(&mut text)?;
        Ok(text)
    }

    #[test]
    fn connections_past_the_cap_are_closed_and_idle_ones_time_out() {
        let server = MetricsServer::bind("127.0.0.1:0").unwrap();
        let addr = server.local_addr().unwrap();
        let done = Arc::new(Done::new());
        let metrics = Arc::new(crate::metrics::tests::metrics());
        let thread = server.spawn(metrics, done.clone()).unwrap();
        let idle: Vec<TcpStream> = (0..MAX_CONNECTIONS)
            .map(|_| TcpStream::connect(addr).unwrap())
            .collect();
        std::thread::sleep(Duration::from_millis(200));
        let refused = get(addr).unwrap_or_default();
        assert_eq!(
            refused, "",
            "a connection past the cap is closed unanswered"
        );
        // The idle ones run out of their deadline; then scrapes are answered again.
        std::thread::sleep(REQUEST_DEADLINE + Duration::from_millis(300));
        let page = get(addr).unwrap();
        assert!(page.starts_with("HTTP/1.1 200 OK"), "{page}");
        drop(idle);
        let asked = Instant::now();
        done.raise();
        thread.join().unwrap();
        assert!(asked.elapsed() < Duration::from_millis(100));
    }
}
